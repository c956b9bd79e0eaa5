"""Phrase families: how servers word each failure, as combinations rather than single samples.

Each line is a family in the matcher's notation (`{a|b}` one of several words, `*` a short gap),
built from the parts servers combine: a negation or judgement and the thing it is about, in
either order ("no such user", "user unknown", "recipient not recognized", "addressee unknown",
"BAD_RECIPIENT"). The parts follow RFC 3463's subjects (X.1 addressing, X.2 mailbox, X.4
routing) and the wordings of RFC 5321 §4.2 replies and providers' published reply-code pages
(Gmail's SMTP error reference, Microsoft's Exchange Online NDR codes, Yahoo's and Apple's
postmaster pages, Postfix's and Exim's documented reject texts).
"""

from __future__ import annotations

# Who or what a reply says is missing: the recipient's address, mailbox or account.
_ADDRESSEE = (
    "{user|users|mailbox|mail box|mail-box|recipient|recipients|addressee|account|address"
    "|email address|e-mail address|mail address|recipient address|destination address"
    "|destination mailbox|local user|local part|local-part|user name|username|user account"
    "|mailbox name|person|email account|e-mail account}"
)
_MISSING_BEFORE = (
    "{no such|unknown|invalid|non-existent|nonexistent|non existent|non-existing|inexistent"
    "|unrecognized|unrecognised|unregistered|bad}"
)
_MISSING_AFTER = (
    "{unknown|is unknown|not known|is not known|not found|was not found|could not be found"
    "|couldn't be found|cannot be found|can't be found|does not exist|doesn't exist"
    "|does not exist here|not exist|not exists|dont exist|don't exist|no longer exists"
    "|is invalid|not valid|is not valid|not recognized|not recognised|is not recognized"
    "|is not recognised|unrecognized|not registered|is not registered|non-existent"
    "|nonexistent|not present|is not present|not listed|is not listed|not on file}"
)
# A domain or host the sending system could not find (RFC 3463 X.1.2, X.4.4).
_DOMAIN = (
    "{host|domain|domain name|hostname|host name|mail domain|recipient domain"
    "|destination domain|destination host|remote host|recipient's domain}"
)

FAMILIES: dict[str, tuple[str, ...]] = {
    "mailboxfull": (
        # RFC 3463 X.2.2 "mailbox full"; Gmail 4.2.2/5.2.2 "inbox is out of storage space"
        "{mailbox|mail box|inbox|account|mail folder|mailfolder|folder|user|recipient|mailbox"
        " storage} {is full|full|is over quota|over quota|is overquota|overquota|over its quota"
        "|has exceeded its quota|exceeded its quota|has exceeded its storage|is out of storage"
        "|out of storage space|has reached its limit|quota exceeded|storage exceeded}",
        "{quota|storage quota|disk quota|mailbox quota|storage space} {exceeded|is exceeded"
        "|has been exceeded|full|is full|used up|limit reached|limit exceeded}",
    ),
    "mesgtoobig": (
        # RFC 3463 X.3.4 "message too big for system"; RFC 1870 SIZE
        "{maximum|max} {email|message|mail} size {exceeded|limit exceeded|reached}",
        "{email|message|mail} size {exceeds|exceeded|is too large|too large|limit exceeded}",
    ),
    "suspend": (
        # RFC 3463 X.2.1 "mailbox disabled, not accepting messages"; Gmail 5.2.1 "disabled"
        "{account|mailbox|mail box|user|recipient|address|e-mail account|email account}"
        " {is |has been |was |}{temporarily |permanently |}{disabled|suspended|deactivated"
        "|inactive|locked|frozen|closed"
        "|terminated|discontinued|no longer active|not active|expired|on hold}",
        "{disabled|suspended|deactivated|inactive|locked|frozen|closed|expired}"
        " {account|mailbox|mail box|user}",
    ),
    "hostunknown": (
        # Postfix "Host or domain name not found", resolver "Name or service not known",
        # "NXDOMAIN"; RFC 3463 X.1.2 "bad destination system address"
        f"{{unknown|invalid|no such|non-existent|nonexistent|unresolvable|unroutable|unrouteable}}"
        f" {_DOMAIN}",
        f"{_DOMAIN} {{unknown|is unknown|not known|not found|could not be found|couldn't be found"
        "|cannot be found|can't be found|does not exist|doesn't exist|is invalid|not valid"
        "|does not resolve|not resolvable|lookup failed}",
        "{dns domain|mail domain|recipient domain|domain} * {does not exist|doesn't exist}",
        "{name or service|nodename nor servname} not known",
        "no address associated with {hostname|host name|name}",
    ),
    "userunknown": (
        # RFC 5321 §3.6: 550 "no such user"; RFC 3463 X.1.1 "bad destination mailbox address";
        # Exchange 5.1.10 "RecipientNotFound"; Gmail 5.1.1 "account ... does not exist"
        f"{_MISSING_BEFORE} {_ADDRESSEE}",
        f"{_ADDRESSEE} {_MISSING_AFTER}",
        "no {user|mailbox|mail box|account|recipient|such user|such recipient|such address}"
        " {found|here|by that name|with that name|exists|registered|available for this user"
        "|available for this address|at this address|on this system}",
        "{bad|unknown|invalid|no_such|no such}{_|-}{recipient|user|mailbox|address}",
        "{recipient|addressee|user} {name |address |}{is not|isn't} {known|recognized|valid}",
    ),
    "rejected": (
        # RFC 3463 X.1.7/X.1.8 "bad sender's mailbox / system address": about the sender;
        # qmail's badmailfrom; Exchange's delivery restrictions (RESOLVER.RST.*)
        "{sender|envelope sender|sender's|return path|mail from} {address |domain |mailbox |}"
        "{is |was |}{rejected|refused|invalid|unknown|not allowed|not accepted|denied"
        "|does not exist|not found|unverifiable|not verified}",
        "{your |}envelope sender is {in|on|listed}",
        "badmailfrom",
        "sender not {authenticated|authorized|allowed} {for|to send to} {group|this group"
        "|the group|distribution list|this list}",
        "resolver.rst.",
    ),
    "authfailure": (
        # RFC 7208 SPF, RFC 6376 DKIM, RFC 7489 DMARC results named in the reply
        "{spf|dkim|dmarc} {sender |check |validation |record |signature |policy |}{invalid"
        "|fail|failed|failure|error|hardfail|hard fail|softfail|rejected|mismatch|not valid}",
        "{failed|failing|did not pass|does not pass} {spf|dkim|dmarc}",
    ),
    "requireptr": (
        # Postfix reject_unknown_client_hostname: "cannot find your reverse hostname"
        "{cannot|can't|could not|unable to} {find|resolve|verify} your {reverse |}{hostname"
        "|host name|ptr|reverse dns|ip address}",
        "{no|missing|invalid} {reverse dns|ptr record|rdns}",
    ),
    "badreputation": (
        # Yahoo TSS04 "temporarily deferred due to user complaints"
        "{deferred|blocked|rejected|limited|throttled} due to {user complaints|complaints"
        "|poor reputation|low reputation|bad reputation|reputation}",
    ),
    "blocked": (
        # the connecting host refused as such (RFC 5321 §3.1 554 at the greeting)
        "{your |the |}{host|ip|ip address|server|client|client host} {is |}not {allowed|permitted}"
        " to {connect|send|relay mail}",
    ),
    "speeding": (
        # Apple iCloud "deferred due to excessive volume"; Exchange "thread limit exceeded"
        "{deferred|throttled|limited|rejected|delayed} due to {excessive|high|unusual|unexpected}"
        " {volume|traffic|rate|sending rate|message rate}",
        "{recipient |}thread limit exceeded",
    ),
    "toomanyconn": (
        # Yahoo "Max message per connection reached"
        "{max|maximum} {message|messages|mail|mails|recipients} per {connection|session}",
    ),
    "contenterror": (
        # amavis BAD_HEADER, RFC 5322 header faults, Exchange's bare linefeeds
        "{bad|invalid|malformed}{_| }header",
        "bare {linefeeds|line feeds|lf|cr}",
    ),
    "systemfull": (
        # RFC 5321 §4.2.2: 452 "insufficient system storage"; sendmail's low disk space;
        # Exim "space shortage"
        "{insufficient|not enough|low} {system storage|disk space|system resources}",
        "space shortage",
    ),
    "mailererror": (
        # Postfix pipe(8) "Command died with signal", Exim "Child process of ... returned"
        "{command|child process|program|pipe|delivery agent} {died|exited|crashed|terminated}"
        " {with|on|after}",
        "child process of * returned",
    ),
    "expired": (
        # RFC 3463 X.4.7 "delivery time expired"; Exim "retry timeout exceeded"
        "{delivery time|retry time|retry timeout|message lifetime|queue lifetime}"
        " {expired|exceeded|has expired|was exceeded}",
        "{message|mail} {expired|has expired|timed out in the queue}",
        "{could not be delivered|undeliverable|not delivered} {for|within|after} * {days|hours}",
    ),
}

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
        " storage} {is full|full|is over quota|over quota|over its quota|has exceeded its quota"
        "|exceeded its quota|has exceeded its storage|is out of storage|out of storage space"
        "|has reached its limit|quota exceeded|storage exceeded}",
        "{quota|storage quota|disk quota|mailbox quota|storage space|disk space} {exceeded"
        "|is exceeded|has been exceeded|full|is full|used up|limit reached|limit exceeded}",
        "{insufficient|not enough} {storage|disk space|space|system storage}",
    ),
    "suspend": (
        # RFC 3463 X.2.1 "mailbox disabled, not accepting messages"; Gmail 5.2.1 "disabled"
        "{account|mailbox|mail box|user|recipient|address|e-mail account|email account}"
        " {is |has been |was |}{disabled|suspended|deactivated|inactive|locked|frozen|closed"
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
        "{name or service|name service|nodename nor servname} {not known|error for name}",
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
        # RFC 3463 X.1.7/X.1.8 "bad sender's mailbox / system address": about the sender
        "{sender|envelope sender|sender's|return path|mail from} {address |domain |mailbox |}"
        "{is |was |}{rejected|refused|invalid|unknown|not allowed|not accepted|denied"
        "|does not exist|not found|unverifiable|not verified}",
    ),
    "expired": (
        # RFC 3463 X.4.7 "delivery time expired"; Exim "retry timeout exceeded"
        "{delivery time|retry time|retry timeout|message lifetime|queue lifetime}"
        " {expired|exceeded|has expired|was exceeded}",
        "{message|mail} {expired|has expired|timed out in the queue}",
        "{could not be delivered|undeliverable|not delivered} {for|within|after} * {days|hours}",
    ),
}

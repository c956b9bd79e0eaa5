"""Gmail and Google Workspace: the replies Google documents, phrase by phrase.

Sources: "SMTP error reference" (https://support.google.com/a/answer/3726730), the email
sender guidelines (https://support.google.com/mail/answer/81126) and the SMTP relay error
messages (https://support.google.com/a/answer/6140680). Google's inbound servers write
"<code> <status> <sentence>. For more information, go to ..."; the sentence decides.
Workspace's own outbound relay reports DNS failures in its own words.
"""

from __future__ import annotations

from bouncer.core.rules.provider_model import Provider, Rule, rules

# fmt: off
GOOGLE_RULES = (
    Rule("exceedlimit", ("exceeded google's message size limits",), ("5.2.3",)),
    Rule("notcompliantrfc", ("is not a valid rfc 5321 address",), ("5.1.7",)),
    *rules((
        ("authfailure", (
            "the spf record of the sending domain",
            "senders to authenticate with either spf or dkim",
            "fails to pass spf checks for an spf record with a hard fail",
            "has an spf record with a hard fail policy",
            "is not accepted due to domain's dmarc policy",
            "fails to pass authentication checks", "senders to authenticate with spf",
            "senders to authenticate their email with spf",
            "senders to authenticate their email with dkim",
            "senders to authenticate with dkim",
            "aligned with either the authenticated spf or dkim",
            "to add a dmarc record to ",
        )),
        ("requireptr", (
            "does not have a ptr record", " have a ptr record, or the ptr record",
            "does not meet ipv6 sending guidelines regarding ptr records",
            "does not match the ip address of the hostname",
        )),
        ("badreputation", (
            "very low reputation of the sending ip address",
            "very low reputation of the sending domain",
        )),
        ("blocked", (
            "ip not in whitelist for rcpt domain", "try again later, closing connection.",
            "empty helo/ehlo argument not allowed", "helo/ehlo argument is invalid",
            "an unusual rate of unsolicited mail", "an unusual rate of mail",
        )),
        ("spamdetected", (
            "due to the nature of the content or the links within", "likely unsolicited mail",
        )),
        ("policyviolation", (
            "illegal attachment on your message",
            "blocked because its content presents a potential security issue",
            "you are sending to (or from) has a policy that prohibited",
            "sending messages with the same message-id:",
        )),
        ("notcompliantrfc", (
            "missing a valid address in the from: header",
            "multiple addresses in from: header are not accepted",
            "is not rfc 5322 compliant", "missing a valid message-id: header",
            "contains a unicode character in a disallowed header",
            "encoded-word syntax is not permitted",
            "mail message is malformed",
        )),
        ("failedstarttls", (
            "must issue a starttls command first", "starttls may not be repeated",
            "tls required for rcpt domain", "senders to use tls/ssl for smtp",
        )),
        ("norelaying", (
            "mail relay denied", "invalid credentials for relay",
            "is not authorized to send email directly to our servers",
        )),
        ("rejected", ("mail sending denied", "unauthenticated email is not accepted")),
        ("securityerror", (
            "too many login attempts", "cannot decode response", "no identity changes permitted",
            "authentication required.", "application-specific password required",
            "please log in with your web browser", "please log in through your web browser",
            "username and password not accepted",
        )),
        ("userunknown", (
            "the email account that you tried to reach does not exist",
            "we weren't able to find the recipient domain", "is not a valid rfc 5321 address",
        )),
        ("suspend", (
            "account that you tried to reach is disabled",
            "account that you tried to reach is inactive",
        )),
        ("mailboxfull", ("inbox is out of storage space", "is over quota", "email quota exceeded")),
        ("mesgtoobig", (
            "exceeded google's message size limits", "exceeds google's message size limit of",
        )),
        ("exceedlimit", (
            "exceeds google's limit of", "message header size limit",
            "bytes per individual header size", "exceeds google's header name limit of",
        )),
        ("speeding", (
            "is receiving mail too quickly", "peak smtp relay limit exceeded for customer",
            "rate that prevents additional messages from being delivered",
            "daily sending quota exceeded",
            "daily user sending limit exceeded", "daily smtp relay limit exceeded for",
            "daily smtp relay sending limit exceeded for", "this mail has been rate limited",
        )),
        ("toomanyconn", (
            "your message has too many recipients", "too many recipients for this sender",
        )),
        ("networkerror", ("message exceeded 50 hops",)),
        ("expired", ("connection expired", "timeout - closing connection")),
        ("systemerror", (
            "temporary system problem", "server busy",
            "multiple destination domains per transaction is unsupported",
            "mail server has temporarily rejected this message",
            "mail server temporarily rejected message",
            "domain policy size per transaction exceeded",
        )),
        ("syntaxerror", (
            "smtp protocol violation", "optional argument not permitted", "syntax error",
            "too many unrecognized commands, goodbye", "unimplemented command",
            "unrecognized command",
            "bad sequence of commands", "ehlo/helo first", "mail first", "rcpt first",
            "no data after bdat", "unrecognized authentication type",
            "xoauth is no longer supported",
            "too many unauthenticated commands",
        )),
    )),
)

# Workspace's outbound relay: a lookup that failed for good names an unknown host; while it
# may still succeed (4.x.x) the same words are a network error.
WORKSPACE_RULES = (
    Rule("hostunknown", (" responded with code nxdomain", "domain name not found"), ("5.",)),
    Rule("networkerror", (" had no relevant answers.", "responded with code nxdomain",
                          "domain name not found"), ("4.",)),
    Rule("notaccept", ("null mx",)),
    Rule("userunknown", ("because the address couldn't be found. check for typos",)),
)
# fmt: on

GOOGLE = Provider(
    "google",
    domains=("gmail.com", "googlemail.com"),
    hosts=("aspmx.l.google.com", "gmail-smtp-in.l.google.com"),
    rules=GOOGLE_RULES,
)
WORKSPACE = Provider("workspace", domains=(), hosts=("googlemail.com",), rules=WORKSPACE_RULES)

"""Microsoft: Exchange Online / Microsoft 365, Exchange Server, Outlook.com and Hotmail.

Sources: "Email non-delivery reports and SMTP errors in Exchange Online"
(https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online),
"Exchange Server NDRs" (https://technet.microsoft.com/library/bb232118) and the Outlook.com
postmaster troubleshooting codes (RP-001, SC-001, DY-001, OU-001 ...). Exchange writes an
enhanced status with a resolver keyword and a sentence; short, common sentences are trusted
only under the status code Microsoft documents them with.
"""

from __future__ import annotations

from bouncer.core.rules.provider_model import Provider, Rule, rules
from bouncer.core.rules.regex_cache import pattern

# fmt: off
# Common words that mean something specific only under Microsoft's documented status code.
GUARDED = (
    Rule("userunknown", ("user unknown",), ("5.1.1",)),
    Rule("rejected", ("invalid address", "unknown sender address"), ("5.1.7",)),
    Rule("rejected", ("sender denied",), ("5.1.0",)),
    Rule("securityerror", ("not authorized",), ("5.7.3",)),
    Rule("norelaying", ("does not exist",), ("5.4.310",)),
    Rule("expired", ("message expired",), ("4.4.7", "5.4.300", "5.4.316")),
    Rule("expired", ("message delayed",), ("4.4.7",)),
    Rule("expired", ("connection timed out",), ("4.4.1",)),
    Rule("blocked", ("connection dropped",), ("4.4.2",)),
    Rule("toomanyconn", ("too many recipients",), ("5.5.3", "4.5.3")),
    Rule("contenterror", ("invalid characters",), ("5.6.11",)),
    Rule("mailboxfull", ("mailbox full",), ("5.2.2",)),
    Rule("networkerror", ("connection refused",), ("4.4.316", "5.4.316")),
    Rule("networkerror", ("invalid arguments",), ("5.4.4",)),
    Rule("blocked", ("invalid domain name",), ("5.5.4",)),
    Rule("systemerror", ("service not available", "service not active"), ("4.3.2",)),
)

EXCHANGE_RULES = GUARDED + rules((
    ("authfailure", (
        "must pass either spf or dkim validation, this message is not signed",
        "the message was rejected because of sender policy framework violation",
        "does not pass dmarc verification", "doesn't meet the required authentication level",
    )),
    ("badreputation", ("has been temporarily rate limited due to ip reputation",)),
    ("policyviolation", (
        "delivery not authorized, message refused", "x-dg-ref header is too long",
        "requested action not taken: policy violation detected (as345)",
    )),
    ("blocked", (
        "access denied, please try again later", "must have a reverse dns record",
        "access denied, bad helo", "access denied, rejected by recipient",
        "does not accept email over ipv6", "access denied, banned sending ip ",
        "using customer block list", "part of their network is on our block list (s3150)",
    )),
    ("rejected", (
        "access denied, bad outbound sender", "sender was not authenticated by organization",
        "sender not in allowed-senders list", "sender not authenticated for group",
        "sender was not authenticated for mailbox",
        "sender was not authenticated for public folder",
        "sender was not authenticated", "access denied, spam abuse detected",
        "access denied, banned sender", "message must be rfc 5322 section 3.6.2 compliant",
        "client blocked from sending from unregistered domains", "delivery not authorized",
    )),
    ("contenterror", (
        "too many related errors", "agent generated message depth exceeded",
        "invalid message content",
    )),
    ("mesgtoobig", (
        "message too large for this recipient", "message size exceeds fixed maximum message size",
        "message too big for system",
    )),
    ("expired", ("queue expired; message expired",)),
    ("failedstarttls", (
        " failed mta-sts validation", "starttls is required to send mail",
        "restrictdomainstoipaddresses or restrictdomainstocertificate", "starttls-not-supported:",
        "certificate-expired:", "tlsa-invalid:", "dnssec-invalid:", "certificate-host-mismatch:",
    )),
    ("networkerror", (
        "smtpsend.dns.nonexistentdomain; nonexistent domain",
        "hop count exceeded - possible mail loop",
        "dns query failed", "routing loop detected",
    )),
    ("norelaying", (
        "unable to relay", "tenantattribution; relay access denied", "relay access denied",
    )),
    ("notaccept", (
        "system not accepting network messages",
        "hosted tenant which has no mail-enabled subscriptions",
        "storedrv.deliver: missing or bad storedriver mdb properties",
    )),
    ("securityerror", (
        "cannot achieve exchange server authentication", "client was not authenticated",
    )),
    ("spamdetected", ("content filter agent quarantined this message",)),
    ("speeding", (
        "recipient thread limit exceeded", "reached your daily limit for message recipients",
        "submission quota exceeded", "recipient's per hour message receive limit",
        "the recipient has exceeded their limit for", "has exceeded permitted limits within",
        "tenant has exceeded threshold", "traffic not accepted from this ip",
    )),
    ("toomanyconn", ("has exceeded the maximum number of connections",)),
    ("suspend", (
        "access denied, banned recipient", "mailbox cannot be accessed",
    )),
    ("userunknown", (
        "resolver.adr.exrecipnotfound", "storedrv.submit; invalid recipient address",
        "recipient address reserved by rfc 2606",
        "recipient addresses in single label domains not accepted",
        "bad destination mailbox address", "recipient not found",
        "recipient address rejected: access denied",
        "requested action not taken: mailbox unavailable",
        "invalid x.400 address", "remote server returned unknown recipient or mailbox unavailable",
    )),
    ("syntaxerror", ("unrecognized command", "send hello first")),
    ("systemerror", (
        "system incorrectly configured", "when journaling archive is disabled",
        "helo / ehlo requires domain address", "destination mailbox address ambiguous",
        "mailing list expansion problem", "misconfigured forwarding address",
        "message failed to be replicated:", "temporary server error. please try again later",
        "(suspiciousremoteservererror)", "server busy. please try again later from ",
        "pfa agent busy, please try again.",
    )),
    ("systemfull", ("insufficient system resources",)),
))

# Outlook.com postmaster codes, written in the reply text ("550 SC-001 ...").
OUTLOOK_CODES = {
    "rp-001": "badreputation", "rp-002": "badreputation", "rp-003": "badreputation",
    "sc-001": "badreputation", "sc-002": "policyviolation", "sc-003": "blocked",
    "sc-004": "blocked", "dy-001": "blocked", "dy-002": "virusdetected",
    "ou-001": "blocked", "ou-002": "badreputation",
}
# fmt: on
OUTLOOK_CODE = pattern(r"(?<![a-z0-9])((?:rp|sc|dy|ou)-00\d)(?![0-9])")

MICROSOFT = Provider(
    "microsoft",
    domains=("outlook.com",),
    hosts=("prod.outlook.com", "protection.outlook.com", "onmicrosoft.com", "exchangelabs.com"),
    rules=EXCHANGE_RULES,
    code_pattern=OUTLOOK_CODE,
    codes=OUTLOOK_CODES,
)
OUTLOOK = Provider(
    "outlook",
    domains=("hotmail.com", "live.com", "msn.com"),
    hosts=("hotmail.com",),
    rules=(
        Rule(
            "hostunknown",
            ("could not be delivered to the recipient because the domain is not reachable",),
        ),
        Rule("userunknown", ("requested action not taken: mailbox unavailable",)),
    ),
    code_pattern=OUTLOOK_CODE,
    codes=OUTLOOK_CODES,
)

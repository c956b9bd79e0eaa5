"""Code tables: RFC 3463 status → reason, SMTP reply code → reason."""

from __future__ import annotations

# RFC 3463 / IANA enhanced status codes that name a reason on their own. Codes whose meaning
# depends on the text (x.0.0, x.3.0, x.4.0 ...) are left out on purpose.
STATUS_REASONS: dict[str, str] = {
    "2.1.5": "delivered",
    "4.1.6": "hasmoved",
    "4.1.7": "rejected",
    "4.1.8": "rejected",
    "4.1.9": "systemerror",
    "4.2.1": "suspend",  # RFC 3463 X.2.1: mailbox disabled, not accepting messages
    "4.2.2": "mailboxfull",
    "4.2.3": "exceedlimit",
    "4.2.4": "filtered",
    "4.3.0": "systemerror",
    "4.3.1": "systemfull",
    "4.3.2": "notaccept",
    "4.3.3": "systemerror",
    "4.3.5": "systemerror",
    "4.4.1": "expired",
    "4.4.2": "networkerror",
    "4.4.3": "systemerror",
    "4.4.4": "networkerror",
    "4.4.5": "systemfull",
    "4.4.6": "networkerror",
    "4.4.7": "expired",
    "4.4.8": "networkerror",
    "4.5.3": "systemerror",
    "4.5.5": "systemerror",
    "4.6.0": "contenterror",
    "4.6.2": "contenterror",
    "4.6.5": "contenterror",
    "4.7.1": "blocked",
    "4.7.2": "blocked",
    "4.7.5": "securityerror",
    "4.7.6": "securityerror",
    "4.7.7": "securityerror",
    "4.7.12": "securityerror",
    "4.7.15": "securityerror",
    "4.7.16": "mesgtoobig",
    "4.7.24": "authfailure",
    "4.7.25": "requireptr",
    "4.7.26": "authfailure",
    "5.1.0": "userunknown",
    "5.1.1": "userunknown",
    "5.1.2": "hostunknown",
    "5.1.3": "userunknown",
    "5.1.4": "filtered",
    "5.1.6": "hasmoved",
    "5.1.7": "rejected",
    "5.1.8": "rejected",
    "5.1.9": "systemerror",
    "5.1.10": "userunknown",  # RFC 7505 null MX, but Exchange Online sends it for unknown users
    "5.2.0": "filtered",
    "5.2.1": "suspend",
    "5.2.2": "mailboxfull",
    "5.2.3": "exceedlimit",
    "5.2.4": "filtered",
    "5.3.0": "systemerror",
    "5.3.1": "systemfull",
    "5.3.2": "notaccept",
    "5.3.3": "systemerror",
    "5.3.4": "mesgtoobig",
    "5.3.5": "systemerror",
    "5.4.0": "networkerror",
    "5.4.3": "systemerror",
    "5.4.4": "hostunknown",
    "5.4.6": "networkerror",
    "5.4.7": "expired",
    "5.5.2": "syntaxerror",
    "5.5.3": "toomanyconn",
    "5.5.4": "systemerror",
    "5.5.5": "systemerror",
    "5.5.6": "syntaxerror",
    "5.6.0": "contenterror",
    "5.6.1": "contenterror",
    "5.6.2": "contenterror",
    "5.6.3": "contenterror",
    "5.6.5": "contenterror",
    "5.6.6": "contenterror",
    "5.6.7": "contenterror",
    "5.6.8": "contenterror",
    "5.6.9": "contenterror",
    "5.7.0": "securityerror",
    "5.7.1": "securityerror",
    "5.7.2": "securityerror",
    "5.7.3": "securityerror",
    "5.7.4": "securityerror",
    "5.7.5": "securityerror",
    "5.7.6": "securityerror",
    "5.7.7": "securityerror",
    "5.7.8": "securityerror",
    "5.7.9": "securityerror",
    "5.7.10": "securityerror",
    "5.7.11": "securityerror",
    "5.7.13": "suspend",
    "5.7.14": "securityerror",
    "5.7.15": "securityerror",
    "5.7.16": "mesgtoobig",
    "5.7.17": "hasmoved",
    "5.7.18": "hasmoved",
    "5.7.19": "securityerror",
    "5.7.20": "authfailure",
    "5.7.21": "authfailure",
    "5.7.22": "authfailure",
    "5.7.23": "authfailure",
    "5.7.24": "authfailure",
    "5.7.25": "requireptr",
    "5.7.26": "authfailure",
    "5.7.27": "notaccept",
    "5.7.28": "spamdetected",
    "5.7.29": "authfailure",
}

# Status-implied reasons too vague to stand against a diagnostic text that names a reason:
# for these the text decides; for every other status reason the higher-ranked one wins.
WEAK_STATUS_REASONS: frozenset[str] = frozenset(
    {"securityerror", "systemerror", "networkerror", "filtered", "contenterror"}
)

# Bare SMTP reply codes that name a reason when nothing else does (RFC 5321, RFC 7504).
REPLY_REASONS: dict[str, str] = {
    "521": "notaccept",
    "556": "notaccept",
    "525": "suspend",
    "552": "mailboxfull",
    "530": "securityerror",
    "535": "securityerror",
}


def status_reason(status: str | None) -> str | None:
    """Return the reason an RFC 3463 status code names by itself, or None.

    A permanent addressing code with an unregistered detail (Exchange's 5.1.351 ...) counts
    as a bad destination address, a content code (X.6.x) as a content error.
    """
    if not status:
        return None
    found = STATUS_REASONS.get(status)
    if found is None and status.startswith("5.1.") and status not in ("5.1.7", "5.1.8"):
        return "userunknown"
    if found is None and status[1:4] == ".6.":
        return "contenterror"  # X.6.x: media/content, whatever vendor detail (5.6.11 ...)
    return found


def reply_reason(reply_code: str | None) -> str | None:
    """Return the reason a bare SMTP reply code names by itself, or None."""
    if not reply_code:
        return None
    if reply_code in REPLY_REASONS:
        return REPLY_REASONS[reply_code]
    if reply_code[0] in "45" and reply_code[1:3] in ("01", "02", "03", "04"):
        return "syntaxerror"
    return None

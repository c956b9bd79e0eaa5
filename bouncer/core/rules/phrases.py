"""How servers phrase each failure in English, and the order in which reasons take precedence.

Phrases are lower-case; `*` is a short gap of any characters. Order matters: when a text
matches phrases of several reasons, the reason listed first in REASON_ORDER wins. Specific
causes (a full mailbox, a size limit, a suspended account) come before the generic ones they
are often wrapped in ("rejected", "blocked", "policy").
"""

from __future__ import annotations

from bouncer.core.rules.families import FAMILIES
from bouncer.core.rules.phrases_recipient import RECIPIENT_SIDE
from bouncer.core.rules.phrases_transport import TRANSPORT_SIDE

REASON_ORDER: tuple[str, ...] = (
    "mailboxfull",
    "exceedlimit",
    "mesgtoobig",
    "suspend",
    "hasmoved",
    "norelaying",
    "authfailure",
    "requireptr",
    "badreputation",
    "toomanyconn",
    "speeding",
    "rejected",
    "notaccept",
    "hostunknown",
    "networkerror",
    "filtered",
    "userunknown",
    "notcompliantrfc",
    "contenterror",
    "virusdetected",
    "spamdetected",
    "blocked",
    "policyviolation",
    "systemfull",
    "systemerror",
    "expired",
    "securityerror",
    "syntaxerror",
    "mailererror",
    "vacation",
)

# fmt: off

ENGLISH: dict[str, tuple[str, ...]] = {
    reason: sum((table.get(reason, ()) for table in (RECIPIENT_SIDE, TRANSPORT_SIDE, FAMILIES)), ())
    for reason in {**RECIPIENT_SIDE, **TRANSPORT_SIDE, **FAMILIES}
}

# fmt: off
# Broad words that name a reason only when nothing more specific matched: they rank below
# every row of the ordered table, in this order.
GENERIC: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("expired", (
        "in the queue too long",
    )),
    ("userunknown", (
        # RFC 5321 §4.2.2 gives "mailbox unavailable" as the text of any 550: an unknown
        # mailbox, no access, or a policy refusal; a status code says which.
        "does not exist", "doesn't exist", "mailbox unavailable", "mailbox is unavailable",
        "mailbox not available", "mailbox * unavailable",
    )),
    ("spamdetected", (
        "spam",
    )),
    ("blocked", (
        "blocked", "has been blocked", "denied by", "your ip", "ip address", "ehlo", "helo",
        "listed in", "listed at", "listed on", "is listed", "temporarily deferred",
    )),
    ("policyviolation", (
        "policy",
    )),
    ("securityerror", (
        "not authorized", "access denied", "unauthorized",
    )),
    ("systemerror", (
        "try again later", "temporary failure", "temporarily unavailable", "service unavailable",
        "temporary error", "temporary problem",
    )),
)
# fmt: on

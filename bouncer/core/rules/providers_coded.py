"""Providers that print their own error codes in the reply: the code decides the reason.

Cox ("AUP#CXBL", https://www.cox.com/residential/support/cox-postmaster-email-administration.html),
Spectrum/Charter ("AUP#I-1000", https://www.spectrumbusiness.net/support/internet/understanding-email-error-codes),
Orange and La Poste ("OFR006_102", "LPN007_416", https://www.postmastery.com/orange-postmaster-smtp-error-codes-ofr/),
GoDaddy ("IB212", https://ca.godaddy.com/help/fix-rejected-email-with-a-bounce-error-40685),
I.UA ("https://mail.i.ua/err/2/") and Facebook ("RCP-P1", https://www.facebook.com/postmaster/response_codes).
Where a reply carries no code, the provider's documented sentences still name the reason.
"""

from __future__ import annotations

from bouncer.core.rules.provider_model import Provider, Rule, code_range, rules
from bouncer.core.rules.regex_cache import pattern

# fmt: off
COX_CODES = {
    "cxbl": "blocked", "cxdns": "requireptr", "cxsndr": "authfailure", "cxsmtp": "rejected",
    "cxcnct": "toomanyconn", "cxmxrt": "toomanyconn", "cdrbl": "blocked",
    "cxthrt": "securityerror", "cxmj": "securityerror", "ipbl00001": "blocked",
    **{f"ipbl{bits}": "blocked" for bits in (
        "0001", "0010", "0100", "0011", "0101", "0110", "0111",
        "1000", "1001", "1010", "1011", "1100", "1101", "1110", "1111",
    )},
    "urlbl011": "spamdetected", "urlbl101": "spamdetected", "urlbl110": "spamdetected",
    "urlbl1001": "spamdetected",
}
COX_RULES = rules((
    ("blocked", ("cox too many bad commands from", "too many invalid recipients")),
    ("requireptr", ("dns check failure - try again later", "rejected - no rdns")),
    ("policyviolation", ("esmtp no data before greeting", "attachment extension is forbidden")),
    ("rejected", ("sender rejected",)),
    ("systemerror", ("esmtp server temporarily not available",)),
    ("toomanyconn", (
        "too many sessions from", "requested action aborted: try again later",
        "message threshold exceeded",
    )),
    ("userunknown", ("recipient rejected",)),
))

SPECTRUM_CODES = {
    "1000": "blocked", "1010": "rejected", **code_range(1020, 1080, "rejected"),
    "1090": "systemerror", **code_range(1100, 1150, "requireptr"),
    **code_range(1160, 1190, "policyviolation"), **code_range(1200, 1250, "blocked"),
    "1260": "networkerror", **code_range(1300, 1340, "toomanyconn"),
    **code_range(1350, 1490, "speeding"), "1500": "rejected", "1520": "rejected",
    "1530": "mesgtoobig", "1540": "speeding", "1550": "speeding", "1560": "policyviolation",
    "1580": "speeding",
}

# The number after Orange's or La Poste's label: "OFR006_102", "LPN416", "OFR_416 [416]".
ORANGE_CODES = {
    "101": "blocked", "102": "blocked", "103": "blocked", "104": "toomanyconn",
    "305": "securityerror", "401": "authfailure", "402": "securityerror", "403": "rejected",
    "405": "rejected", "415": "rejected", "416": "userunknown", "417": "mailboxfull",
    "420": "suspend", "421": "rejected", "426": "suspend", "505": "systemerror",
    "506": "spamdetected", "510": "blocked", "514": "mesgtoobig", "517": "authfailure",
    "630": "policyviolation", "999": "blocked",
}

GODADDY_CODES = {
    "ib401": "securityerror", "ib501": "notcompliantrfc", "ib502": "notcompliantrfc",
    "ib506": "rejected", "ib508": "authfailure", "ib108": "requireptr", "ib212": "spamdetected",
    "ib705": "virusdetected", "ib605": "toomanyconn", "ib007": "toomanyconn", "ib101": "speeding",
    "ib110": "blocked", "ib111": "blocked", "ib112": "blocked", "ib113": "blocked",
    "ib504": "speeding", "ib510": "speeding", "ib607": "speeding", "ib103": "badreputation",
    "ib104": "blocked", "ib105": "blocked", "ib106": "blocked",
}
GODADDY_RULES = rules((
    ("blocked", ("rbl reject", "www.spamhaus.org/query/bl?ip=")),
    ("expired", ("has been in the queue too long", "delivery timeout")),
    ("mailboxfull", ("account storage limit",)),
    ("spamdetected", ("message rejected for spam or virus content",)),
    ("suspend", ("account disabled",)),
    ("systemerror", ("message is looping",)),
    ("userunknown", ("recipient not found", "account does not exist")),
))

IUA_CODES = {
    "1": "norelaying", "2": "userunknown", "3": "suspend", "4": "mailboxfull",
    "5": "toomanyconn", "6": "norelaying", "7": "blocked", "8": "rejected", "9": "blocked",
    "10": "filtered",
}

FACEBOOK_CODES = {
    "pol-p7": "authfailure", "pol-p1": "blocked", "pol-p2": "blocked", "pol-p3": "blocked",
    "pol-p4": "blocked", "pol-t1": "blocked", "pol-t2": "blocked", "pol-t3": "blocked",
    "msg-p2": "contenterror", "rcp-p2": "filtered", "rcp-p3": "filtered", "msg-p1": "mesgtoobig",
    "int-p2": "mesgtoobig", "msg-p3": "notcompliantrfc", "dns-p1": "rejected",
    "dns-p2": "rejected", "dns-t1": "rejected", "dns-p3": "requireptr", "dns-t2": "requireptr",
    "pol-p6": "spamdetected", "rcp-t4": "suspend", "rcp-t1": "systemerror",
    "con-t1": "toomanyconn", "con-t2": "toomanyconn", "con-t3": "toomanyconn",
    "con-t4": "toomanyconn", "msg-t1": "toomanyconn", "rcp-p1": "userunknown",
    "int-p1": "userunknown", "int-p3": "userunknown", "int-p4": "userunknown",
    "pol-p5": "virusdetected",
}
# fmt: on

COX = Provider(
    "cox",
    domains=("cox.net",),
    hosts=("cox.net", "cox.com"),
    rules=COX_RULES,
    code_pattern=pattern(r"aup#([a-z0-9]+)"),
    codes=COX_CODES,
)
SPECTRUM = Provider(
    "spectrum",
    domains=("charter.net", "spectrum.net"),
    hosts=("charter.net",),
    code_pattern=pattern(r"aup#[a-z]{0,2}-?(\d{4})"),
    codes=SPECTRUM_CODES,
)
ORANGE = Provider(
    "orange",
    domains=("laposte.net", "orange.fr", "wanadoo.fr"),
    hosts=("laposte.net", "orange.fr", "wanadoo.fr"),
    rules=(Rule("authfailure", ("spf/dns de votre nom de domaine",)),),
    code_pattern=pattern(r"(?<![a-z])(?:lpnaaa|lpn|ofr|ouk)\d*[_-]?(\d{3})(?!\d)"),
    codes=ORANGE_CODES,
)
GODADDY = Provider(
    "godaddy",
    domains=(),
    hosts=("secureserver.net",),
    rules=GODADDY_RULES,
    code_pattern=pattern(r"(?<![a-z0-9])(ib\d{3})(?!\d)"),
    codes=GODADDY_CODES,
)
IUA = Provider(
    "iua",
    domains=("i.ua",),
    hosts=("email.ua",),
    code_pattern=pattern(r"\.i\.ua/err/(\d+)/"),
    codes=IUA_CODES,
)
FACEBOOK = Provider(
    "facebook",
    domains=("facebook.com",),
    hosts=("facebook.com",),
    code_pattern=pattern(r"(?<![a-z])([a-z]{3}-[pt]\d)(?!\d)"),
    codes=FACEBOOK_CODES,
)

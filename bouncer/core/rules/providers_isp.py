"""Mailbox providers whose own sentences name the reason: Apple, AOL, Yahoo, Zoho, Tencent,
Cloudflare, KDDI (au) and NTT docomo.

Sources: iCloud Mail postmaster (https://support.apple.com/en-us/102322), Yahoo sender hub
(https://senders.yahooinc.com/smtp-error-codes), Zoho (https://www.zoho.com/mail/help/spam-reason.html),
QQ Mail (https://service.mail.qq.com/detail/122), Cloudflare Email Routing
(https://developers.cloudflare.com/email-routing/postmaster/) and KDDI
(https://www.au.com/support/service/internet/trouble/mail/01/). KDDI answers
"550 <addr>: User unknown" for an address that does not exist and "550 : User unknown" when the
recipient's own filter refused the sender. NTT docomo answers "550 Unknown user" both for a
missing address and, after DATA, for a refusal by the recipient's reception settings; its
status code (5.1.1 against 5.2.0) or the command tells them apart.
"""

from __future__ import annotations

from bouncer.core.rules.provider_model import Provider, Rule, rules

# fmt: off
APPLE_HOSTS = ("mail.icloud.com", "apple.com", "me.com")
APPLE = Provider("apple", ("icloud.com", "me.com", "mac.com"), APPLE_HOSTS, rules((
    ("authfailure", ("s dmarc policy", "blocked for failing both spf and dkim")),
    ("blocked", (
        "rejected due to having a domain present in the spamhaus",
        "rejected due to listing in spamhaus",
        "blocked - see https://support.proofpoint.com/dnsbl-lookup", "not accepting connections",
    )),
    ("hasmoved", ("recipient no longer on server",)),
    ("mailboxfull", ("user is over quota",)),
    ("norelaying", ("relay access denied",)),
    ("notaccept", ("host/domain does not accept mail",)),
    ("policyviolation", ("due to local policy",)),
    ("rejected", ("sender address rejected",)),
    ("speeding", ("due to excessive volume",)),
    ("userunknown", ("inactive email address", "user does not exist", "unknown or illegal alias")),
)))

AOL = Provider("aol", ("aol.com",), ("mail.aol.com", "mx.aol.com"), rules((
    ("hostunknown", ("host or domain name not found",)),
    ("notaccept", ("type=mx: malformed or unexpected name server reply",)),
)))

YAHOO = Provider("yahoo", ("yahoo.com", "ymail.com", "rocketmail.com"), ("yahoodns.net",), rules((
    ("authfailure", ("yahoo requires all senders to authenticate with either spf or dkim",)),
    ("blocked", (
        " because the ip is in spamhaus's list;", "not accepted from ip addresses on spamhaus xbl",
    )),
    ("norelaying", ("relaying denied for ",)),
    ("notcompliantrfc", ("headers are not rfc compliant",)),
    ("policyviolation", ("not accepted for policy reasons",)),
    ("rejected", (
        "temporarily deferred due to unexpected volume or user complaints",
        "due to unresolvable rfc.5321 domain", " will be permanently deferred",
    )),
    ("speeding", ("user is receiving mail too quickly",)),
    ("suspend", (" is no longer valid.", "this mailbox is disabled")),
    ("syntaxerror", ("syntax error in parameters or arguments",)),
    ("toomanyconn", ("max message per connection reached",)),
    ("userunknown", ("dd this user doesn't have a ", "mailbox not found")),
)))

# Mail.ru accepts every recipient and refuses unknown or disabled ones after DATA, in one
# sentence: "550 Message was not accepted -- invalid mailbox. Local mailbox x@mail.ru is
# unavailable: user not found" (or "account is disabled"); the reply decides, not the stage.
MAILRU = Provider(
    "mailru",
    ("mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru"),
    ("mail.ru",),
    rules((
        ("suspend", ("is unavailable: account is disabled", "is unavailable: account is blocked")),
        ("userunknown", ("is unavailable: user not found", "invalid mailbox")),
    )),
)

ZOHO = Provider("zoho", ("zoho.com", "zoho.eu", "zohomail.com"), ("zoho.com", "zoho.eu"), rules((
    ("authfailure", ("email rejected per dmarc policy",)),
    ("blocked", ("greylisted, try again after some time",)),
    ("rejected", (
        "email cannot be delivered. reason: email flagged as spam",
        "mail rejected by destination domain",
    )),
    ("policyviolation", (
        "email policy violation detected", "mailbox delivery restricted by policy error",
    )),
    ("systemerror", ("temporary system error",)),
    ("userunknown", ("user does not exist",)),
    ("virusdetected", (" detected by zoho mail",)),
)))

TENCENT = Provider("tencent", ("qq.com", "foxmail.com"), ("qq.com",), rules((
    ("authfailure", ("spf check failed", "dmarc check failed")),
    ("blocked", ("suspected bounce attacks", "suspected spam ip", "connection denied")),
    ("mesgtoobig", ("message too large",)),
    ("spamdetected", ("spam is embedded in the email", "mail content denied")),
    ("rejected", ("suspected spam", "mail is rejected by recipients")),
    ("speeding", (
        "mailbox unavailable or access denined", "frequency of receiving messages is limited",
    )),
    ("suspend", ("is a deactivated mailbox",)),
    ("syntaxerror", ("bad address syntax",)),
    ("toomanyconn", (
        "ip frequency limited", "domain frequency limited", "sender frequency limited",
        "connection frequency limited",
    )),
    ("userunknown", ("mailbox not found",)),
)))

CLOUDFLARE = Provider("cloudflare", (), ("mx.cloudflare.net",), rules((
    ("blocked", ("found on one or more dnsbls",)),
    ("systemerror", ("upstream error",)),
)))

KDDI = Provider("kddi", ("ezweb.ne.jp", "au.com"), ("ezweb.ne.jp", "msmx.au.com"), rules((
    ("filtered", ("550 : user unknown",)),
    ("userunknown", (">: user unknown",)),
)))

DOCOMO = Provider("docomo", ("docomo.ne.jp",), ("mfsmax.docomo.ne.jp",), (
    Rule("userunknown", (), ("5.1.1", "5.0.911")),
    Rule("filtered", (), ("5.2.0",)),
    *rules((
        ("mailboxfull", ("552 too much mail data",)),
        ("syntaxerror", ("503 bad sequence of commands", "504 command parameter not implemented")),
        ("toomanyconn", ("552 too many recipients",)),
    )),
    Rule("rejected", ("550 unknown user",), ("5.0.0",), "DATA"),
    Rule("userunknown", ("550 unknown user",)),
))
# fmt: on

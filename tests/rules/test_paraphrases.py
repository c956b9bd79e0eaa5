"""Paraphrased bounce replies: wordings the rule tables were not written from.

Each row is one recipient's failure as a real mail server or provider words it: the SMTP reply
text (with its codes, as servers send them), the RFC 3463 status a report would carry (or None),
the reply code, the SMTP command it answered (or None when the report does not say), and the
reason (Sisimai's vocabulary) and class the classifier should assign. The texts were collected
from published material, not from bouncer/rules: providers' SMTP error references (Gmail,
Exchange Online / Outlook.com, Yahoo, iCloud, Zoho, Mimecast, Proofpoint, Cisco, Barracuda),
MTA sources and documentation (Postfix, Exim, Sendmail, qmail, Dovecot, Courier, CommuniGate,
Haraka, amavisd-new), RFCs 3463/5321/7504/7505, and real bounces people published (pastebin,
gists, issue trackers). Every row names its source in the last column. Where Sisimai's reason
definitions decide a debatable case (libsisimai.org reason list, Sisimai::Rhost tables), the
row follows them; the families the maintainers asked for are marked as such.

Failures here are findings for the classifier, not mistakes in the table: do not weaken a row
to make it pass.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from bouncer.core.classify import verdict
from bouncer.core.model import Entry

RECIPIENT = "rcpt@example.org"
REASONS = frozenset(
    {
        "userunknown", "hostunknown", "mailboxfull", "mesgtoobig", "exceedlimit", "suspend",
        "hasmoved", "notaccept", "norelaying", "authfailure", "requireptr", "badreputation",
        "blocked", "spamdetected", "policyviolation", "virusdetected", "contenterror",
        "securityerror", "rejected", "toomanyconn", "speeding", "networkerror", "systemerror",
        "systemfull", "expired", "filtered", "syntaxerror", "mailererror",
    }
)  # fmt: skip
HARD = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})


class Case(NamedTuple):
    """One published reply and what the classifier should make of it."""

    text: str
    status: str | None  # RFC 3463 status the report carries, if any
    reply_code: str | None  # SMTP reply code, if any
    command: str | None  # SMTP command the reply answered, if the report says
    reason: str  # expected reason, Sisimai's vocabulary
    bounce_class: str  # expected class: hard or soft
    source: str  # where the wording comes from


CASES = [
    Case(
        (
            "550-5.1.1 The email account that you tried to reach does not exist. Please try "
            "550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 "
            "unnecessary spaces. Learn more at 550 5.1.1 "
            "https://support.google.com/mail/?p=NoSuchUser 7-v6si8057303wrp.401 - gsmtp"
        ),
        "5.1.1",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Gmail via Postfix DSN, https://pastebin.com/DPUU80Xa",
    ),
    Case(
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        "5.1.10",
        "550",
        None,
        "userunknown",
        "hard",
        "Exchange NDR, https://pastebin.com/4NLVeuUu",
    ),
    Case(
        "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##",
        "5.1.1",
        "550",
        None,
        "userunknown",
        "hard",
        "Exchange 2007 NDR, https://pastebin.com/2SNHTj4Y",
    ),
    Case(
        "550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found",
        "5.1.1",
        "550",
        None,
        "userunknown",
        "hard",
        "Exchange 2013 NDR, https://pastebin.com/e6yfDi5v",
    ),
    Case(
        (
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
            "[2023-09-19T15:05:34.324Z 08DBB71928CA8F8E]"
        ),
        "5.5.0",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        (
            "Outlook.com, "
            "https://www.spamresource.com/2023/09/microsoft-multiple-types-of-invalid.html"
        ),
    ),
    Case(
        (
            "550 5.4.1 Recipient address rejected: Access denied. [2023-09-18T12:48:32.808Z "
            "08DBB45899852BA7]"
        ),
        "5.4.1",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Exchange Online 5.4.1 (learn.microsoft.com NDR list; spamresource.com 2023/09)",
    ),
    Case(
        "553 sorry, this recipient is not in my validrcptto list (#5.7.1)",
        "5.7.1",
        "553",
        "RCPT",
        "userunknown",
        "hard",
        "qmail validrcptto patch, https://pastebin.com/sRe9t6bn",
    ),
    Case(
        (
            "550 5.1.1 <doesntexist@test.local>: Recipient address rejected: undeliverable "
            "address: host 192.168.1.131[192.168.1.131] said: 550 sorry, no mailbox here by "
            "that name (in reply to RCPT TO command)"
        ),
        "5.1.1",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Postfix address verification of a qmail reply, https://pastebin.com/45SNf1Ec",
    ),
    Case(
        "550 5.1.1 <userA@wetnet.in> User doesn't exist: userA@wetnet.in",
        "5.1.1",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Dovecot LMTP, https://pastebin.com/h1UJjjS0",
    ),
    Case(
        'unknown user: "trobinson"',
        "5.1.1",
        None,
        None,
        "userunknown",
        "hard",
        "Postfix local(8), https://pastebin.com/HMgXHmNA",
    ),
    Case(
        'unknown user: "virusalert@mr-s-leather.com"',
        "5.1.1",
        None,
        None,
        "userunknown",
        "hard",
        "Postfix virtual(8) unknown.c, https://pastebin.com/540WR9nv",
    ),
    Case(
        (
            "550 5.1.1 <mmartinez91@cox.net> invalid recipient - Refer to Error Codes "
            "section at http://postmaster.cox.net/confluence/display/postmaster/Error+Codes "
            "for more information."
        ),
        "5.1.1",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Cox, https://pastebin.com/0zkJE29y",
    ),
    Case(
        "550 marospent708@netzero.net is not a valid user",
        None,
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "NetZero via Exim, https://pastebin.com/0zkJE29y",
    ),
    Case(
        "550 No Such User Here",
        "5.0.0",
        "550",
        None,
        "userunknown",
        "hard",
        "Exim/cPanel via Verizon DSN, https://pastebin.com/nuTmn3Nu",
    ),
    Case(
        "550-Invalid recipient <bbc_iplayer_website@bbc.co.uk> 550 (#5.1.1)",
        "5.0.0",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Symantec MessageLabs, https://pastebin.com/7HST6vSQ",
    ),
    Case(
        "550 User Unknown",
        None,
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "qmail-send 'does not like recipient', https://pastebin.com/ztnkAKqK",
    ),
    Case(
        "550 550 #5.1.0 Address rejected m.rowe@dcs.shef.ac.uk (state 14).",
        "5.1.0",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Gmail DSN quoting the remote reply, https://pastebin.com/hkN3juHZ",
    ),
    Case(
        (
            "553 5.3.0 <david.casteel@worldnet.att.net>... 550 worldnet addressee unknown, "
            "relay=[98.130.1.156]"
        ),
        "5.3.0",
        "553",
        "RCPT",
        "userunknown",
        "hard",
        "AT&T WorldNet ('addressee unknown' family), https://pastebin.com/MMGUFmXp",
    ),
    Case(
        '550 "Unknown User"',
        "5.0.0",
        "550",
        None,
        "userunknown",
        "hard",
        "maintainers' family: generic 5.0.0 status, no command",
    ),
    Case(
        "550 No user found",
        None,
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "maintainers' family '550 No user found'",
    ),
    Case(
        "550 No mail box available for this user",
        None,
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "PHP bounce-handler response lists (find_string 'No mail box available for this user')",
    ),
    Case(
        "550 BAD_RECIPIENT",
        None,
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "maintainers' family '550 BAD_RECIPIENT'",
    ),
    Case(
        "The recipient name is not recognized",
        None,
        None,
        None,
        "userunknown",
        "hard",
        "Microsoft KB Q133403, Exchange MTA non-delivery report",
    ),
    Case(
        (
            "The recipient name is not recognized MSEXCH:IMS:Contoso:Site1:MAIL01 0 "
            "(000C05A6) Unknown Recipient"
        ),
        None,
        None,
        None,
        "userunknown",
        "hard",
        "Microsoft Exchange 5.5 IMS NDR (KB article quoted in a find_string hit)",
    ),
    Case(
        (
            "Address not found. Your message wasn't delivered to rcpt@example.org because "
            "the address couldn't be found, or is unable to receive mail."
        ),
        None,
        None,
        None,
        "userunknown",
        "hard",
        "Gmail DSN summary 'Address not found'",
    ),
    Case(
        "551 user does not exist",
        None,
        "551",
        "RCPT",
        "userunknown",
        "hard",
        "SendGrid docs, common_smtp_server_bounce_responses.md",
    ),
    Case(
        "550 5.1.1 User does not exist - <kijitora@example.org>",
        "5.1.1",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Zoho Mail (Sisimai Rhost::Zoho, smtpfieldmanual.com/provider/zoho)",
    ),
    Case(
        "550 5.1.1 <neko@icloud.com>: inactive email address",
        "5.1.1",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "iCloud Mail (Sisimai Rhost::Apple)",
    ),
    Case(
        "550 5.1.1 unknown or illegal alias: neko@icloud.com",
        "5.1.1",
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "iCloud Mail (Sisimai Rhost::Apple)",
    ),
    Case(
        "550 No such user - psmtp",
        None,
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "Postini, inmotionhosting.com email-error-550 variations",
    ),
    Case(
        "550 No such person at this address",
        None,
        "550",
        "RCPT",
        "userunknown",
        "hard",
        "inmotionhosting.com email-error-550 variations",
    ),
    Case(
        (
            "Host or domain name not found. Name service error for name=obvioqueestamal.com "
            "type=A: Host not found"
        ),
        "5.4.4",
        None,
        None,
        "hostunknown",
        "hard",
        "Postfix smtp(8), https://pastebin.com/HKM2HzNu",
    ),
    Case(
        (
            "Host or domain name not found. Name service error for name=angelocias.com "
            "type=AAAA: Host not found"
        ),
        None,
        None,
        None,
        "hostunknown",
        "hard",
        "Postfix smtp(8), https://pastebin.com/gww0kMRy",
    ),
    Case(
        "unable to look up host mx.example.net: Name or service not known",
        "5.4.4",
        None,
        None,
        "hostunknown",
        "hard",
        "Postfix smtp_addr.c native lookup (EAI_NONAME)",
    ),
    Case(
        "550 5.1.2 <rcpt@example.invalid>: Recipient address rejected: Domain not found",
        "5.1.2",
        "550",
        "RCPT",
        "hostunknown",
        "hard",
        "Postfix reject_unknown_recipient_domain, cf. https://pastebin.com/2Ls4yvAS",
    ),
    Case(
        (
            "DNS Error: 141778392 DNS type 'mx' lookup of debian responded with code "
            "NXDOMAIN Domain name not found: debian"
        ),
        None,
        None,
        None,
        "hostunknown",
        "hard",
        "Gmail DSN, https://pastebin.com/uG397B4z",
    ),
    Case(
        "DNS Error: Address resolution of testingxonapi.org. failed: Domain name not found",
        None,
        None,
        None,
        "hostunknown",
        "hard",
        "Gmail DSN, https://pastebin.com/S1kHYH3j",
    ),
    Case(
        (
            "550 5.4.310 DNS domain malxxxx.omxxx does not exist "
            "[Message=InfoDomainNonexistent] [LastAttemptedServerName=malxxxx.omxxx]"
        ),
        "5.4.310",
        "550",
        None,
        "hostunknown",
        "hard",
        "Exchange Online, crisp-oss/email-bounce-parser outlook.txt fixture",
    ),
    Case(
        "Sorry, I couldn't find any host named example.invalid. (#5.1.2)",
        None,
        None,
        None,
        "hostunknown",
        "hard",
        "qmail-remote",
    ),
    Case(
        (
            "550 5.1.2 <rcpt@example.invalid>... Host unknown (Name server: example.invalid: "
            "host not found)"
        ),
        "5.1.2",
        "550",
        None,
        "hostunknown",
        "hard",
        "Sendmail deliver.c",
    ),
    Case(
        (
            "552 5.2.2 <boom2_globaldelight_if@pop.powweb.com> Quota exceeded (mailbox for "
            "user is full)"
        ),
        "5.0.0",
        "552",
        "DATA",
        "mailboxfull",
        "soft",
        "Dovecot LMTP via Exim, https://pastebin.com/sgxwMt2v",
    ),
    Case(
        "maildrop: maildir over quota.",
        "4.3.0",
        None,
        None,
        "mailboxfull",
        "soft",
        (
            "Courier maildrop via SendGrid event, "
            "https://gist.github.com/nisanthchunduru/90e5460ab74c5f3a1866143791a03576"
        ),
    ),
    Case(
        "account is full (quota exceeded)",
        "4.0.0",
        None,
        None,
        "mailboxfull",
        "soft",
        "CommuniGate Pro LOCAL module, https://pastebin.com/UBXPuzBK",
    ),
    Case(
        "554 5.7.1 <adresodbiorcy@zenbox.pl>: Recipient address rejected: Quota exceeded",
        "5.7.1",
        "554",
        "RCPT",
        "mailboxfull",
        "soft",
        "Postfix policy reply, https://pastebin.com/HJQ7Mvep",
    ),
    Case(
        "550 david.chase@earthlink.net...User account is overquota",
        None,
        "550",
        "RCPT",
        "mailboxfull",
        "soft",
        "EarthLink, https://pastebin.com/MMGUFmXp",
    ),
    Case(
        (
            "552-Requested mail action aborted: exceeded storage allocation 552-Quota "
            "exceeded. 552 For explanation visit "
            "http://postmaster.1and1.com/en/error-messages?ip=212.227.17.24&c=quot"
        ),
        None,
        "552",
        "RCPT",
        "mailboxfull",
        "soft",
        "1&1 IONOS, https://pastebin.com/dS0JkYBA",
    ),
    Case(
        (
            "552-5.2.2 The email account that you tried to reach is over quota. Please "
            "direct 552-5.2.2 the recipient to 552 5.2.2 "
            "https://support.google.com/mail/?p=OverQuotaPerm x18si5969292wrp.492 - gsmtp"
        ),
        "5.2.2",
        "552",
        "RCPT",
        "mailboxfull",
        "soft",
        "Gmail, https://pastebin.com/HyT37b1d",
    ),
    Case(
        (
            "452-4.2.2 The email account that you tried to reach is over quota. Please "
            "direct 452-4.2.2 the recipient to 452 4.2.2 "
            "https://support.google.com/mail/?p=OverQuotaTemp d34si16258651pld.82 - gsmtp"
        ),
        "4.2.2",
        "452",
        "RCPT",
        "mailboxfull",
        "soft",
        "Gmail via Exim, https://pastebin.com/qQhCb0Dc",
    ),
    Case(
        (
            "554 5.2.2 mailbox full; "
            "STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; "
            "Failed to process message due to a permanent exception"
        ),
        "5.2.2",
        "554",
        None,
        "mailboxfull",
        "soft",
        "Exchange, https://pastebin.com/bN5U408y",
    ),
    Case(
        "user is over quota",
        None,
        None,
        None,
        "mailboxfull",
        "soft",
        "qmail-send (vpopmail), https://pastebin.com/c2hsSsdk",
    ),
    Case(
        "jdoe: mailbox quota exceeded for this recipient",
        None,
        "550",
        None,
        "mailboxfull",
        "soft",
        "GNU Mailutils maidag, gnu.org/software/mailutils/manual Mailbox-Quotas",
    ),
    Case(
        "452 4.2.2 Over Quota",
        "4.2.2",
        "452",
        "RCPT",
        "mailboxfull",
        "soft",
        "SendGrid docs, common_smtp_server_bounce_responses.md",
    ),
    Case(
        "552 5.2.2 <neko@icloud.com>: user is over quota",
        "5.2.2",
        "552",
        "RCPT",
        "mailboxfull",
        "soft",
        "iCloud Mail (Sisimai Rhost::Apple)",
    ),
    Case(
        "550 5.2.1 Mailbox not available",
        "5.2.1",
        "550",
        "RCPT",
        "suspend",
        "soft",
        "maintainers' family; RFC 3463 X.2.1 mailbox disabled",
    ),
    Case(
        (
            "550-5.2.1 The email account that you tried to reach is inactive. For more "
            "550-5.2.1 information, go to 550 5.2.1 "
            "https://support.google.com/mail/?p=DisabledUser "
            "k16-20020a17090aaa1000b0029aa8f9ccbasi9776379pjq.5 - gsmtp"
        ),
        "5.2.1",
        "550",
        "RCPT",
        "suspend",
        "soft",
        "Gmail, https://github.com/sisimai/p5-sisimai/issues/510",
    ),
    Case(
        (
            "550-5.2.1 The email account that you tried to reach is disabled. Learn more at "
            "550 5.2.1 https://support.google.com/mail/?p=DisabledUser"
        ),
        "5.2.1",
        "550",
        "RCPT",
        "suspend",
        "soft",
        "Gmail SMTP error reference (DisabledUser)",
    ),
    Case(
        (
            "554 delivery error: dd Sorry your message to mailynelias@yahoo.com cannot be "
            "delivered. This account has been disabled or discontinued [#102]. - "
            "mta1196.mail.gq1.yahoo.com"
        ),
        None,
        "554",
        "DATA",
        "suspend",
        "soft",
        "Yahoo via Exim, https://pastebin.com/myPzc1kw",
    ),
    Case(
        (
            "554 30 Sorry, your message to neko@aol.jp cannot be delivered. This mailbox is "
            "disabled (554.30)"
        ),
        None,
        "554",
        None,
        "suspend",
        "soft",
        "AOL/Yahoo (Sisimai Rhost::YahooInc)",
    ),
    Case(
        "550 5.2.1 Mailbox cannot be accessed",
        "5.2.1",
        "550",
        None,
        "suspend",
        "soft",
        "Exchange NDR 5.2.1 (learn.microsoft.com, via Sisimai Rhost::Microsoft)",
    ),
    Case(
        "552 5.3.4 Message size exceeds fixed limit",
        "5.3.4",
        "552",
        "DATA",
        "mesgtoobig",
        "soft",
        "Postfix smtpd, https://pastebin.com/dL6LBCdj",
    ),
    Case(
        "552 552 5.3.4 Error: message file too big (state 18).",
        None,
        "552",
        "DATA",
        "mesgtoobig",
        "soft",
        "Postfix via Gmail DSN, https://pastebin.com/HCfTUB06",
    ),
    Case(
        "554 Maximum email size exceeded",
        None,
        "554",
        "DATA",
        "mesgtoobig",
        "soft",
        "Mimecast SMTP error codes (community.mimecast.com)",
    ),
    Case(
        "552 sorry, that message size exceeds my databytes limit (#5.3.4)",
        None,
        "552",
        "DATA",
        "mesgtoobig",
        "soft",
        "qmail-smtpd",
    ),
    Case(
        "552 Message size exceeds maximum permitted",
        None,
        "552",
        "MAIL",
        "mesgtoobig",
        "soft",
        "Exim smtp_in.c (SIZE check)",
    ),
    Case(
        "552 5.3.4 Message size exceeds fixed maximum message size",
        "5.3.4",
        "552",
        "MAIL",
        "mesgtoobig",
        "soft",
        "Exchange Server 2019 NDR 5.3.4 (learn.microsoft.com)",
    ),
    Case(
        (
            "552-5.3.4 Your message exceeded Google's message size limits. Please visit 552 "
            "5.3.4 https://support.google.com/mail/?p=MaxSizeError to view our size "
            "guidelines."
        ),
        "5.3.4",
        "552",
        "DATA",
        "mesgtoobig",
        "soft",
        "Gmail SMTP error reference (MaxSizeError)",
    ),
    Case(
        "552 5.2.3 Message size exceeds fixed maximum message size (10485760)",
        "5.2.3",
        "552",
        "MAIL",
        "exceedlimit",
        "soft",
        "Sendmail, quoted in Sisimai::Reason::ExceedLimit docs (metacpan)",
    ),
    Case(
        "550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient",
        "5.2.3",
        "550",
        None,
        "exceedlimit",
        "soft",
        "Exchange Server 2019 NDR 5.2.3 (learn.microsoft.com)",
    ),
    Case(
        (
            "552-5.2.3 Your message exceeded Google's message size limits. For more "
            "information, visit 552 5.2.3 https://support.google.com/mail/answer/6584"
        ),
        "5.2.3",
        "552",
        "DATA",
        "exceedlimit",
        "soft",
        "Gmail (Sisimai Rhost::Google)",
    ),
    Case(
        "554 5.7.1 <francisco.cachado@aeist.pt>: Relay access denied",
        "5.7.1",
        "554",
        "RCPT",
        "norelaying",
        "soft",
        "Postfix, https://pastebin.com/M71NBHuy",
    ),
    Case(
        "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        "5.7.1",
        "553",
        "RCPT",
        "norelaying",
        "soft",
        "qmail-smtpd, SendGrid docs common_smtp_server_bounce_responses.md",
    ),
    Case(
        "550 5.7.1 Unable to relay",
        "5.7.1",
        "550",
        "RCPT",
        "norelaying",
        "soft",
        "Exchange NDR 5.7.1 (learn.microsoft.com)",
    ),
    Case(
        "550 5.7.64 TenantAttribution; Relay Access Denied",
        "5.7.64",
        "550",
        "RCPT",
        "norelaying",
        "soft",
        "Exchange Online NDR 5.7.64 (learn.microsoft.com)",
    ),
    Case(
        "550 5.7.1 <rcpt@example.org>... Relaying denied. Proper authentication required.",
        "5.7.1",
        "550",
        "RCPT",
        "norelaying",
        "soft",
        "Sendmail check_rcpt ruleset (cf/m4/proto.m4)",
    ),
    Case(
        "550 relaying denied for <neko@yahoo.com>",
        None,
        "550",
        "RCPT",
        "norelaying",
        "soft",
        "Yahoo (Sisimai Rhost::YahooInc)",
    ),
    Case(
        (
            "550 5.7.0 Mail relay denied [192.0.2.1]. Invalid credentials for relay for one "
            "of the domains in: example.org (as obtained from HELO and MAIL FROM)."
        ),
        "5.7.0",
        "550",
        "MAIL",
        "norelaying",
        "soft",
        "Google Workspace SMTP relay errors, support.google.com/a/answer/6140680",
    ),
    Case(
        "553 5.1.8 Domain of sender address does not exist",
        "5.1.8",
        "553",
        "MAIL",
        "rejected",
        "soft",
        "Proofpoint, https://pastebin.com/ZZzdk8Vg",
    ),
    Case(
        "553 sorry, your envelope sender domain must exist (#5.7.1)",
        "5.0.0",
        "553",
        "MAIL",
        "rejected",
        "soft",
        "qmail-smtpd, https://pastebin.com/wQKuV2Cw",
    ),
    Case(
        (
            "550-Verification failed for <omkar@onlinemedicalwriting.com> 550-No Such User "
            "Here 550 Sender verify failed"
        ),
        "5.0.0",
        "550",
        "RCPT",
        "rejected",
        "soft",
        "Exim sender callout, https://pastebin.com/q0gd1hGA",
    ),
    Case(
        (
            "550-Verification failed for <compudj@mail.openrapids.net> 550-Called: "
            "64.15.138.104 550-Sent: RCPT TO:<compudj@mail.openrapids.net> 550-Response: 550 "
            "5.1.1 <compudj@mail.openrapids.net>: Recipient address rejected: User unknown "
            "in local recipient table 550 Sender verify failed"
        ),
        "5.0.0",
        "550",
        "RCPT",
        "rejected",
        "soft",
        "Exim sender callout, https://pastebin.com/jxCrH5mj",
    ),
    Case(
        "554 5.7.1 <barman@svp-pgbarman-01.svp.prod>: Sender address rejected: Access denied",
        "5.7.1",
        "554",
        "RCPT",
        "rejected",
        "soft",
        "Postfix check_sender_access, https://pastebin.com/gf1TwE62",
    ),
    Case(
        "550 <sender@example.com>, Sender unknown",
        "5.0.0",
        "550",
        "MAIL",
        "rejected",
        "soft",
        "https://pastebin.com/MnhUdN2q",
    ),
    Case(
        "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)",
        None,
        "553",
        "MAIL",
        "rejected",
        "soft",
        "qmail-smtpd badmailfrom, https://pastebin.com/nHtbDeyx",
    ),
    Case(
        (
            "550 5.7.1 <reditelka@msrychvald.cz>: Sender address rejected: mailbox disabled "
            "- DEBUG: dom msrychvald.cz"
        ),
        "5.7.1",
        "550",
        "RCPT",
        "rejected",
        "soft",
        "WEDOS relay, https://pastebin.com/6JA7cVwM",
    ),
    Case(
        "450 4.1.8 <apache@www-01.localdomain>: Sender address rejected: Domain not found",
        "4.1.8",
        "450",
        "RCPT",
        "rejected",
        "soft",
        "Postfix reject_unknown_sender_domain, https://pastebin.com/wRiwwbyc",
    ),
    Case(
        (
            "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication "
            "required; Delivery restriction check failed as sender not authenticated for "
            "group"
        ),
        "5.7.133",
        "550",
        None,
        "rejected",
        "soft",
        "Exchange Online NDR 5.7.133 (learn.microsoft.com)",
    ),
    Case(
        (
            "550-5.7.26 Unauthenticated email from example.com is not accepted due to "
            "domain's 550-5.7.26 DMARC policy. Please contact the administrator of "
            "example.com domain if 550-5.7.26 this was a legitimate mail. Please visit "
            "550-5.7.26 https://support.google.com/mail/answer/2451690 to learn about the "
            "550 5.7.26 DMARC initiative."
        ),
        "5.7.26",
        "550",
        "DATA",
        "authfailure",
        "soft",
        "Gmail SMTP error reference (DmarcRejection)",
    ),
    Case(
        (
            "550-5.7.26 This message does not have authentication information or fails to "
            "550-5.7.26 pass authentication checks (SPF or DKIM). To best protect our users "
            "from 550-5.7.26 spam, the message has been blocked."
        ),
        "5.7.26",
        "550",
        "DATA",
        "authfailure",
        "soft",
        "Gmail SMTP error reference (support.google.com/mail/answer/81126)",
    ),
    Case(
        (
            "550 5.7.509 Access denied, sending domain [EXAMPLE.COM] does not pass DMARC "
            "verification and has a DMARC policy of reject."
        ),
        "5.7.509",
        "550",
        "DATA",
        "authfailure",
        "soft",
        "Exchange Online NDR 5.7.509 (learn.microsoft.com)",
    ),
    Case(
        "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
        "5.7.23",
        "550",
        None,
        "authfailure",
        "soft",
        "Exchange Online NDR 5.7.23 (learn.microsoft.com)",
    ),
    Case(
        (
            "554 5.7.1 Your message was rejected due to example.com's DMARC policy. See "
            "https://support.apple.com/en-us/HT204137 for"
        ),
        "5.7.1",
        "554",
        "DATA",
        "authfailure",
        "soft",
        (
            "iCloud Mail postmaster (Sisimai Rhost::Apple); maintainers' 'rejected due to "
            "DMARC policy'"
        ),
    ),
    Case(
        "550 5.7.1 Email rejected per DMARC policy for example.com",
        "5.7.1",
        "550",
        "DATA",
        "authfailure",
        "soft",
        "Zoho Mail (Sisimai Rhost::Zoho)",
    ),
    Case(
        (
            "550 5.7.9 This mail has been blocked because the sender is unauthenticated. "
            "Yahoo requires all senders to authenticate with either SPF or DKIM."
        ),
        "5.7.9",
        "550",
        "DATA",
        "authfailure",
        "soft",
        "Yahoo sender error codes (senders.yahooinc.com)",
    ),
    Case(
        "550 SPF Sender Invalid - envelope rejected",
        None,
        "550",
        "MAIL",
        "authfailure",
        "soft",
        "Mimecast SMTP error codes (community.mimecast.com)",
    ),
    Case(
        "450 4.7.1 Client host rejected: cannot find your reverse hostname, [209.99.16.172]",
        "4.7.1",
        "450",
        "RCPT",
        "requireptr",
        "soft",
        "Postfix reject_unknown_reverse_client_hostname, https://pastebin.com/Q9N0hNwj",
    ),
    Case(
        "450 4.7.1 Client host rejected: cannot find your hostname, [78.129.137.222]",
        "4.7.1",
        "450",
        "RCPT",
        "requireptr",
        "soft",
        "Postfix reject_unknown_client_hostname, https://pastebin.com/F8Bc3Rdu",
    ),
    Case(
        "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.22]",
        "4.7.25",
        "450",
        "RCPT",
        "requireptr",
        "soft",
        "Postfix 3.1 smtpd_check.c, https://github.com/sisimai/p5-sisimai/issues/253",
    ),
    Case(
        (
            "550-5.7.25 [192.0.2.1] The IP address sending this message does not have a "
            "550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not "
            "550-5.7.25 point to the sending IP. As a policy, Gmail does not accept messages "
            "550-5.7.25 from IPs with missing PTR records."
        ),
        "5.7.25",
        "550",
        None,
        "requireptr",
        "soft",
        "Gmail SMTP error reference (5.7.25)",
    ),
    Case(
        (
            "421-4.7.0 [192.0.2.1] The IP address sending this message does not have a PTR "
            "record, or the corresponding forward DNS entry does not point to the sending "
            "IP. To protect our users from spam, mail sent from your IP address has been "
            "temporarily rate limited."
        ),
        "4.7.0",
        "421",
        None,
        "requireptr",
        "soft",
        "Gmail SMTP error reference (4.7.0 PTR)",
    ),
    Case(
        (
            "550-5.7.1 [192.0.2.22] Our system has detected that this message is likely "
            "suspicious due to the very low reputation of the sending IP address. To best "
            "protect our users from spam, the message has been blocked."
        ),
        "5.7.1",
        "550",
        "DATA",
        "badreputation",
        "soft",
        "Gmail, quoted in Sisimai::Reason::BadReputation docs",
    ),
    Case(
        (
            "421-4.7.0 This message is suspicious due to the very low reputation of the "
            "sending domain. To best protect our users from spam, mail sent from your IP "
            "address has been temporarily rate limited."
        ),
        "4.7.0",
        "421",
        "DATA",
        "badreputation",
        "soft",
        "Gmail SMTP error reference (188131)",
    ),
    Case(
        (
            "421 4.7.0 [TSS04] Messages from 162.241.243.209 temporarily deferred due to "
            "user complaints - 4.16.55.1; see "
            "https://help.yahoo.com/kb/postmaster/SLN3434.html"
        ),
        "4.7.0",
        "421",
        "MAIL",
        "badreputation",
        "soft",
        "Yahoo via Exim, https://pastebin.com/kMhgK90J",
    ),
    Case(
        (
            "451 4.7.650 The mail server [192.0.2.5] has been temporarily rate limited due "
            "to IP reputation. For e-mail delivery information, see "
            "https://postmaster.live.com (S775)"
        ),
        "4.7.650",
        "451",
        "MAIL",
        "badreputation",
        "soft",
        "Outlook.com (Sisimai Rhost::Microsoft)",
    ),
    Case(
        (
            "554 Your access to this mail system has been rejected due to the sending MTA's "
            "poor reputation. If you believe that this failure is in error, please contact "
            "the intended recipient via alternate means."
        ),
        None,
        "554",
        "CONN",
        "badreputation",
        "soft",
        "Cisco IronPort/Secure Email default SBRS reject",
    ),
    Case(
        "550 Local CT IP Reputation - (reject)",
        None,
        "550",
        None,
        "badreputation",
        "soft",
        "Mimecast SMTP error codes (community.mimecast.com)",
    ),
    Case(
        (
            "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
            "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1"
        ),
        "5.7.1",
        "554",
        "RCPT",
        "blocked",
        "soft",
        "Postfix reject_rbl_client with Spamhaus",
    ),
    Case(
        (
            "550 5.7.1 Service unavailable; client [125.162.224.235] blocked using "
            "b.barracudacentral.org"
        ),
        "5.7.1",
        "550",
        "RCPT",
        "blocked",
        "soft",
        "Postfix postscreen + Barracuda BRBL, https://pastebin.com/chVg5jPF",
    ),
    Case(
        (
            "454 4.7.1 Service unavailable; Client host [31.192.230.246] blocked using "
            "b.barracudacentral.org"
        ),
        "4.7.1",
        "454",
        "RCPT",
        "blocked",
        "soft",
        "Postfix + Barracuda BRBL, https://pastebin.com/uPQJWJyn",
    ),
    Case(
        "554 Blocked - see https://ipcheck.proofpoint.com/?ip=11.22.33.44",
        None,
        "554",
        "CONN",
        "blocked",
        "soft",
        "Proofpoint, https://gitlab.com/lightmeter/controlcenter/-/issues/664",
    ),
    Case(
        (
            "550 5.7.0 Blocked - see "
            "https://support.proofpoint.com/dnsbl-lookup.cgi?ip=80.211.10.242"
        ),
        "5.7.0",
        "550",
        "MAIL",
        "blocked",
        "soft",
        "iCloud/Proofpoint, https://pastebin.com/eiyNZME7",
    ),
    Case(
        (
            "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact "
            "your Internet service provider since part of their network is on our block list "
            "(S3150). You can also refer your provider to "
            "http://mail.live.com/mail/troubleshooting.aspx#errors."
        ),
        "5.7.1",
        "550",
        "MAIL",
        "blocked",
        "soft",
        "Outlook.com, sevencreative.co.uk hotmail block-list guide",
    ),
    Case(
        (
            "550 5.7.606 Access denied, banned sending IP [185.234.72.45]. To request "
            "removal from this list please visit https://sender.office.com/ and follow the "
            "directions."
        ),
        "5.7.606",
        "550",
        "RCPT",
        "blocked",
        "soft",
        "Exchange Online, https://pastebin.com/EH1TUb0X",
    ),
    Case(
        "550 <jukefly.com[66.63.169.222]>: Client host rejected: Access Denied",
        "5.0.0",
        "550",
        "RCPT",
        "blocked",
        "soft",
        "FrontBridge, https://pastebin.com/UyYmyNYV",
    ),
    Case(
        (
            "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.25, because the "
            "ip is in Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html"
        ),
        "5.7.1",
        "553",
        "CONN",
        "blocked",
        "soft",
        "Yahoo (Sisimai Rhost::YahooInc)",
    ),
    Case(
        (
            "550 5.7.1 Mail from IP 192.0.2.1 was rejected due to listing in Spamhaus SBL. "
            "For details please see http://www.spamhaus.org/query/bl?ip=192.0.2.1"
        ),
        "5.7.1",
        "550",
        "MAIL",
        "blocked",
        "soft",
        "iCloud Mail (Sisimai Rhost::Apple)",
    ),
    Case(
        "550 Access denied - IP blacklisted (192.0.2.1)",
        None,
        "550",
        "RCPT",
        "blocked",
        "soft",
        "maintainers' family 'access denied - IP blacklisted'",
    ),
    Case(
        "550 5.7.1 Message rejected as spam by Content Filtering.",
        "5.7.1",
        "550",
        "DATA",
        "spamdetected",
        "soft",
        "Exchange content filter via Exim, https://pastebin.com/zFzcEWws",
    ),
    Case(
        "554 5.7.1 This email has been rejected. The email message was detected as spam.",
        "5.7.1",
        "554",
        "DATA",
        "spamdetected",
        "soft",
        "XMail bounce, https://pastebin.com/SBEX4mSP",
    ),
    Case(
        "550 5.7.1 Message content rejected, UBE, id=00000-00-000",
        "5.7.1",
        "550",
        "DATA",
        "spamdetected",
        "soft",
        "amavisd-new, quoted in Sisimai::Reason::SpamDetected docs",
    ),
    Case(
        "554 5.7.1 [P4] Message blocked due to spam content in the message.",
        "5.7.1",
        "554",
        "DATA",
        "spamdetected",
        "soft",
        "SendGrid docs, common_smtp_server_bounce_responses.md",
    ),
    Case(
        (
            "550-5.7.1 [192.0.2.1] Our system has detected that this message is 550-5.7.1 "
            "likely unsolicited mail. To reduce the amount of spam sent to Gmail, 550-5.7.1 "
            "this message has been blocked."
        ),
        "5.7.1",
        "550",
        "DATA",
        "spamdetected",
        "soft",
        "Gmail SMTP error reference (UnsolicitedMessageError)",
    ),
    Case(
        "550 This message scored 12.3 spam points.",
        None,
        "550",
        "DATA",
        "spamdetected",
        "soft",
        "Exim content-scanning ACL example (spec ch. 'Content scanning at ACL time')",
    ),
    Case(
        "554 5.7.0 Reject, id=07831-02 - INFECTED: Eicar-Test-Signature",
        "5.7.0",
        "554",
        "DATA",
        "virusdetected",
        "soft",
        "amavisd-new reject form of the reply in https://pastebin.com/YE02Yb16",
    ),
    Case(
        "550 This message contains malware (Eicar-Test-Signature)",
        None,
        "550",
        "DATA",
        "virusdetected",
        "soft",
        "Exim content-scanning ACL example (malware condition)",
    ),
    Case(
        "550 Message is infected with Eicar-Test-Signature",
        None,
        "550",
        "DATA",
        "virusdetected",
        "soft",
        "Haraka clamd plugin, https://gist.github.com/smfreegard/4073401",
    ),
    Case(
        "552 5.7.1 virus Eicar-Test-Signature detected by Zoho Mail",
        "5.7.1",
        "552",
        "DATA",
        "virusdetected",
        "soft",
        "Zoho Mail (Sisimai Rhost::Zoho)",
    ),
    Case(
        (
            "Your message was infected with a virus. You should download a virus scanner and "
            "check your computer for viruses."
        ),
        None,
        None,
        "DATA",
        "virusdetected",
        "soft",
        "Sisimai::Reason::VirusDetected docs (metacpan)",
    ),
    Case(
        (
            "554 Message not allowed - [PH01] Email not accepted for policy reasons. Please "
            "visit https://postmaster.yahooinc.com/error-codes"
        ),
        None,
        "554",
        "DATA",
        "policyviolation",
        "soft",
        "Yahoo sender error codes (Sisimai Rhost::YahooInc)",
    ),
    Case(
        (
            "550 5.7.1 [CS01] Message rejected due to local policy. Please visit "
            "https://support.apple.com/en-us/HT204137"
        ),
        "5.7.1",
        "550",
        "DATA",
        "policyviolation",
        "soft",
        "iCloud Mail postmaster (Sisimai Rhost::Apple)",
    ),
    Case(
        "554 5.7.7 Email policy violation detected",
        "5.7.7",
        "554",
        "DATA",
        "policyviolation",
        "soft",
        "Zoho Mail (Sisimai Rhost::Zoho)",
    ),
    Case(
        "550 Rejected by header based Anti-Spoofing policy: sender@example.com",
        None,
        "550",
        "DATA",
        "policyviolation",
        "soft",
        "Mimecast, suped.com Mimecast anti-spoofing article",
    ),
    Case(
        (
            "552-5.7.0 This message was blocked because its content presents a potential "
            "552-5.7.0 security issue. Please visit "
            "https://support.google.com/mail/?p=BlockedMessage to review our message content "
            "and attachment content guidelines."
        ),
        "5.7.0",
        "552",
        "DATA",
        "policyviolation",
        "soft",
        "Gmail SMTP error reference (BlockedMessage)",
    ),
    Case(
        (
            "550-5.7.1 The user or domain that you are sending to (or from) has a policy "
            "that 550-5.7.1 prohibited the mail that you sent. Please contact your domain "
            "administrator for 550 5.7.1 further details."
        ),
        "5.7.1",
        "550",
        "DATA",
        "policyviolation",
        "soft",
        "Google Workspace, support.google.com/a/answer/172179",
    ),
    Case(
        (
            "552-5.7.0 Our system detected an illegal attachment on your message. Please "
            "552-5.7.0 visit http://mail.google.com/support/bin/answer.py?answer=6590 to "
            "review our attachment guidelines."
        ),
        "5.7.0",
        "552",
        "DATA",
        "policyviolation",
        "soft",
        "Gmail attachment policy reply",
    ),
    Case(
        (
            '554 (Reject, id=18169-17 - BAD_HEADER: Header field occurs more than once: "Cc" '
            "occurs 5 times)"
        ),
        None,
        "554",
        "DATA",
        "contenterror",
        "soft",
        "amavisd-new via ZMailer DSN on vger.kernel.org (LKML, Nov 2007)",
    ),
    Case(
        "550 5.6.0 Lone CR or LF in headers (see RFC2822 section 2.2)",
        "5.6.0",
        "550",
        "DATA",
        "contenterror",
        "soft",
        "SparkPost/Momentum responses-by-message reference",
    ),
    Case(
        "550 5.6.0 Invalid header found (see RFC2822 section 3.6)",
        "5.6.0",
        "550",
        "DATA",
        "contenterror",
        "soft",
        "SparkPost/Momentum responses-by-message reference",
    ),
    Case(
        (
            "550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds, "
            "which cannot be sent via DATA and receiving system does not support BDAT"
        ),
        "5.6.11",
        "550",
        None,
        "contenterror",
        "soft",
        "Exchange Online NDR 5.6.11 (learn.microsoft.com)",
    ),
    Case(
        "552 5.6.0 Headers too large (32768 max)",
        "5.6.0",
        "552",
        "DATA",
        "contenterror",
        "soft",
        "Sendmail collect.c",
    ),
    Case(
        "530 5.7.1 Client was not authenticated",
        "5.7.1",
        "530",
        "MAIL",
        "securityerror",
        "soft",
        "Exchange NDR 5.7.1 (learn.microsoft.com)",
    ),
    Case(
        "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM",
        "5.7.57",
        "530",
        "MAIL",
        "securityerror",
        "soft",
        "Exchange Online NDR 5.7.57 (learn.microsoft.com)",
    ),
    Case(
        "535 5.7.8 Error: authentication failed: authentication failure",
        "5.7.8",
        "535",
        "AUTH",
        "securityerror",
        "soft",
        "Postfix smtpd SASL",
    ),
    Case(
        (
            "535-5.7.8 Username and Password not accepted. Learn more at 535 5.7.8 "
            "https://support.google.com/mail/?p=BadCredentials"
        ),
        "5.7.8",
        "535",
        "AUTH",
        "securityerror",
        "soft",
        "Gmail SMTP error reference (BadCredentials)",
    ),
    Case(
        (
            "530-5.5.1 Authentication Required. Learn more at 530 5.5.1 "
            "https://support.google.com/mail/?p=WantAuthError"
        ),
        "5.5.1",
        "530",
        "MAIL",
        "securityerror",
        "soft",
        "Gmail SMTP error reference (WantAuthError)",
    ),
    Case(
        "535 Incorrect authentication data",
        None,
        "535",
        "AUTH",
        "securityerror",
        "soft",
        "Mimecast SMTP error codes (community.mimecast.com)",
    ),
    Case(
        "503 5.5.1 Bad sequence of commands.",
        "5.5.1",
        "503",
        "RCPT",
        "syntaxerror",
        "soft",
        "Gmail SMTP error reference",
    ),
    Case(
        "502 5.5.1 Unrecognized command.",
        "5.5.1",
        "502",
        None,
        "syntaxerror",
        "soft",
        "Gmail SMTP error reference",
    ),
    Case(
        "501 Syntax error in parameters or arguments",
        None,
        "501",
        "MAIL",
        "syntaxerror",
        "soft",
        "Yahoo (Sisimai Rhost::YahooInc); RFC 5321 4.2.2",
    ),
    Case(
        "503 5.5.2 Send hello first",
        "5.5.2",
        "503",
        "MAIL",
        "syntaxerror",
        "soft",
        "Exchange Server 2019 NDR 5.5.2 (learn.microsoft.com)",
    ),
    Case(
        "500 5.3.3 Unrecognized command",
        "5.3.3",
        "500",
        None,
        "syntaxerror",
        "soft",
        "Exchange Server 2019 NDR 5.3.3 (learn.microsoft.com)",
    ),
    Case(
        "503 5.5.1 Error: need MAIL command",
        "5.5.1",
        "503",
        "RCPT",
        "syntaxerror",
        "soft",
        "Postfix smtpd.c",
    ),
    Case(
        "421 Too many concurrent SMTP connections from this IP address; please try again later.",
        "4.0.0",
        "421",
        "CONN",
        "toomanyconn",
        "soft",
        "https://pastebin.com/9ViZSXyu",
    ),
    Case(
        "450 too many connections from your IP (rate controlled)",
        "4.0.0",
        "450",
        "RCPT",
        "toomanyconn",
        "soft",
        "Zimbra relay log, https://gist.github.com/pbruna/4595838",
    ),
    Case(
        "421 mxcmd09.ad.aruba.it bizsmtp aeDm1w01G0T9uPK01 Too many connections, try later.",
        None,
        "421",
        "CONN",
        "toomanyconn",
        "soft",
        "Aruba via Kerio Connect, https://pastebin.com/muHQMW6i",
    ),
    Case(
        "421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1",
        "4.7.0",
        "421",
        "CONN",
        "toomanyconn",
        "soft",
        "Postfix smtpd/anvil connection limit",
    ),
    Case(
        "421 Max message per connection reached, closing transmission channel",
        None,
        "421",
        None,
        "toomanyconn",
        "soft",
        "Yahoo (Sisimai Rhost::YahooInc)",
    ),
    Case(
        "452 4.5.3 Too many recipients",
        "4.5.3",
        "452",
        "RCPT",
        "toomanyconn",
        "soft",
        "Exchange Online NDR 4.5.3 (learn.microsoft.com)",
    ),
    Case(
        (
            "450 4.2.1 The user you are trying to contact is receiving mail too quickly. "
            "Please resend your message at a later time. If the user is able to receive mail "
            "at that time, your message will be delivered."
        ),
        "4.2.1",
        "450",
        "RCPT",
        "speeding",
        "soft",
        "Gmail, SendGrid docs common_smtp_server_bounce_responses.md",
    ),
    Case(
        (
            "450-4.2.1 The user you are trying to contact is receiving mail at a rate that "
            "450-4.2.1 prevents additional messages from being delivered. Please resend your "
            "450-4.2.1 message at a later time."
        ),
        "4.2.1",
        "450",
        "RCPT",
        "speeding",
        "soft",
        "Gmail SMTP error reference (ReceivingRatePerm)",
    ),
    Case(
        (
            "421 4.7.1 Messages to neko@icloud.com deferred due to excessive volume. Try "
            "again later - https://support.apple.com/en-us/HT204137"
        ),
        "4.7.1",
        "421",
        "RCPT",
        "speeding",
        "soft",
        "iCloud Mail (Sisimai Rhost::Apple)",
    ),
    Case(
        "450 User is receiving mail too quickly",
        None,
        "450",
        "RCPT",
        "speeding",
        "soft",
        "Yahoo (Sisimai Rhost::YahooInc)",
    ),
    Case(
        "4.3.2 STOREDRV.Deliver; recipient thread limit exceeded",
        "4.3.2",
        None,
        None,
        "speeding",
        "soft",
        "Exchange Online NDR 4.3.2 (learn.microsoft.com)",
    ),
    Case(
        "452 4.3.1 Insufficient system storage",
        "4.3.1",
        "452",
        "MAIL",
        "systemfull",
        "soft",
        "Postfix smtpd queue_minfree, SendGrid docs",
    ),
    Case(
        "452 4.3.1 Insufficient system resources",
        "4.3.1",
        "452",
        "MAIL",
        "systemfull",
        "soft",
        "Exchange back pressure NDR 4.3.1 (learn.microsoft.com)",
    ),
    Case(
        "452 Space shortage, please try later",
        None,
        "452",
        "MAIL",
        "systemfull",
        "soft",
        "Exim smtp_in.c check_spool_space",
    ),
    Case(
        "452 4.4.5 Insufficient disk space; try again later",
        "4.4.5",
        "452",
        "MAIL",
        "systemfull",
        "soft",
        "Sendmail srvrsmtp.c",
    ),
    Case(
        "451 Temporary local problem - please try later",
        None,
        "451",
        "DATA",
        "systemerror",
        "soft",
        "qmail, SendGrid docs common_smtp_server_bounce_responses.md",
    ),
    Case(
        "451 4.3.0 Error: queue file write error",
        "4.3.0",
        "451",
        "DATA",
        "systemerror",
        "soft",
        "Postfix cleanup/smtpd",
    ),
    Case(
        "451 4.3.5 Server configuration error",
        "4.3.5",
        "451",
        "RCPT",
        "systemerror",
        "soft",
        "Postfix smtpd_check.c",
    ),
    Case(
        "421-4.3.0 Temporary System Problem. Try again later (10). 421 4.3.0 gsmtp",
        "4.3.0",
        "421",
        None,
        "systemerror",
        "soft",
        "Gmail SMTP error reference",
    ),
    Case(
        "451 4.3.0 <rcpt@example.org>: Temporary lookup failure",
        "4.3.0",
        "451",
        "RCPT",
        "systemerror",
        "soft",
        "Postfix smtpd_check.c",
    ),
    Case(
        "mail for example.org loops back to myself",
        "5.4.6",
        None,
        None,
        "systemerror",
        "soft",
        "Postfix smtp_addr.c (Sisimai classes 'loops back to myself' as systemerror)",
    ),
    Case(
        (
            "delivery temporarily suspended: connect to mx.example.com[192.0.2.1]:25: "
            "Connection timed out"
        ),
        "4.4.1",
        None,
        None,
        "expired",  # RFC 3463 4.4.1 "no answer from host" on a queued message; not suspend
        "soft",
        "Postfix qmgr/smtp; maintainers' case (not suspend)",
    ),
    Case(
        (
            "delivery temporarily suspended: connect to mx.example.com[192.0.2.1]:25: "
            "Connection refused"
        ),
        "4.4.1",
        None,
        None,
        "expired",
        "soft",
        "Postfix qmgr/smtp",
    ),
    Case(
        "mail forwarding loop for user2@mydomain.it",
        "5.4.6",
        None,
        None,
        "networkerror",
        "soft",
        "Postfix local(8), https://pastebin.com/z0KWDExk",
    ),
    Case(
        (
            "554 5.4.14 Hop count exceeded - possible mail loop ATTR34 "
            "[BN7NAM10FT058.eop-nam10.prod.protection.outlook.com]"
        ),
        "5.4.14",
        "554",
        None,
        "networkerror",
        "soft",
        "Exchange Online NDR 5.4.14 (learn.microsoft.com)",
    ),
    Case(
        "554-5.4.6 Message exceeded 50 hops, this may indicate a mail loop.",
        "5.4.6",
        "554",
        "DATA",
        "networkerror",
        "soft",
        "Gmail SMTP error reference (MailLoop)",
    ),
    Case(
        (
            "554 5.4.6 Too many hops 26 (25 max): from <a@example.com> via mx.example.net, "
            "to <b@example.org>"
        ),
        "5.4.6",
        "554",
        None,
        "networkerror",
        "soft",
        "Sendmail",
    ),
    Case(
        "554 Mail loop detected",
        None,
        "554",
        "DATA",
        "networkerror",
        "soft",
        "Mimecast SMTP error codes (community.mimecast.com)",
    ),
    Case(
        "connect to mx.example.com[192.0.2.1]:25: No route to host",
        None,
        None,
        None,
        "networkerror",
        "soft",
        "Postfix smtp_connect.c",
    ),
    Case(
        (
            "lost connection with mx.example.com[192.0.2.1] while receiving the initial "
            "server greeting"
        ),
        "4.4.2",
        None,
        "CONN",
        "networkerror",
        "soft",
        "Postfix smtp_proto.c",
    ),
    Case(
        (
            "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1) I'm not going to "
            "try again; this message has been in the queue too long."
        ),
        None,
        None,
        None,
        "expired",
        "soft",
        "qmail-remote/qmail-send",
    ),
    Case(
        "retry time not reached for any host after a long failure period",
        None,
        None,
        None,
        "expired",
        "soft",
        "Exim deliver.c",
    ),
    Case(
        (
            "all hosts for 'example.org' have been failing for a long time (and retry time "
            "not reached)"
        ),
        None,
        None,
        None,
        "expired",
        "soft",
        "Exim deliver.c",
    ),
    Case(
        "550 4.4.7 QUEUE.Expired; message expired",
        "4.4.7",
        "550",
        None,
        "expired",
        "soft",
        "Exchange 2010 NDR (Sisimai Rhost::ExchangeOnline)",
    ),
    Case(
        "550 5.4.300 Message expired",
        "5.4.300",
        "550",
        None,
        "expired",
        "soft",
        "Exchange Online NDR 5.4.300 (learn.microsoft.com)",
    ),
    Case(
        'Command died with status 255: "procmail -a "$EXTENSION""',
        "5.3.0",
        None,
        None,
        "mailererror",
        "soft",
        "Postfix local(8), https://pastebin.com/8H3mTzMM",
    ),
    Case(
        'Command died with signal 9: "/usr/lib/dovecot/deliver"',
        "5.3.0",
        None,
        None,
        "mailererror",
        "soft",
        "Postfix pipe_command.c",
    ),
    Case(
        'Command time limit exceeded: "/usr/bin/procmail"',
        "5.3.0",
        None,
        None,
        "mailererror",
        "soft",
        "Postfix pipe_command.c",
    ),
    Case(
        (
            "Child process of virtual_pipe transport returned 69 (could mean service or "
            "program unavailable) from command: /usr/local/bin/handler"
        ),
        None,
        None,
        None,
        "mailererror",
        "soft",
        "Exim pipe transport",
    ),
    Case(
        "554 5.3.0 unknown mailer error 1",
        "5.3.0",
        "554",
        None,
        "mailererror",
        "soft",
        "Sendmail deliver.c",
    ),
    Case(
        (
            "556 5.1.10 <foo@example.com>: Recipient address rejected: Domain example.com "
            "does not accept mail (nullMX)"
        ),
        "5.1.10",
        "556",
        "RCPT",
        "notaccept",
        "hard",
        "Postfix smtpd, RFC 7505 null MX (find_string 'does not accept mail (nullMX)')",
    ),
    Case(
        "Domain example.com does not accept mail (nullMX)",
        "5.1.10",
        None,
        None,
        "notaccept",
        "hard",
        "Postfix dns_lookup.c, RFC 7505",
    ),
    Case(
        "521 5.3.2 mail.example.net does not accept mail",
        "5.3.2",
        "521",
        "CONN",
        "notaccept",
        "hard",
        "RFC 7504 (521 reply), RFC 3463 X.3.2",
    ),
    Case(
        "550 5.1.6 recipient no longer on server: kijitora@example.go.jp",
        "5.1.6",
        "550",
        "RCPT",
        "hasmoved",
        "hard",
        "iCloud, quoted in Sisimai::Reason::HasMoved docs",
    ),
    Case(
        "551 5.1.6 User not local; please try <new-address@example.net>",
        "5.1.6",
        "551",
        "RCPT",
        "hasmoved",
        "hard",
        "RFC 5321 section 3.4 (551 with forward-path), RFC 3463 X.1.6",
    ),
]


def _ids(cases):
    seen: dict[str, int] = {}
    ids = []
    for case in cases:
        seen[case.reason] = seen.get(case.reason, 0) + 1
        ids.append(f"{case.reason}-{seen[case.reason]:02d}")
    return ids


def test_table_is_well_formed():
    assert 120 <= len(CASES) <= 200
    for case in CASES:
        assert case.reason in REASONS, case
        assert case.source.strip(), case
        temporary = (case.status or case.reply_code or "5").startswith("4")
        hard = case.reason in HARD and not (case.reason == "notaccept" and temporary)
        assert case.bounce_class == ("hard" if hard else "soft"), case


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_published_wording_is_classified(case: Case):
    entry = Entry(
        RECIPIENT,
        action="failed",
        status=case.status,
        reply_code=case.reply_code,
        diagnostic=case.text,
        command=case.command,
    )
    found = verdict(entry, "bounce")
    assert (found.reason, found.bounce_class) == (case.reason, case.bounce_class), case.source

"""Tests for dsn.parse over literal samples of each report format."""

from pathlib import Path

import pytest

from bouncer.core.dsn import parse
from bouncer.core.model import KINDS

POSTFIX_DSN = b"""From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: sender@example.net
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="B1"

--B1
Content-Type: text/plain

<who@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1
    <who@example.org>: Recipient address rejected (in reply to RCPT TO command)

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Thu, 29 Apr 2010 23:34:45 +0900 (JST)

Final-Recipient: RFC822; who@example.org
Original-Recipient: rfc822;Who@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <who@example.org>:
    Recipient address rejected

--B1
Content-Type: text/rfc822-headers

From: sender@example.net
To: who@example.org
Subject: Hello
Message-ID: <orig-1@example.net>

--B1--
"""


def test_postfix_dsn_entry_and_original() -> None:
    report = parse(POSTFIX_DSN)
    assert report.kind == "bounce"
    assert report.reporting_mta == "mx.example.net"
    assert report.arrival_date is not None
    (entry,) = report.entries
    assert entry.address == "who@example.org"
    assert entry.original_recipient == "Who@example.org"
    assert (entry.action, entry.status, entry.reply_code) == ("failed", "5.1.1", "550")
    assert entry.diagnostic == "550 5.1.1 <who@example.org>: Recipient address rejected"
    assert entry.diagnostic_type == "smtp"
    assert report.original.message_id == "<orig-1@example.net>"
    assert report.original.subject == "Hello"


def test_crlf_and_cr_only_give_the_same_report() -> None:
    base = parse(POSTFIX_DSN)
    assert parse(POSTFIX_DSN.replace(b"\n", b"\r\n")) == base
    assert parse(POSTFIX_DSN.replace(b"\n", b"\r")) == base


def test_delay_dsn_is_delay_with_retry_date() -> None:
    raw = POSTFIX_DSN.replace(b"Action: failed", b"Action: Delayed").replace(
        b"Status: 5.1.1", b"Status: 4.4.1\nWill-Retry-Until: Mon, 3 May 2010 23:34:45 +0900"
    )
    raw = raw.replace(b"550 5.1.1 <who@example.org>:\n", b"451 4.4.1 <who@example.org>:\n")
    report = parse(raw)
    assert report.kind == "delay"
    assert report.entries[0].action == "delayed"
    assert report.entries[0].will_retry_until is not None


EXIM = b"""From: Mail Delivery System <Mailer-Daemon@mx.example.net>
To: sender@example.net
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: gone@example.org

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  gone@example.org
    SMTP error from remote mail server after RCPT TO:<gone@example.org>:
    host mx.example.org [192.0.2.2]: 550 5.1.1 No such user

------ This is a copy of the message, including all the headers. ------

From: sender@example.net
To: gone@example.org, other@example.org
Subject: hi
Message-ID: <m1@example.net>

hi
"""


def test_exim_bounce_reads_recipient_and_error_text() -> None:
    report = parse(EXIM)
    assert report.kind == "bounce"
    assert [entry.address for entry in report.entries] == ["gone@example.org"]
    entry = report.entries[0]
    assert (entry.status, entry.reply_code) == ("5.1.1", "550")
    assert entry.diagnostic.endswith("550 5.1.1 No such user")
    assert report.original.message_id == "<m1@example.net>"


def test_addresses_of_the_returned_message_are_never_recipients() -> None:
    report = parse(EXIM)
    assert "other@example.org" not in {entry.address for entry in report.entries}


QMAIL = b"""From: MAILER-DAEMON@mx.example.net
To: sender@example.net
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<full@example.org>:
192.0.2.3 does not like recipient.
Remote host said: 552 5.2.2 Mailbox full
Giving up on 192.0.2.3.

--- Below this line is a copy of the message.

To: full@example.org
Subject: x
"""


def test_qmail_bounce() -> None:
    report = parse(QMAIL)
    (entry,) = report.entries
    assert entry.address == "full@example.org"
    assert (entry.status, entry.reply_code) == ("5.2.2", "552")
    assert "Mailbox full" in entry.diagnostic


ARF = b"""From: fbl@isp.example
To: abuse@example.net
Subject: complaint
Content-Type: multipart/report; report-type=feedback-report; boundary="A"

--A
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.9

--A
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Example-FBL/1.0
Version: 1
Original-Rcpt-To: <angry@isp.example>
Arrival-Date: Thu, 29 Apr 2010 23:34:45 +0000

--A
Content-Type: message/rfc822

From: news@example.net
To: angry@isp.example
Subject: offer
Message-ID: <n1@example.net>

buy
--A--
"""


def test_arf_complaint() -> None:
    report = parse(ARF)
    assert report.kind == "complaint"
    (entry,) = report.entries
    assert (entry.address, entry.feedback_type, entry.hint) == (
        "angry@isp.example",
        "abuse",
        "feedback",
    )
    assert report.original.message_id == "<n1@example.net>"
    assert report.arrival_date is not None


def test_arf_without_rcpt_to_uses_the_returned_to() -> None:
    report = parse(ARF.replace(b"Original-Rcpt-To: <angry@isp.example>\n", b""))
    assert [entry.address for entry in report.entries] == ["angry@isp.example"]


AUTOREPLY = b"""From: Kim <kim@example.org>
To: sender@example.net
Subject: =?UTF-8?Q?Abwesenheitsnotiz:_hello?=
Auto-Submitted: auto-replied

I am out of the office until Monday.
"""


def test_autoreply_names_the_replier() -> None:
    report = parse(AUTOREPLY)
    assert report.kind == "autoreply"
    (entry,) = report.entries
    assert (entry.address, entry.hint) == ("kim@example.org", "vacation")
    assert report.subject == "Abwesenheitsnotiz: hello"


def test_autoreply_by_subject_alone() -> None:
    raw = AUTOREPLY.replace(b"Auto-Submitted: auto-replied\n", b"").replace(
        b"Subject: =?UTF-8?Q?Abwesenheitsnotiz:_hello?=", b"Subject: Out of Office: hello"
    )
    assert parse(raw).kind == "autoreply"


def test_ses_bounce_json() -> None:
    raw = (
        b"From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n"
        b'{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
        b'"bouncedRecipients":[{"emailAddress":"x@example.org","action":"failed",'
        b'"status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]}}\n'
    )
    report = parse(raw)
    assert report.kind == "bounce"
    (entry,) = report.entries
    assert (entry.address, entry.status, entry.reply_code) == ("x@example.org", "5.1.1", "550")
    assert entry.diagnostic == "550 5.1.1 user unknown"


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00\xff\xfe garbage \x80" * 50, POSTFIX_DSN[:300], b"Content-Type: multipart/x\n\n--"],
)
def test_junk_and_truncated_input_never_raises(raw: bytes) -> None:
    assert parse(raw).kind in KINDS


def test_plain_mail_is_unknown() -> None:
    raw = b"From: friend@example.org\nTo: me@example.net\nSubject: lunch?\n\nAre you free today?\n"
    assert parse(raw).kind == "unknown"


CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "dev" / "emails"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="dev corpus not present")
def test_every_corpus_message_parses_to_a_valid_kind() -> None:
    for path in sorted(CORPUS.rglob("*.eml")):
        report = parse(path.read_bytes())
        assert report.kind in KINDS, path
        assert all(entry.address for entry in report.entries), path


def test_forwarded_quoted_dsn_fields_are_read() -> None:
    raw = (
        b"From: someone@example.net\nSubject: Fwd: Returned mail\n\n"
        b"> Final-Recipient: RFC822; lost@example.org\n> Action: failed\n> Status: 5.1.1\n"
        b"> Diagnostic-Code: SMTP; 550 5.1.1 <lost@example.org>... User unknown\n"
    )
    report = parse(raw)
    assert report.kind == "bounce"
    assert [(e.address, e.status, e.reply_code) for e in report.entries] == [
        ("lost@example.org", "5.1.1", "550")
    ]


def test_many_header_like_lines_stay_fast_and_safe() -> None:
    raw = b"From: MAILER-DAEMON@x.example\nSubject: Undelivered\n\n" + b"X-A: b\n" * 5000
    assert parse(raw).kind in KINDS


def test_message_id_in_the_text_is_not_a_recipient() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\nTo: s@example.net\nSubject: Undelivered Mail\n\n"
        b"Delivery to the following recipient failed permanently:\n\n"
        b"    nobody@example.org\n\nMessage-ID: <abc123@example.net>\n"
    )
    assert [entry.address for entry in parse(raw).entries] == ["nobody@example.org"]

"""Tests for non-standard bounces: the recipient, its error text and the command it answered."""

from bouncer.core.dsn import parse

GROUP_NOTICE = b"""From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: writer@example.net
Subject: Delivery Status Notification (Failure)
X-Failed-Recipients: team@groups.example.com
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 8bit

Hallo writer@example.net,

die Gruppe, die Sie kontaktieren wollten (team), existiert vielleicht nicht.

 * Der Gruppenname ist falsch geschrieben.
 * Der Inhaber hat die Gruppe entfernt.
 * Sie muessen der Gruppe beitreten.
 * Die Gruppe nimmt keine Beitraege an.

Hilfe finden Sie unter https://groups.google.com/support/.

----- Original message -----

From: writer@example.net
To: team@groups.example.com
Subject: hi
"""


def test_group_post_refusal_in_any_language_is_rejected():
    report = parse(GROUP_NOTICE)
    (entry,) = report.entries
    assert (report.kind, entry.address, entry.hint) == (
        "bounce",
        "team@groups.example.com",
        "rejected",
    )


def test_group_notice_without_its_list_of_causes_gets_no_hint():
    text = GROUP_NOTICE.replace(b" * ", b"")
    (entry,) = parse(text).entries
    assert entry.hint is None


TRANSCRIPT_DSN = b"""From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>
To: writer@example.net
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B

   ----- The following addresses had permanent fatal errors -----
<who@example.org>

   ----- Transcript of session follows -----
... while talking to mx.example.org.:
>>> DATA
<<< 550 Unknown user who@example.org
554 5.0.0 Service unavailable

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: RFC822; who@example.org
Action: failed
Status: 5.0.0
Diagnostic-Code: SMTP; 550 Unknown user who@example.org

--B--
"""


def test_standard_dsn_entry_takes_the_command_from_the_transcript():
    (entry,) = parse(TRANSCRIPT_DSN).entries
    assert entry.command == "DATA"


def test_transcript_rcpt_line_sets_the_command():
    raw = TRANSCRIPT_DSN.replace(b">>> DATA", b">>> RCPT To:<who@example.org>")
    (entry,) = parse(raw).entries
    assert entry.command == "RCPT"


GATEWAY_NOTICE = b"""From: postmaster@gateway.example.com
To: writer@example.net
Subject: Returned mail
Content-Type: text/plain; charset=us-ascii

Error: Invalid user address

Error message below:
550 - Requested action not taken: no such user here

Message details:
  Subject: Test message
  MAIL FROM: writer@example.net
  RCPT TO: 5550100@sms.example.com
  Size (in bytes): 39
"""


def test_reply_line_above_the_only_recipient_is_its_error_text():
    (entry,) = parse(GATEWAY_NOTICE).entries
    assert entry.address == "5550100@sms.example.com"
    assert entry.diagnostic.startswith("550 - Requested action not taken: no such user here")
    assert entry.reply_code == "550"
    assert entry.command is None  # an envelope summary names no failed command


def test_error_written_before_a_trailing_address_is_its_text():
    raw = (
        b"From: MAILER-DAEMON@example.com\nTo: writer@example.net\nSubject: Returned mail\n\n"
        b"User's mailbox is full: <who@example.org>\nUnable to deliver mail.\n"
    )
    (entry,) = parse(raw).entries
    assert entry.address == "who@example.org"
    assert "mailbox is full" in entry.diagnostic

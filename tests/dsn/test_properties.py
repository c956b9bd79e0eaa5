"""Property tests of the parser: whatever bytes arrive, `bouncer.core.dsn.report.read` (the reader
that does not catch exceptions) returns exactly one Report whose kind is one of KINDS, and
classifying it raises nothing either.

Inputs: arbitrary bytes, text assembled from the pieces reports are made of (headers, MIME
boundaries, delivery-status fields, addresses, reply codes), and the hand-written fixtures in
tests/data/bounces mutated (bytes flipped, cut, spliced, parts repeated, line endings changed).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bouncer.core.analyse import analyse
from bouncer.core.dsn.report import read
from bouncer.core.model import KINDS, Report

FIXTURES = sorted((Path(__file__).resolve().parents[1] / "data" / "bounces").glob("*.eml"))
SAMPLES = [path.read_bytes() for path in FIXTURES]

PIECES = [
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n",
    b"Subject: Undelivered Mail Returned to Sender\n",
    b"Subject: Delivery Status Notification (Delay)\n",
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n',
    b"Content-Type: multipart/mixed; boundary=B\n",
    b"Content-Type: message/delivery-status\n",
    b"Content-Type: message/feedback-report\n",
    b"Content-Type: message/rfc822\n",
    b"Content-Type: text/plain; charset=utf-8\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"--B\n",
    b"--B--\n",
    b"\n",
    b"Reporting-MTA: dns; mx.example.net\n",
    b"Final-Recipient: rfc822; who@example.org\n",
    b"Original-Recipient: rfc822;Who@example.org\n",
    b"Action: failed\n",
    b"Action: delayed\n",
    b"Status: 5.1.1\n",
    b"Status: 4.2.2\n",
    b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n",
    b"Diagnostic-Code: smtp; 452 4.2.2 mailbox full\n",
    b"Will-Retry-Until: Thu, 29 Apr 2010 23:34:45 +0900\n",
    b"Last-Attempt-Date: not a date\n",
    b"    continued folded text\n",
    b"<who@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 no such user\n",
    b"   (in reply to RCPT TO command)\n",
    b"The following addresses had permanent fatal errors:\n",
    b"Feedback-Type: abuse\n",
    b"=?utf-8?b?w6k=?= =?bogus?q?x?=\n",
    b"\r\n",
    b"\xff\xfe\x00junk\x80\n",
]

fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _holds(raw: bytes) -> None:
    """Assert the properties for one input."""
    report = read(raw)
    assert isinstance(report, Report)
    assert report.kind in KINDS
    analysis = analyse(report)
    assert len(analysis.verdicts) == len(report.entries)


@fast
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_give_one_report(raw: bytes) -> None:
    _holds(raw)


@fast
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_assembled_report_pieces_give_one_report(pieces: list[bytes]) -> None:
    _holds(b"".join(pieces))


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    """A fixture with a few random edits: flip, cut, splice junk, repeat a slice, CRLF."""
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["flip", "cut", "splice", "repeat", "crlf", "truncate"]))
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        span = draw(st.integers(0, 200))
        if edit == "flip" and raw:
            raw[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del raw[at : at + span]
        elif edit == "splice":
            raw[at:at] = draw(st.binary(max_size=64) | st.sampled_from(PIECES))
        elif edit == "repeat":
            raw[at:at] = raw[at : at + span] * draw(st.integers(2, 20))
        elif edit == "crlf":
            raw = bytearray(bytes(raw).replace(b"\n", b"\r\n"))
        else:
            del raw[at:]
    return bytes(raw)


@fast
@given(mutated_samples())
def test_mutated_fixtures_give_one_report(raw: bytes) -> None:
    _holds(raw)


def test_the_fixtures_are_there() -> None:
    assert len(SAMPLES) >= 10  # the mutation test has real reports to start from

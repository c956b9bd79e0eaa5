"""Tests for finding the SMTP command a failure reply answered."""

import pytest

from bouncer.core.dsn.command import (
    command_for,
    find_command,
    region_command,
    stated_command,
    transcript_replies,
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("550 5.1.1 <a@example.org>... User Unknown (in reply to RCPT TO command)", "RCPT"),
        ("550 5.1.1 User Unknown (in reply to\n    RCPT TO command)", "RCPT"),
        ("554 5.7.1 Spam (in reply to end of DATA command)", "DATA"),
        ("554 Transaction failed (in reply to MAIL FROM command)", "MAIL"),
        ("SMTP error from remote mail server after RCPT TO:<a@example.org>: 550 no", "RCPT"),
        ("SMTP error from remote mail server after end of data: 550 spam", "DATA"),
        ("SMTP error from remote mail server after initial connection: 554 go away", "CONN"),
        ("SMTP error from remote mailer after pipelined MAIL FROM:<s@example.net>: 550", "MAIL"),
        ("mx.example.org [192.0.2.1] did not like our RCPT TO: 550 no such user", "RCPT"),
        ("(Error following RCPT command). It responded as follows: [550 5.1.1 unknown]", "RCPT"),
        ("192.0.2.1 does not like recipient. Remote host said: 550 no such user", "RCPT"),
        ("Connected to 192.0.2.1 but sender was rejected. Remote host said: 553 no", "MAIL"),
        ("Connected to 192.0.2.1 but my name was rejected.", "HELO"),
        ("host mx.example.org[192.0.2.1] refused to talk to me: 554 blocked", "CONN"),
        ("Remote host said: 550 5.2.2 <a@example.org>... Mailbox Full [RCPT_TO]", "RCPT"),
    ],
)
def test_reporting_phrases_name_the_command(text, command):
    assert find_command(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "550 5.1.1 User unknown",
        "Message details:\n  MAIL FROM: s@example.net\n  RCPT TO: a@example.org\n",
        None,
    ],
)
def test_envelope_summaries_and_plain_replies_name_no_command(text):
    assert find_command(text) is None


TRANSCRIPT = """   ----- Transcript of session follows -----
... while talking to mx.example.org.:
>>> RCPT To:<one@example.org>
<<< 550 5.1.1 <one@example.org>... User unknown
>>> RCPT To:<two@example.org>
<<< 250 2.1.5 OK
>>> DATA
<<< 554 5.7.1 Message refused
"""


def test_transcript_lists_each_refused_command_with_its_argument():
    assert transcript_replies(TRANSCRIPT) == [
        ("RCPT", "To:<one@example.org>"),
        ("DATA", ""),
    ]


def test_transcript_line_naming_the_address_wins_then_the_first_refusal():
    assert command_for("one@example.org", "550 5.1.1 User unknown", "", TRANSCRIPT) == "RCPT"
    assert command_for("two@example.org", "554 5.7.1 Message refused", "", TRANSCRIPT) == "RCPT"


def test_diagnostic_then_own_paragraph_then_whole_region():
    region = (
        "<one@example.org>: host mx.example.org said: 550 no such user (in reply to RCPT TO\n"
        "    command)\n\n"
        "<two@example.org>: host mx.example.org said: 554 spam (in reply to end of DATA\n"
        "    command)\n"
    )
    assert command_for("two@example.org", "554 spam", region, region) == "DATA"
    assert command_for("one@example.org", "550 no such user", region, region) == "RCPT"
    assert command_for("x@example.org", "550 no (in reply to MAIL FROM command)", "", "") == "MAIL"
    assert command_for("x@example.org", "550 no", region, region) == "RCPT"


def test_stated_command_reads_only_the_diagnostic_and_a_transcript():
    assert stated_command("x@example.org", "550 no (in reply to RCPT TO command)", "") == "RCPT"
    assert stated_command("two@example.org", "554 refused", TRANSCRIPT) == "RCPT"
    assert stated_command("x@example.org", "550 no", "after RCPT TO: 550 no") is None


def test_region_command_prefers_the_address_paragraph():
    region = (
        "<one@example.org>: 550 no such user (in reply to RCPT TO command)\n\n"
        "<two@example.org>: 554 spam (in reply to end of DATA command)\n"
    )
    assert region_command("two@example.org", region) == "DATA"
    assert region_command("nobody@example.org", region) == "RCPT"
    assert region_command("one@example.org", "no phrase here") is None

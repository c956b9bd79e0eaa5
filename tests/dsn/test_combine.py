"""Tests for completing delivery-status entries from the report's text."""

from bouncer.core.dsn.combine import add_commands
from bouncer.core.model import Entry


def test_command_from_diagnostic_then_from_the_bounce_region():
    texts = [
        "This is the mail system.\n\n"
        "<b@example.org>: host mx.example.org said: 550 unknown (in reply to RCPT TO command)\n"
        "\n------ This is a copy of the message, including all the headers. ------\n"
        "Sent after END OF DATA command\n"
    ]
    entries = (
        Entry(address="a@example.org", diagnostic="554 spam (in reply to end of DATA command)"),
        Entry(address="b@example.org", diagnostic="550 unknown"),
        Entry(address="c@example.org", command="MAIL"),
    )
    commands = [entry.command for entry in add_commands(entries, texts)]
    assert commands == ["DATA", "RCPT", "MAIL"]


def test_no_command_when_the_text_names_none():
    entries = (Entry(address="a@example.org", diagnostic="550 no"),)
    assert add_commands(entries, ["Delivery failed."])[0].command is None

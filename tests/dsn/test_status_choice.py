"""Tests for choosing a status code among the stated one and those in the text."""

import pytest

from bouncer.core.dsn.status_choice import find_status, preferred_status


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("554 4.4.7 Message expired: unable to deliver.<421 4.4.2 Connection timed out>", "4.4.2"),
        ("550 5.0.0 <a@example.org>... 550 5.1.1 User unknown", "5.1.1"),
        ("554 5.0.0 Service unavailable", "5.0.0"),
        ("250 2.1.5 ok then 550 5.1.1 unknown", "5.1.1"),
        ("250 2.1.5 ok", "2.1.5"),
        ("no code at 192.0.2.1 here", None),
    ],
)
def test_text_gives_its_most_specific_code(text, status):
    assert find_status(text) == status


@pytest.mark.parametrize(
    ("stated", "in_text", "reply", "chosen"),
    [
        ("5.0.0", "5.3.0", None, "5.3.0"),  # x.0.0 says nothing
        ("5.3.0", "5.0.0", None, "5.3.0"),
        ("5.1.1", "5.1.0", None, "5.1.1"),  # the stated detail beats an x.Y.0 one
        ("5.1.0", "5.1.1", None, "5.1.1"),
        ("4.4.7", "4.4.2", None, "4.4.2"),  # expiry wraps the last error seen
        ("5.5.2", "5.7.1", None, "5.7.1"),  # a command syntax code wraps the refusal
        ("5.2.1", "5.1.1", None, "5.2.1"),  # two specific codes: the Status field stands
        ("5.0.0", "4.2.2", "452", "4.2.2"),  # classes differ: the reply code decides
        ("5.2.2", "4.2.2", "552", "5.2.2"),
        (None, "5.1.1", None, "5.1.1"),
        ("5.1.1", None, None, "5.1.1"),
    ],
)
def test_preferred_status(stated, in_text, reply, chosen):
    assert preferred_status(stated, in_text, reply) == chosen

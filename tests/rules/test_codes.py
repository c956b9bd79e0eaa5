"""Tests for the code tables: status → reason, reply code → reason, reason → pseudo status."""

import pytest

from bouncer.core.rules.codes import reply_reason, status_reason


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("5.1.1", "userunknown"),
        ("5.1.2", "hostunknown"),
        ("5.1.6", "hasmoved"),
        ("5.2.2", "mailboxfull"),
        ("4.2.2", "mailboxfull"),
        ("5.3.4", "mesgtoobig"),
        ("5.2.3", "exceedlimit"),
        ("4.4.7", "expired"),
        ("5.7.26", "authfailure"),
        ("5.7.25", "requireptr"),
        ("5.7.13", "suspend"),
        ("5.7.28", "spamdetected"),
        ("5.7.27", "notaccept"),
    ],
)
def test_status_names_a_reason(status, reason):
    assert status_reason(status) == reason


@pytest.mark.parametrize("status", ["5.0.0", "4.0.0", "5.9.999", "", None])
def test_generic_or_unknown_status_names_nothing(status):
    assert status_reason(status) is None


@pytest.mark.parametrize(
    ("reply_code", "reason"),
    [("521", "notaccept"), ("556", "notaccept"), ("525", "suspend"), ("501", "syntaxerror")],
)
def test_reply_code_names_a_reason(reply_code, reason):
    assert reply_reason(reply_code) == reason


@pytest.mark.parametrize("reply_code", ["550", "451", "250", None, ""])
def test_ambiguous_reply_code_names_nothing(reply_code):
    assert reply_reason(reply_code) is None

"""Tests for RFC 3464 field values."""

from bouncer.core.dsn.fields import (
    decode_address,
    field_blocks,
    find_reply_code,
    find_status,
    parse_date,
    preferred_status,
    typed_value,
)


def test_blocks_are_split_and_folded_lines_joined() -> None:
    blocks = field_blocks(
        "Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822;\n x@y.org\nACTION: Failed\n"
    )
    assert blocks == [
        [("reporting-mta", "dns; a")],
        [("final-recipient", "rfc822; x@y.org"), ("action", "Failed")],
    ]


def test_typed_value_and_xtext_addresses() -> None:
    assert typed_value("smtp; 550 no") == ("smtp", "550 no")
    assert decode_address("rfc822", "<a+2Bb@example.org>") == "a+b@example.org"
    assert decode_address("utf-8", "j\\x{00F6}rg@example.org") == "jörg@example.org"


def test_status_and_reply_code_found_in_text() -> None:
    assert find_status("250 2.1.5 ok then 550 5.1.1 unknown") == "5.1.1"
    assert find_status("#5.1.0 Address rejected") == "5.1.0"
    assert find_status("at 192.0.2.1 only") is None
    assert find_reply_code("host said: 550 5.1.1 <x@y>: unknown") == "550"
    assert find_reply_code("Thu, 29 Apr 2010 23:34:45 +0900") is None


def test_specific_diagnostic_status_wins_over_generic_one() -> None:
    assert preferred_status("5.0.0", "5.3.0") == "5.3.0"
    assert preferred_status("5.3.0", "5.0.0") == "5.3.0"
    assert preferred_status(None, None) is None


def test_dates_are_aware_or_none() -> None:
    parsed = parse_date("Thu, 29 Apr 2010 23:34:45 +0900 (JST)")
    assert parsed is not None and parsed.utcoffset() is not None
    assert parse_date("not a date") is None

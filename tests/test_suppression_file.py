"""The suppression list as CSV or JSON Lines (bouncer.core.suppression_file): pure reading and
writing, every bad row named with its line and field."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from bouncer.core.suppression_file import FIELDS, csv_lines, guess_format, json_lines, read

FULL = {
    "address": "Gone@Example.com",
    "final_recipient": "u1@mbox.example.com",
    "reason": "userunknown",
    "class": "hard",
    "source": "bounce",
    "first_seen": "2026-03-01T10:00:00.000Z",
    "last_seen": "2026-03-02T11:30:00.000Z",
    "count": 3,
    "status": "5.1.1",
    "diagnostic": 'smtp; 550 5.1.1 "quoted", with commas\nand a second line',
    "expires_at": None,
    "note": None,
}


def test_csv_reads_the_given_fields_only_empty_cells_as_none() -> None:
    text = "address,reason,note,expires_at\na@example.com,asked,,2026-04-01\n"
    (entry,), errors = read(text.splitlines(keepends=True), "csv")
    assert errors == [] and entry.line == 2
    assert entry.values == {
        "address": "a@example.com",
        "reason": "asked",
        "note": None,
        "expires_at": datetime(2026, 4, 1, tzinfo=UTC),
    }


def test_json_lines_tell_left_out_from_null() -> None:
    text = '{"address": "a@example.com", "reason": "r", "count": 2, "note": null}\n\n'
    (entry,), errors = read(text.splitlines(keepends=True), "json")
    assert errors == [] and entry.values == {
        "address": "a@example.com",
        "reason": "r",
        "count": 2,
        "note": None,
    }


def test_what_is_written_reads_back_the_same_in_both_formats() -> None:
    for fmt, writer in (("csv", csv_lines), ("json", json_lines)):
        text = "".join(writer([FULL, {**FULL, "address": "b@example.org", "note": "x,y"}]))
        entries, errors = read(io.StringIO(text), fmt)
        assert errors == [] and [e.line for e in entries] == ([2, 4] if fmt == "csv" else [1, 2])
        first = entries[0].values
        assert set(first) == set(FIELDS)
        assert first["diagnostic"] == FULL["diagnostic"] and first["count"] == 3
        assert first["first_seen"] == datetime(2026, 3, 1, 10, tzinfo=UTC)
        assert entries[1].values["note"] == "x,y"
    header = next(csv.reader(io.StringIO("".join(csv_lines([])))))
    assert header == list(FIELDS)
    assert json.loads(next(json_lines([FULL])))["count"] == 3


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("not an address,r,hard,1,", "address", "'not an address': an address such as"),
        ("<a@example.com>,r,hard,1,", "address", "no angle brackets"),
        ("a@example.com,,hard,1,", "reason", "empty: a reason"),
        ("a@example.com,r,firm,1,", "class", '\'firm\': "hard" or "soft"'),
        ("a@example.com,r,hard,0,", "count", "a whole number, at least 1"),
        ("a@example.com,r,hard,many,", "count", "'many'"),
        ("a@example.com,r,hard,1,next week", "expires_at", "'next week' is not an ISO 8601"),
    ],
)
def test_a_bad_csv_row_is_named_by_line_and_field(row: str, field: str, words: str) -> None:
    text = f"address,reason,class,count,expires_at\nok@example.com,r,hard,1,\n{row}\n"
    entries, (error,) = read(text.splitlines(keepends=True), "csv")
    assert [e.values["address"] for e in entries] == ["ok@example.com"]
    assert (error.line, error.field) == (3, field) and words in error.message
    assert str(error).startswith(f"line 3, {field}: ")


def test_bad_json_lines_are_named_by_line() -> None:
    lines = [
        '{"address": "a@example.com", "reason": "r"}\n',
        '{"address": "b@example.com", "reason": "r", "colour": "red"}\n',
        '{"address": \n',
        "[1, 2]\n",
        '{"reason": "r"}\n',
        '{"address": "c@example.com", "reason": "r", "count": true}\n',
    ]
    entries, errors = read(lines, "json")
    assert len(entries) == 1
    assert [(e.line, e.field) for e in errors] == [
        (2, "colour"),
        (3, None),
        (4, None),
        (5, "address"),
        (6, "count"),
    ]
    assert "not JSON" in errors[1].message and "JSON object" in errors[2].message
    assert "missing" in errors[3].message


def test_a_csv_header_must_name_known_fields_and_address_and_reason() -> None:
    for header, words in (
        ("email,reason", "'email' is not one"),
        ("address,note", "reason is missing"),
        ("address,reason,reason", "one of them twice"),
    ):
        entries, (error,) = read([f"{header}\n", "a@example.com,r\n"], "csv")
        assert entries == [] and error.line == 1 and words in error.message


def test_a_row_with_too_few_cells_and_a_quoted_row_over_two_lines() -> None:
    text = 'address,reason,note\na@example.com,r,"two\nlines"\nb@example.com,r\nc@example.com,r,\n'
    entries, (error,) = read(io.StringIO(text), "csv")
    assert [(e.line, e.values["note"]) for e in entries] == [(2, "two\nlines"), (5, None)]
    assert error.line == 4 and "2 cells" in error.message


def test_format_guess_and_unknown_format() -> None:
    assert guess_format('  {"address": 1}') == "json" and guess_format("address,reason") == "csv"
    with pytest.raises(ValueError, match="csv, json"):
        read([], "xml")

"""Tests for case-insensitive patterns that search ASCII text lower-cased."""

import re

import pytest

from bouncer.core.dsn.caseless import Caseless


def test_finds_upper_case_text_at_the_same_position():
    pattern = Caseless(r"original message")
    found = pattern.search("See the ORIGINAL Message below")
    assert found is not None and found.span() == (8, 24)


def test_no_match_gives_none():
    assert Caseless(r"delayed").search("Delivered") is None


def test_multiline_start_and_position_argument():
    pattern = Caseless(r"^from:[ \t]", re.MULTILINE)
    text = "x From: a\nFROM: b\n"
    assert pattern.search(text).start() == 10
    assert pattern.search(text, 11) is None


def test_match_only_at_the_position():
    pattern = Caseless(r"return-path: <")
    assert pattern.match("Return-Path: <>") is not None
    assert pattern.match(" Return-Path: <>") is None
    assert pattern.match(" Return-Path: <>", 1) is not None


def test_non_ascii_text_keeps_unicode_case_folding():
    # With IGNORECASE, re lets the Kelvin sign match "k" and the long s match "s".
    assert Caseless(r"kelvin").search("\u212aelvin") is not None
    assert Caseless(r"status").search("\u017ftatus") is not None
    assert Caseless(r"stra\xdfe").search("STRA\xdfE") is not None


def test_letter_ranges_match_both_cases():
    assert Caseless(r"x-[A-Za-z]+:").search("X-Mailer: a").span() == (0, 9)


def test_upper_case_letters_in_the_pattern_are_refused():
    with pytest.raises(ValueError):
        Caseless(r"\bNDR\b")


def test_escapes_are_not_taken_for_letters():
    assert Caseless(r"\S+@\S+").search("To: A@B.example").group(0) == "a@b.example"

"""Signed VERP return paths: round trip, tampering, key rotation, age."""

from __future__ import annotations

import pytest

from bouncer.core.verp import decode, encode, refusal

SECRETS = {"a": b"first secret", "b": b"second secret"}
DAY = 20_782


def test_round_trip_names_the_recipient() -> None:
    path = encode("John.Doe+news@Example.com", "bounces@b.example", "a", SECRETS["a"], DAY)
    assert path.startswith("bounces+a") and path.endswith("-John.Doe+news=Example.com@b.example")
    token = decode(path, SECRETS, DAY, 60)
    assert (token.recipient, token.valid, token.problem) == (
        "John.Doe+news@Example.com",
        True,
        None,
    )


def test_a_relay_that_lowercases_the_address_keeps_it_valid() -> None:
    path = encode("John@Example.com", "bounces@b.example", "a", SECRETS["a"], DAY)
    assert decode(path.lower(), SECRETS, DAY, 60).valid
    assert decode(f"<{path.upper()}>", SECRETS, DAY, 60).valid


def test_forged_recipient_fails_the_signature() -> None:
    path = encode("victim@example.com", "bounces@b.example", "a", SECRETS["a"], DAY)
    forged = path.replace("victim=", "other=")
    assert decode(forged, SECRETS, DAY, 60).problem == "bad-signature"


def test_keys_rotate_by_id() -> None:
    old = encode("x@example.com", "bounces@b.example", "a", SECRETS["a"], DAY)
    new = encode("x@example.com", "bounces@b.example", "b", SECRETS["b"], DAY)
    assert decode(old, SECRETS, DAY, 60).valid and decode(new, SECRETS, DAY, 60).valid
    assert decode(old, {"b": SECRETS["b"]}, DAY, 60).problem == "unknown-key"


@pytest.mark.parametrize(("today", "problem"), [(DAY + 61, "expired"), (DAY - 2, "future")])
def test_age_is_bounded(today: int, problem: str) -> None:
    path = encode("x@example.com", "bounces@b.example", "a", SECRETS["a"], DAY)
    assert decode(path, SECRETS, DAY + 60, 60).valid
    assert decode(path, SECRETS, today, 60).problem == problem


def test_day_field_wraps() -> None:
    path = encode("x@example.com", "bounces@b.example", "a", SECRETS["a"], 0xFFFF)
    assert decode(path, SECRETS, 0x10000 + 3, 60).valid


@pytest.mark.parametrize(
    "address",
    [
        "bounces@b.example",
        "bounces+x@b.example",
        "bounces+a512ea52aec77f9x@b.example",
        "bounces+zzzzzzzzzzzzzzz-x=example.com@b.example",
        "",
    ],
)
def test_addresses_without_a_token(address: str) -> None:
    assert decode(address, SECRETS, DAY, 60) is None


def test_bad_inputs_to_encode_are_refused() -> None:
    with pytest.raises(ValueError):
        encode("no-at-sign", "bounces@b.example", "a", SECRETS["a"], DAY)
    with pytest.raises(ValueError):
        encode("x@example.com", "bounces@b.example", "ab", SECRETS["a"], DAY)


def test_the_mac_has_64_bits_and_earlier_40_bit_tags_still_read() -> None:
    path = encode("x@example.com", "bounces@b.example", "a", SECRETS["a"], DAY)
    tag = path.split("+", 1)[1].split("-", 1)[0]
    assert len(tag) == 1 + 4 + 16
    legacy = path.replace(tag, tag[:15])  # a tag written by an earlier version
    assert decode(legacy, SECRETS, DAY, 60).valid
    assert decode(path.replace(tag, tag[:15] + "0"), SECRETS, DAY, 60) is None


def test_a_mac_with_other_characters_is_refused_not_raised() -> None:
    path = encode("x@example.com", "bounces@b.example", "a", SECRETS["a"], DAY)
    tag = path.split("+", 1)[1].split("-", 1)[0]
    for odd in ("é" * 16, "０" * 16, "\x00" * 16):
        forged = path.replace(tag, tag[:5] + odd)
        token = decode(forged, SECRETS, DAY, 60)
        assert token is None or not token.valid


def test_refusal_names_what_a_required_signature_lacks() -> None:
    good = encode("x@example.com", "bounces@b.example", "a", SECRETS["a"], DAY)
    assert refusal(good, SECRETS, DAY, 60) is None
    assert refusal("bounces@b.example", SECRETS, DAY, 60) is None  # a plain bounce address
    assert refusal("bounces+x=example.com@b.example", SECRETS, DAY, 60) == "unsigned"
    assert refusal(good.replace("x=", "y="), SECRETS, DAY, 60) == "bad-signature"
    assert refusal(good, SECRETS, DAY + 61, 60) == "expired"
    assert refusal(good, {"b": SECRETS["b"]}, DAY, 60) == "unknown-key"

"""Signed VERP return paths: round trip, tampering, key rotation, age."""

from __future__ import annotations

import pytest

from bouncer.verp import decode, encode

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

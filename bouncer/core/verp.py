"""Signed VERP return paths: put the recipient, a day stamp and an HMAC in the bounce address.

An application sends to `user@example.com` with the return path

    bounces+a4f2e1c0ffee1234-user=example.com@bounces.example.com

i.e. `<local>+<tag>-<recipient local>=<recipient domain>@<bounce domain>`, where the 21-character
tag is the key id (1 character), the day number (4 hex digits, days since 1970-01-01 UTC) and the
first 16 hex digits (64 bits) of HMAC-SHA256(secret, key id + day + recipient in lower case).
Bounces that come back to such an address name their recipient even when the report does not,
and cannot be forged without the secret (plain VERP can: RFC 3464 §4.1, RFC 6522 §7). Tags of
earlier versions (10 hex digits, 40 bits) are still read, so return paths already sent keep
working until they age out. Pure: no clock reads.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

MAC_LENGTH = 16  # hex digits: 64 bits
LEGACY_MAC_LENGTH = 10  # tags written before the MAC grew to 64 bits
TAG_LENGTH = 5 + MAC_LENGTH
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Token:
    """What a VERP bounce address says: the recipient, and whether its signature holds."""

    recipient: str
    key_id: str
    day: int
    valid: bool
    problem: str | None = None  # unknown-key | bad-signature | expired | future


def day_number(moment: datetime) -> int:
    """Return the number of whole days since 1970-01-01 UTC."""
    return (moment.astimezone(UTC) - _EPOCH).days


def _mac(secret: bytes, key_id: str, day: int, recipient: str, length: int = MAC_LENGTH) -> str:
    """Return the truncated hex HMAC for a key id, day and recipient."""
    message = f"{key_id}{day:04x}{recipient.lower()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:length]


def encode(recipient: str, bounce_address: str, key_id: str, secret: bytes, day: int) -> str:
    """Return the signed return path for mail to recipient, under bounce_address."""
    if len(key_id) != 1 or not key_id.isalnum():
        raise ValueError("a VERP key id is one letter or digit")
    day %= 0x10000  # four hex digits; decode() accounts for the wrap
    local, _, domain = bounce_address.rpartition("@")
    rcpt_local, at, rcpt_domain = recipient.rpartition("@")
    if not (local and domain and at and rcpt_local and rcpt_domain):
        raise ValueError("both addresses need a local part and a domain")
    tag = f"{key_id.lower()}{day:04x}{_mac(secret, key_id.lower(), day, recipient)}"
    return f"{local}+{tag}-{rcpt_local}={rcpt_domain}@{domain}"


def _split(address: str) -> tuple[str, int, str, str] | None:
    """Return (key id, day, mac, recipient) from a VERP address, or None if it is not one."""
    local = address.strip().strip("<>").rpartition("@")[0]
    _, plus, rest = local.partition("+")
    tag, dash, encoded = rest.partition("-")
    rcpt_local, equals, rcpt_domain = encoded.rpartition("=")
    if not (plus and dash and equals and rcpt_local and rcpt_domain):
        return None
    if len(tag) not in (5 + MAC_LENGTH, 5 + LEGACY_MAC_LENGTH) or not tag.isascii():
        return None
    try:
        day = int(tag[1:5], 16)
    except ValueError:
        return None
    return tag[0].lower(), day, tag[5:].lower(), f"{rcpt_local}@{rcpt_domain}"


def is_plain_verp(address: str) -> bool:
    """Tell whether an address is an unsigned VERP return path (`bounces+user=example.com@`)."""
    local = address.strip().strip("<>").rpartition("@")[0]
    _, plus, rest = local.partition("+")
    return bool(plus) and "=" in rest and _split(address) is None


def decode(
    address: str, secrets: Mapping[str, bytes], today: int, max_age_days: int
) -> Token | None:
    """Read and check a VERP address; None when it carries no token at all."""
    parts = _split(address)
    if parts is None:
        return None
    key_id, day, mac, recipient = parts
    secret = secrets.get(key_id)
    if secret is None:
        return Token(recipient, key_id, day, False, "unknown-key")
    expected = _mac(secret, key_id, day, recipient, len(mac))
    if not hmac.compare_digest(expected.encode(), mac.encode("utf-8", "replace")):
        return Token(recipient, key_id, day, False, "bad-signature")
    age = (today - day) % 0x10000  # the day field wraps every 65,536 days
    if age > max_age_days:
        problem = "future" if age > 0x8000 else "expired"
        return Token(recipient, key_id, day, False, problem)
    return Token(recipient, key_id, day, True)


def refusal(
    address: str, secrets: Mapping[str, bytes], today: int, max_age_days: int
) -> str | None:
    """Return why a bounce address must be refused when signed return paths are required:
    a token that does not hold (bad MAC, unknown key, expired), or an unsigned VERP address;
    None for a valid token or a plain bounce address."""
    token = decode(address, secrets, today, max_age_days)
    if token is not None:
        return None if token.valid else token.problem
    return "unsigned" if is_plain_verp(address) else None

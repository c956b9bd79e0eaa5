"""Webhook delivery: HMAC signatures, verification, backoff, one async attempt.

Each POST carries a JSON body (`bouncer.core.event_body`) and two headers:

    Bouncer-Event-Id: <event id>        the same on every retry: receivers deduplicate on it
    Bouncer-Signature: t=<unix seconds>,kid=<key id>,v1=<hex HMAC-SHA256>

The HMAC is computed with the secret named by `kid` over `f"{t}.".encode() + body`, so the
timestamp is signed too; receivers reject stale timestamps (replay) and keep several secrets
by key id while one is rotated. Verifying on the receiving side (Python):

    import hashlib, hmac, time
    fields = dict(item.split("=", 1) for item in headers["Bouncer-Signature"].split(","))
    secret = SECRETS[fields["kid"]]  # {key id: secret bytes}; keep the old key while rotating
    signed = fields["t"].encode() + b"." + body  # body: the raw request bytes
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300

A delivery is `delivered` on 2xx, `gone` on 410 (stop sending to this webhook), otherwise
`retry` (other statuses, redirects, timeouts, connection errors), on the `next_attempt` schedule.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bouncer.store.outbox import DeliveryResult

if TYPE_CHECKING:  # aiohttp is imported by `deliver` only: the CLI's import path stays lean
    import aiohttp

SIGNATURE_HEADER = "Bouncer-Signature"
EVENT_ID_HEADER = "Bouncer-Event-Id"
DELIVERY_STATES = ("delivered", "retry", "gone")


def sign(secret: bytes, key_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Return the signature header for a body sent at `timestamp` (unix seconds)."""
    digest = _digest(secret, str(timestamp), body)
    return {SIGNATURE_HEADER: f"t={timestamp},kid={key_id},v1={digest}"}


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, bytes],
    now: datetime | float,
    tolerance: int = 300,
) -> bool:
    """Return True when the signature matches a known key and its timestamp is fresh."""
    fields = _signature_fields(_header(headers, SIGNATURE_HEADER))
    secret = secrets.get(fields.get("kid", ""))
    timestamp, given = fields.get("t", ""), fields.get("v1", "")
    if secret is None or not timestamp.isdigit() or not given:
        return False
    if abs(_unix(now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(_digest(secret, timestamp, body), given)


def next_attempt(
    attempt_number: int,
    now: datetime,
    base: timedelta = timedelta(seconds=30),
    cap: timedelta = timedelta(hours=1),
    give_up_after: timedelta = timedelta(hours=24),
    first_attempt_at: datetime | None = None,
    jitter_key: str = "",
) -> datetime | None:
    """Return when to try again after `attempt_number` failed attempts, or None to give up.

    The wait doubles from `base` up to `cap`; with a `jitter_key` (the event id) it is shortened
    by up to 20 %, the same way for the same key. Attempts stop once the next one would fall
    more than `give_up_after` after the first (measured from `first_attempt_at` when given, else
    from the nominal schedule).
    """
    if attempt_number < 1:
        return now
    wait = _backoff(attempt_number, base, cap) * (1 - 0.2 * _fraction(jitter_key, attempt_number))
    if first_attempt_at is not None:
        elapsed = now - first_attempt_at + wait
    else:
        elapsed = sum((_backoff(n, base, cap) for n in range(1, attempt_number + 1)), timedelta())
    return None if elapsed > give_up_after else now + wait


async def deliver(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float = 10.0,
) -> DeliveryResult:
    """POST one signed body and report the result; never raises (cancellation excepted)."""
    import aiohttp

    request_headers = {"Content-Type": "application/json", **headers}
    limit = aiohttp.ClientTimeout(total=timeout)
    try:
        async with session.post(
            url, data=body, headers=request_headers, timeout=limit, allow_redirects=False
        ) as response:
            return _result_for(response.status)
    except TimeoutError:
        return DeliveryResult("retry", error=f"timeout after {timeout:g} s")
    except (aiohttp.ClientError, OSError, ValueError) as error:
        return DeliveryResult("retry", error=f"{type(error).__name__}: {error}")


def _result_for(http_status: int) -> DeliveryResult:
    """Map an HTTP status to a delivery state."""
    if 200 <= http_status < 300:
        return DeliveryResult("delivered", http_status)
    if http_status == 410:
        return DeliveryResult("gone", http_status, "410 Gone: webhook withdrawn")
    return DeliveryResult("retry", http_status, f"HTTP {http_status}")


def _digest(secret: bytes, timestamp: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of `timestamp.` followed by the body."""
    return hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _signature_fields(header: str) -> dict[str, str]:
    """Split `t=..,kid=..,v1=..` into a dict (malformed parts are skipped)."""
    pairs = (part.strip().partition("=") for part in header.split(","))
    return {name: value for name, sep, value in pairs if sep}


def _header(headers: Mapping[str, str], name: str) -> str:
    """Return a header's value looked up without regard to case ('' when absent)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def _unix(now: datetime | float) -> float:
    """Return `now` as unix seconds."""
    return now.timestamp() if isinstance(now, datetime) else float(now)


def _backoff(attempt_number: int, base: timedelta, cap: timedelta) -> timedelta:
    """Return the nominal wait after the n-th failed attempt: base doubled, at most cap."""
    return min(cap, base * 2 ** min(attempt_number - 1, 32))


def _fraction(jitter_key: str, attempt_number: int) -> float:
    """Return a repeatable number in [0, 1) derived from the key and attempt (0 without key)."""
    if not jitter_key:
        return 0.0
    digest = hashlib.sha256(f"{jitter_key}:{attempt_number}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32

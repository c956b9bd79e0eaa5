"""Tests for webhook signing, bodies, backoff and delivery against a real loopback server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import aiohttp
from aiohttp import web

from bouncer.core.event_body import event_body, stored_event_body
from bouncer.core.model import Original
from bouncer.core.tracker import Event
from bouncer.daemon.webhook import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    deliver,
    next_attempt,
    sign,
    verify,
)
from bouncer.store.outbox import DeliveryResult

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
SECRETS = {"k1": b"first-secret", "k2": b"second-secret"}
BODY = b'{"id":"ev-1","type":"bounce.hard"}'


# --- signing and verification ---------------------------------------------------------------


def test_signature_header_shape_and_digest():
    headers = sign(b"first-secret", "k1", TS, BODY)
    expected = hmac.new(b"first-secret", f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers == {SIGNATURE_HEADER: f"t={TS},kid=k1,v1={expected}"}


def test_verify_accepts_own_signature():
    assert verify(sign(SECRETS["k1"], "k1", TS, BODY), BODY, SECRETS, NOW)


def test_verify_rejects_tampered_body():
    headers = sign(SECRETS["k1"], "k1", TS, BODY)
    assert not verify(headers, BODY.replace(b"hard", b"soft"), SECRETS, NOW)


def test_verify_rejects_unknown_key_and_wrong_secret():
    assert not verify(sign(SECRETS["k1"], "k9", TS, BODY), BODY, SECRETS, NOW)
    assert not verify(sign(b"guess", "k1", TS, BODY), BODY, SECRETS, NOW)


def test_verify_rejects_stale_and_future_timestamps():
    headers = sign(SECRETS["k1"], "k1", TS, BODY)
    assert verify(headers, BODY, SECRETS, NOW + timedelta(seconds=299))
    assert not verify(headers, BODY, SECRETS, NOW + timedelta(seconds=301))
    assert not verify(headers, BODY, SECRETS, NOW - timedelta(seconds=301))
    assert verify(headers, BODY, SECRETS, TS + 600, tolerance=900)


def test_verify_rejects_malformed_or_missing_header():
    assert not verify({}, BODY, SECRETS, NOW)
    assert not verify({SIGNATURE_HEADER: "garbage"}, BODY, SECRETS, NOW)
    assert not verify({SIGNATURE_HEADER: "t=abc,kid=k1,v1=00"}, BODY, SECRETS, NOW)


def test_verify_looks_up_header_without_case():
    headers = {SIGNATURE_HEADER.lower(): sign(SECRETS["k2"], "k2", TS, BODY)[SIGNATURE_HEADER]}
    assert verify(headers, BODY, SECRETS, NOW)


def test_signature_changes_with_timestamp():
    first = sign(SECRETS["k1"], "k1", TS, BODY)[SIGNATURE_HEADER]
    second = sign(SECRETS["k1"], "k1", TS + 1, BODY)[SIGNATURE_HEADER]
    assert first.split("v1=")[1] != second.split("v1=")[1]


# --- body -----------------------------------------------------------------------------------


def test_event_body_fields():
    event = Event(
        "delivery.given_up",
        NOW,
        "ann@example.org",
        original=Original(message_id="<m1@app>", from_addr="news@app", subject="Grüße"),
        status="4.4.7",
        reason="expired",
        bounce_class="soft",
        diagnostic="retry timeout exceeded",
        attempts=3,
        age=timedelta(days=4, seconds=5),
        data={"expires_at": NOW + timedelta(days=14), "by": "scheduler"},
    )
    payload = json.loads(event_body("ev-7", event))
    assert payload["id"] == "ev-7"
    assert payload["type"] == "delivery.given_up"
    assert payload["at"] == "2026-03-02T09:00:00Z"
    assert payload["recipient"] == "ann@example.org"
    assert payload["original_message_id"] == "<m1@app>"
    assert payload["original_subject"] == "Grüße"
    assert (payload["status"], payload["reason"], payload["class"]) == ("4.4.7", "expired", "soft")
    assert payload["attempts"] == 3
    assert payload["age_seconds"] == 4 * 86400 + 5
    assert payload["data"] == {"expires_at": "2026-03-16T09:00:00Z", "by": "scheduler"}


def test_event_body_converts_other_zones_to_utc():
    local = datetime(2026, 3, 2, 13, 0, tzinfo=timezone(timedelta(hours=2)))
    payload = json.loads(event_body("ev-8", Event("bounce.soft", local, "a@b.org")))
    assert payload["at"] == "2026-03-02T11:00:00Z"
    assert payload["age_seconds"] is None


def test_stored_event_body_has_the_shape_of_event_body():
    stored = {
        "seq": 12,
        "id": "ev-9",
        "type": "bounce.hard",
        "at": "2026-03-02T09:00:00.000Z",
        "recorded_at": "2026-03-02T09:00:00.000Z",
        "recipient": "ann@example.org",
        "status": "5.1.1",
        "reason": "userunknown",
        "class": "hard",
        "diagnostic": "550 5.1.1 unknown",
        "original_message_id": "<m1@app>",
        "original_from": "news@app",
        "original_subject": "Grüße",
        "message": 4,
        "kind": "bounce",
    }
    event = Event(
        "bounce.hard",
        NOW,
        "ann@example.org",
        original=Original(message_id="<m1@app>", from_addr="news@app", subject="Grüße"),
        status="5.1.1",
        reason="userunknown",
        bounce_class="hard",
        diagnostic="550 5.1.1 unknown",
        data={"kind": "bounce", "message": 4},
    )
    assert stored_event_body(stored) == event_body("ev-9", event)


def test_stored_event_body_turns_age_into_age_seconds():
    payload = json.loads(stored_event_body({"id": "e", "type": "delivery.delayed", "age": 60}))
    assert payload["age_seconds"] == 60
    assert payload["data"] == {}
    assert payload["recipient"] is None


def test_store_side_imports_do_not_load_aiohttp():
    code = "import sys, bouncer.store.outbox; print('aiohttp' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- backoff --------------------------------------------------------------------------------


def test_backoff_doubles_then_caps():
    waits = [next_attempt(n, NOW) - NOW for n in range(1, 10)]
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert waits[7] == timedelta(hours=1) == waits[8]


def test_backoff_keeps_trying_for_a_day_then_gives_up():
    moment, attempt = NOW, 1
    while (following := next_attempt(attempt, moment)) is not None:
        moment, attempt = following, attempt + 1
    assert moment - NOW >= timedelta(hours=8)
    assert moment - NOW <= timedelta(hours=24)
    assert moment - NOW > timedelta(hours=23)


def test_backoff_uses_real_elapsed_time_when_given():
    first = NOW - timedelta(hours=23, minutes=30)
    assert next_attempt(2, NOW, first_attempt_at=first) == NOW + timedelta(seconds=60)
    late = NOW - timedelta(hours=24)
    assert next_attempt(2, NOW, first_attempt_at=late) is None


def test_jitter_is_deterministic_and_bounded():
    one = next_attempt(5, NOW, jitter_key="ev-1")
    assert one == next_attempt(5, NOW, jitter_key="ev-1")
    nominal = timedelta(seconds=30 * 2**4)
    waits = {next_attempt(5, NOW, jitter_key=f"ev-{n}") - NOW for n in range(20)}
    assert len(waits) > 1
    assert all(nominal * 0.8 <= wait <= nominal for wait in waits)


# --- delivery against a real server ---------------------------------------------------------


class Receiver:
    """A loopback webhook endpoint that answers with scripted statuses and checks signatures."""

    def __init__(self, statuses: list[int], delay: float = 0.0) -> None:
        self.statuses = statuses
        self.delay = delay
        self.received: list[tuple[str, bool, bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        ok = verify(request.headers, body, SECRETS, datetime.now(UTC))
        self.received.append((request.headers.get(EVENT_ID_HEADER, ""), ok, body))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok")


async def run_with(receiver: Receiver, scenario: Callable[[str], Awaitable[object]]) -> object:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        return await scenario(f"http://{host}:{port}/hook")
    finally:
        await runner.cleanup()


def signed_headers(key_id: str, body: bytes, event_id: str = "ev-1") -> dict[str, str]:
    timestamp = int(datetime.now(UTC).timestamp())
    return {**sign(SECRETS[key_id], key_id, timestamp, body), EVENT_ID_HEADER: event_id}


async def post_all(url: str, attempts: int, key_id: str = "k1") -> list[DeliveryResult]:
    results = []
    async with aiohttp.ClientSession() as session:
        for _ in range(attempts):
            headers = signed_headers(key_id, BODY)
            results.append(await deliver(session, url, BODY, headers, timeout=5))
    return results


def test_delivery_verifies_on_the_receiving_side():
    receiver = Receiver([200])
    results = asyncio.run(run_with(receiver, lambda url: post_all(url, 1)))
    assert results == [DeliveryResult("delivered", 200)]
    assert receiver.received == [("ev-1", True, BODY)]


def test_server_error_then_success_retries_then_delivers():
    receiver = Receiver([500, 200])
    results = asyncio.run(run_with(receiver, lambda url: post_all(url, 2)))
    assert [result.state for result in results] == ["retry", "delivered"]
    assert results[0].http_status == 500
    assert [event_id for event_id, _, _ in receiver.received] == ["ev-1", "ev-1"]


def test_gone_stops_the_webhook():
    receiver = Receiver([410])
    results = asyncio.run(run_with(receiver, lambda url: post_all(url, 1)))
    assert results[0].state == "gone"
    assert results[0].http_status == 410


def test_redirect_is_not_followed():
    receiver = Receiver([302])
    results = asyncio.run(run_with(receiver, lambda url: post_all(url, 1)))
    assert results[0] == DeliveryResult("retry", 302, "HTTP 302")


def test_rotated_key_ids_verify():
    receiver = Receiver([200, 200])

    async def scenario(url: str) -> None:
        async with aiohttp.ClientSession() as session:
            for key_id in ("k1", "k2"):
                await deliver(session, url, BODY, signed_headers(key_id, BODY), timeout=5)

    asyncio.run(run_with(receiver, scenario))
    assert [ok for _, ok, _ in receiver.received] == [True, True]


def test_tampered_body_fails_verification_on_the_receiving_side():
    receiver = Receiver([200])

    async def scenario(url: str) -> DeliveryResult:
        headers = signed_headers("k1", BODY)
        async with aiohttp.ClientSession() as session:
            return await deliver(session, url, BODY + b" ", headers, timeout=5)

    asyncio.run(run_with(receiver, scenario))
    assert [ok for _, ok, _ in receiver.received] == [False]


def test_timeout_is_a_retry():
    receiver = Receiver([200], delay=1.0)

    async def scenario(url: str) -> DeliveryResult:
        async with aiohttp.ClientSession() as session:
            return await deliver(session, url, BODY, signed_headers("k1", BODY), timeout=0.2)

    result = asyncio.run(run_with(receiver, scenario))
    assert result.state == "retry"
    assert result.http_status is None
    assert "timeout" in result.error


def free_closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_refused_is_a_retry():
    async def scenario() -> DeliveryResult:
        url = f"http://127.0.0.1:{free_closed_port()}/hook"
        async with aiohttp.ClientSession() as session:
            return await deliver(session, url, BODY, signed_headers("k1", BODY), timeout=5)

    result = asyncio.run(scenario())
    assert result.state == "retry"
    assert result.error


def test_bad_url_is_a_retry_not_an_exception():
    async def scenario() -> DeliveryResult:
        async with aiohttp.ClientSession() as session:
            return await deliver(session, "not a url", BODY, {}, timeout=5)

    assert asyncio.run(scenario()).state == "retry"


def test_documented_receiver_snippet_verifies():
    import bouncer.daemon.webhook as module

    doc = module.__doc__ or ""
    start = doc.index("    import hashlib")
    snippet = "\n".join(line[4:] for line in doc[start:].split("\n\n")[0].splitlines())
    body = b'{"id":"ev-2"}'
    headers = sign(SECRETS["k2"], "k2", int(datetime.now(UTC).timestamp()), body)
    scope = {"headers": headers, "body": body, "SECRETS": SECRETS}
    exec(snippet, scope)
    assert scope["ok"] is True
    scope = {"headers": headers, "body": body + b"x", "SECRETS": SECRETS}
    exec(snippet, scope)
    assert scope["ok"] is False

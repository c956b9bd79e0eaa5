"""The webhook outbox loop: deliver committed events to every configured webhook, at least once.

Every pass (each `interval` seconds, or sooner after `wake()`) runs one unit of work on the
database thread: record the attempts that finished, queue events committed since the last pass,
and pick the deliveries now due. The due ones are POSTed concurrently (at most `concurrency` at
a time, `per_webhook` per URL) over one shared aiohttp session, each attempt signed with a fresh
timestamp. All state is in the `webhook_cursors` and `deliveries` tables, so a restart resumes
where the last run stopped; an attempt whose result was not recorded is made again (receivers
deduplicate on `Bouncer-Event-Id`). Deliveries to one URL are not ordered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar

import aiohttp
import structlog
from sqlite_utils import Database

from bouncer.clock import to_iso, utcnow
from bouncer.config import WebhookConfig
from bouncer.daemon import webhook
from bouncer.daemon.attempts import Finished, Recorded, RetryPolicy, choose, record
from bouncer.daemon.health import Health
from bouncer.store import outbox as store
from bouncer.store.outbox import Delivery, DeliveryResult

log = structlog.get_logger("bouncer.webhook")
T = TypeVar("T")
PRUNE_EVERY = timedelta(hours=1)
LEASE_MARGIN = 30.0  # seconds a claimed delivery stays leased past its attempt's timeout


class DatabaseCaller(Protocol):
    """Anything that runs `work(db)` on the database thread (`bouncer.daemon.worker.Processor`)."""

    def call(self, work: Callable[[Database], T]) -> Awaitable[T]:
        """Run work(db) and return its result."""
        ...


class Outbox:
    """Delivers queued events to the configured webhooks until cancelled; restart-safe."""

    def __init__(
        self,
        processor: DatabaseCaller,
        webhooks: Sequence[WebhookConfig],
        *,
        clock: Callable[[], datetime] = utcnow,
        interval: float = 1.0,
        concurrency: int = 8,
        per_webhook: int = 4,
        timeout: float = 10.0,
        batch: int = 500,
        policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen value
        health: Health | None = None,
    ) -> None:
        self._health = health or Health()
        self._processor = processor
        self._hooks = _by_url(webhooks)
        self._clock = clock
        self._interval = interval
        self._concurrency = concurrency
        self._per_webhook = per_webhook
        self._timeout = timeout
        self._lease = timedelta(seconds=timeout + LEASE_MARGIN)  # an attempt's claim
        self._batch = batch
        self._policy = policy
        self._wake = asyncio.Event()
        self._running: dict[int, tuple[str, asyncio.Task[None]]] = {}  # id → (url, attempt)
        self._finished: list[Finished] = []
        self._session: aiohttp.ClientSession | None = None
        self._pruned_at: datetime | None = None

    def wake(self, *_reason: object) -> None:
        """Ask for a pass now (call after events are committed)."""
        self._wake.set()

    async def register(self) -> None:
        """Create cursors for new webhooks (call before processing starts); warn of disabled."""
        disabled = await self._processor.call(partial(store.register, urls=list(self._hooks)))
        for url in disabled:
            log.warning("webhook.disabled", url=url, hint="re-enable it to resume deliveries")

    async def run(self) -> None:
        """Deliver every `interval` seconds or when woken, until cancelled; never raises."""
        if not self._hooks:
            return
        try:
            await self.register()
        except Exception:  # noqa: BLE001 - enqueue_new registers them on the first pass too
            log.exception("webhook.register_failed")
        while True:
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001 - the loop outlives any one failure
                self._health.failed("outbox", "webhook.outbox_failed", exc)
            else:
                self._health.beat("outbox")
            await self._pause()

    async def tick(self) -> int:
        """Record finished attempts, queue new events and start due deliveries; return started."""
        finished, self._finished = self._finished, []
        ended = {item.delivery.id for item in finished}
        busy = {key: url for key, (url, _) in self._running.items() if key not in ended}
        try:
            recorded, due, queued = await self._processor.call(
                partial(self._step, finished, self._clock(), busy)
            )
        finally:
            for item in finished:
                self._running.pop(item.delivery.id, None)
        if queued:
            self._wake.set()  # look again at once: a full batch may have left more to queue
        for item in recorded:
            _log_recorded(item)
        for delivery in due:
            self._start(delivery)
        return len(due)

    async def close(self, grace: float = 5.0) -> None:
        """Let running attempts end (cancel them after grace s), record them, close the session."""
        tasks = [task for _, task in self._running.values()]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._finished:
            finished, self._finished = self._finished, []
            try:
                done = await self._processor.call(
                    partial(record, finished=finished, now=self._clock(), policy=self._policy)
                )
            except Exception:  # noqa: BLE001 - unrecorded attempts are simply made again
                log.exception("webhook.record_failed", attempts=len(finished))
            else:
                for item in done:
                    _log_recorded(item)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _step(
        self, finished: list[Finished], now: datetime, busy: dict[int, str], db: Database
    ) -> tuple[list[Recorded], list[Delivery], bool]:
        """On the database thread: record, enqueue, prune now and then, and pick due work."""
        recorded = record(db, finished, now, self._policy)
        queued = store.enqueue_new(db, list(self._hooks.values()), now, self._batch)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            store.prune(db, now - self._policy.retention)
            self._pruned_at = now
        free = self._concurrency - len(busy)
        with db.atomic():  # found due and leased at once: no other node takes the same ones
            candidates = store.due(db, now, max(free, 0) + len(busy), urls=self._hooks)
            chosen = choose(candidates, busy, free, self._per_webhook)
            store.claim(db, [d.id for d in chosen], now + self._lease)
        return recorded, chosen, queued > 0

    def _start(self, delivery: Delivery) -> None:
        """Start one attempt as a task; its result is recorded on a later pass."""
        task = asyncio.create_task(self._attempt(delivery), name=f"webhook-{delivery.id}")
        self._running[delivery.id] = (delivery.url, task)

    async def _attempt(self, delivery: Delivery) -> None:
        """POST one delivery signed now; keep the result for recording and wake the loop."""
        hook = self._hooks[delivery.url]
        try:
            timestamp = int(self._clock().timestamp())
            headers = {
                webhook.EVENT_ID_HEADER: delivery.event_id,
                **webhook.sign(hook.secret.encode(), hook.key_id, timestamp, delivery.body),
            }
            result = await webhook.deliver(
                self._http(), delivery.url, delivery.body, headers, self._timeout
            )
        except Exception as exc:  # noqa: BLE001 - any failure is a retry, never a crash
            result = DeliveryResult("retry", error=f"{type(exc).__name__}: {exc}")
        self._finished.append(Finished(delivery, result))
        self._wake.set()

    def _http(self) -> aiohttp.ClientSession:
        """Return the shared session, created on first use (inside the running loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _pause(self) -> None:
        """Sleep until the interval passes or wake() is called.

        asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
        arrives as the wait completes, and the loop would then never stop.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._interval):
                await self._wake.wait()
        self._wake.clear()


def _by_url(webhooks: Sequence[WebhookConfig]) -> dict[str, WebhookConfig]:
    """Index webhooks by URL; a URL listed twice keeps its first entry (with a warning)."""
    hooks: dict[str, WebhookConfig] = {}
    for hook in webhooks:
        if hook.url in hooks:
            log.warning("webhook.duplicate_url", url=hook.url)
            continue
        hooks[hook.url] = hook
    return hooks


def _log_recorded(item: Recorded) -> None:
    """Log one recorded attempt under webhook.delivered / retry / gone / failed."""
    delivery, result = item.finished.delivery, item.finished.result
    fields = {
        "url": delivery.url,
        "event_id": delivery.event_id,
        "attempts": delivery.attempts + 1,
        "http_status": result.http_status,
    }
    if item.state == "delivered":
        log.info("webhook.delivered", **fields)
    elif item.state == "pending":
        log.warning(
            "webhook.retry", **fields, error=result.error, next_attempt_at=to_iso(item.next_at)
        )
    elif item.state == "gone":
        log.warning("webhook.gone", **fields, dropped=item.dropped)
    elif item.state == "failed":
        log.error("webhook.failed", **fields, error=result.error)

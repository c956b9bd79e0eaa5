"""Tests for the webhook outbox: the store functions, and the loop against a loopback server,
on each backend (a real SQLite file, a real PostgreSQL database)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from sqlite_utils import Database

from bouncer.config import WebhookConfig
from bouncer.daemon.attempts import RetryPolicy, choose
from bouncer.daemon.delivery import Outbox
from bouncer.daemon.webhook import EVENT_ID_HEADER, SIGNATURE_HEADER, verify
from bouncer.daemon.worker import Processor
from bouncer.store import events, open_db
from bouncer.store import outbox as store
from bouncer.store.outbox import Delivery, DeliveryResult

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "outbox-secret"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Receiver:
    """A webhook endpoint on a free loopback port answering from a script (then 200)."""

    def __init__(self, clock: FakeClock, statuses: tuple[int, ...] = (), delay: float = 0.0):
        self.clock = clock
        self.statuses = list(statuses)
        self.delay = delay
        self.posts: list[dict] = []  # path, event id, verified, status answered, payload, t
        self.in_flight = 0
        self.most_in_flight = 0
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        status = self.statuses.pop(0) if self.statuses else 200
        signature = request.headers.get(SIGNATURE_HEADER, "")
        self.posts.append(
            {
                "path": request.path,
                "id": request.headers.get(EVENT_ID_HEADER),
                "verified": verify(request.headers, body, {"k1": SECRET.encode()}, self.clock()),
                "status": status,
                "payload": json.loads(body),
                "t": signature.split(",")[0],
            }
        )
        return web.Response(status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{name}", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def hook(self, name: str = "hook", types: tuple[str, ...] = ()) -> WebhookConfig:
        return WebhookConfig(f"{self.base}/{name}", SECRET, "k1", types)

    def ids(self, status: int | None = None) -> list[str]:
        return [post["id"] for post in self.posts if status in (None, post["status"])]


def add_events(path: str | Path, *types: str, at: datetime = NOW) -> list[str]:
    """Commit one event per type (recipient numbered) and return their ids."""
    db = open_db(path)
    try:
        with db.atomic():
            added = [
                events.add(
                    db,
                    kind,
                    at,
                    f"user{n}@example.com",
                    {
                        "status": "5.1.1",
                        "reason": "userunknown",
                        "class": "hard",
                        "diagnostic": "550 5.1.1 no such user",
                        "message": n,
                    },
                )
                for n, kind in enumerate(types, 1)
            ]
    finally:
        db.close()
    return [event["id"] for event in added]


def query(path: str | Path, sql: str, params: tuple = ()) -> list[tuple]:
    db = open_db(path)
    try:
        return db.conn.execute(sql, params).fetchall()
    finally:
        db.close()


async def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def settle(outbox: Outbox, passes: int = 5) -> None:
    """Let the loop run a few more passes (to show nothing else gets sent)."""
    for _ in range(passes):
        outbox.wake()
        await asyncio.sleep(0.03)


@asynccontextmanager
async def running(
    path: str | Path, hooks: list[WebhookConfig], clock: FakeClock, **options: object
) -> AsyncIterator[Outbox]:
    """Run an Outbox (over a real Processor on the database file) for the block."""
    processor = Processor(path, clock=clock)
    outbox = Outbox(processor, hooks, clock=clock, interval=0.02, **options)
    await outbox.register()
    task = asyncio.create_task(outbox.run())
    try:
        yield outbox
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await outbox.close()
        await processor.close()


def scenario(
    test: Callable[[Receiver], object],
    clock: FakeClock,
    statuses: tuple[int, ...] = (),
    delay: float = 0.0,
) -> Receiver:
    """Run an async test body with a started receiver; return the receiver."""
    receiver = Receiver(clock, statuses, delay)

    async def main() -> None:
        await receiver.start()
        try:
            await test(receiver)  # type: ignore[misc]
        finally:
            await receiver.stop()

    asyncio.run(main())
    return receiver


# --- the loop against a real server ----------------------------------------------------------


def test_each_event_is_delivered_once_with_a_valid_signature(store_url: str):
    path, clock = store_url, FakeClock()
    added: list[str] = []

    async def body(receiver: Receiver) -> None:
        async with running(path, [receiver.hook()], clock) as outbox:
            added.extend(add_events(path, "bounce.hard", "bounce.soft", "complaint"))
            outbox.wake()
            await wait_until(lambda: len(receiver.posts) == 3)
            await settle(outbox)

    receiver = scenario(body, clock)
    assert sorted(receiver.ids()) == sorted(added)
    assert all(post["verified"] for post in receiver.posts)
    payload = next(p["payload"] for p in receiver.posts if p["id"] == added[0])
    assert payload["type"] == "bounce.hard"
    assert payload["recipient"] == "user1@example.com"
    assert payload["reason"] == "userunknown"
    assert payload["data"] == {"message": 1}
    states = query(path, "SELECT state, attempts FROM deliveries")
    assert states == [("delivered", 1)] * 3


def test_server_error_is_retried_then_delivered_once(store_url: str):
    path, clock = store_url, FakeClock()

    async def body(receiver: Receiver) -> None:
        async with running(path, [receiver.hook()], clock) as outbox:
            add_events(path, "bounce.hard")
            outbox.wake()
            await wait_until(lambda: len(receiver.posts) == 1)
            await settle(outbox)
            assert len(receiver.posts) == 1  # not due again before the backoff ends
            clock.advance(seconds=31)
            outbox.wake()
            await wait_until(lambda: len(receiver.posts) == 2)
            await settle(outbox)

    receiver = scenario(body, clock, statuses=(500,))
    assert [post["status"] for post in receiver.posts] == [500, 200]
    assert len(set(receiver.ids())) == 1
    assert receiver.posts[0]["t"] != receiver.posts[1]["t"]  # signed afresh per attempt
    assert all(post["verified"] for post in receiver.posts)
    assert query(path, "SELECT state, attempts, last_status FROM deliveries") == [
        ("delivered", 2, 200)
    ]


def test_gone_disables_the_webhook_and_later_events_are_not_sent(store_url: str):
    path, clock = store_url, FakeClock()

    async def body(receiver: Receiver) -> None:
        async with running(path, [receiver.hook()], clock) as outbox:
            add_events(path, "bounce.hard")
            outbox.wake()
            await wait_until(lambda: len(receiver.posts) == 1)
            await settle(outbox)
            add_events(path, "bounce.soft", "complaint")
            clock.advance(hours=1)
            await settle(outbox, passes=10)

    receiver = scenario(body, clock, statuses=(410,))
    assert len(receiver.posts) == 1
    disabled = query(path, "SELECT disabled_at, disabled_reason FROM webhook_cursors")
    assert disabled[0][0] is not None and "410" in disabled[0][1]
    assert query(path, "SELECT state FROM deliveries") == [("gone",)]


def test_a_restart_resumes_pending_deliveries_without_duplicates(store_url: str):
    path, clock = store_url, FakeClock()
    added: list[str] = []

    async def body(receiver: Receiver) -> None:
        hooks = [receiver.hook()]
        async with running(path, hooks, clock) as outbox:
            added.extend(add_events(path, "bounce.hard", "bounce.soft"))
            outbox.wake()
            await wait_until(lambda: len(receiver.posts) == 2)
            await settle(outbox)
        clock.advance(minutes=2)
        async with running(path, hooks, clock) as outbox:
            await wait_until(lambda: len(receiver.posts) == 4)
            await settle(outbox)
        async with running(path, hooks, clock) as outbox:
            clock.advance(hours=2)
            await settle(outbox)

    receiver = scenario(body, clock, statuses=(500, 500))
    assert sorted(receiver.ids(200)) == sorted(added)
    assert len(receiver.posts) == 4
    assert query(path, "SELECT DISTINCT state FROM deliveries") == [("delivered",)]


def test_event_type_filter_selects_what_each_webhook_gets(store_url: str):
    path, clock = store_url, FakeClock()

    async def body(receiver: Receiver) -> None:
        hooks = [receiver.hook("hard", ("bounce.hard", "complaint")), receiver.hook("all")]
        async with running(path, hooks, clock) as outbox:
            add_events(path, "bounce.hard", "bounce.soft", "delivery.delayed", "complaint")
            outbox.wake()
            await wait_until(lambda: len(receiver.posts) == 6)
            await settle(outbox)

    receiver = scenario(body, clock)
    by_path: dict[str, list[str]] = {}
    for post in receiver.posts:
        by_path.setdefault(post["path"], []).append(post["payload"]["type"])
    assert sorted(by_path["/hard"]) == ["bounce.hard", "complaint"]
    assert len(by_path["/all"]) == 4
    assert query(path, "SELECT last_seq FROM webhook_cursors") == [(4,), (4,)]


def test_retries_stop_with_failed_after_the_give_up_time(store_url: str):
    path, clock = store_url, FakeClock()
    policy = RetryPolicy(
        base=timedelta(seconds=30), cap=timedelta(seconds=60), give_up_after=timedelta(seconds=100)
    )

    async def body(receiver: Receiver) -> None:
        async with running(path, [receiver.hook()], clock, policy=policy) as outbox:
            add_events(path, "bounce.hard")
            outbox.wake()
            await wait_until(lambda: len(receiver.posts) == 1)
            # the first attempt recorded (its retry dated) before the clock moves on
            await wait_until(lambda: query(path, "SELECT attempts FROM deliveries") == [(1,)])
            clock.advance(seconds=60)
            outbox.wake()
            await wait_until(lambda: len(receiver.posts) == 2)
            await wait_until(lambda: query(path, "SELECT attempts FROM deliveries") == [(2,)])
            await settle(outbox)
            clock.advance(hours=3)
            outbox.wake()
            await wait_until(lambda: query(path, "SELECT state FROM deliveries") == [("failed",)])
            await settle(outbox)

    receiver = scenario(body, clock, statuses=(503,) * 10)
    assert len(receiver.posts) == 2
    assert query(path, "SELECT state, attempts, last_status FROM deliveries") == [
        ("failed", 2, 503)
    ]


def test_concurrent_attempts_are_bounded(store_url: str):
    path, clock = store_url, FakeClock()

    async def body(receiver: Receiver) -> None:
        async with running(path, [receiver.hook()], clock, concurrency=8, per_webhook=3) as box:
            add_events(path, *["bounce.soft"] * 10)
            box.wake()
            await wait_until(lambda: len(receiver.posts) == 10)

    receiver = scenario(body, clock, delay=0.05)
    assert receiver.most_in_flight == 3


class FlakyCaller:
    """Runs work(db) inline; its first call fails like a locked or broken database would."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.calls = 0

    async def call(self, work: Callable[[Database], object]) -> object:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("database is locked")
        return work(self.db)


def test_the_loop_survives_a_failed_pass(store_url: str):
    path, clock = store_url, FakeClock()
    db = open_db(path)

    async def body(receiver: Receiver) -> None:
        caller = FlakyCaller(db)
        outbox = Outbox(caller, [receiver.hook()], clock=clock, interval=0.02)
        task = asyncio.create_task(outbox.run())
        await wait_until(lambda: caller.calls >= 3)
        add_events(path, "bounce.hard")
        await wait_until(lambda: len(receiver.posts) == 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await outbox.close()

    receiver = scenario(body, clock)
    db.close()
    assert receiver.ids(200) and len(receiver.posts) == 1


# --- store functions -----------------------------------------------------------------------


def hook(url: str = "http://127.0.0.1:9/h", types: tuple[str, ...] = ()) -> WebhookConfig:
    return WebhookConfig(url, SECRET, "k1", types)


def test_new_webhook_on_an_old_database_starts_after_the_newest_event(store_url: str):
    path = store_url
    add_events(path, "bounce.hard", "bounce.soft")
    db = open_db(path)
    assert store.enqueue_new(db, [hook()], NOW) == 0
    add_events(path, "complaint")
    assert store.enqueue_new(db, [hook()], NOW) == 1
    assert [d.event_seq for d in store.due(db, NOW)] == [3]


def test_fresh_database_delivers_from_the_first_event(store_url: str):
    db = open_db(store_url)
    assert store.register(db, [hook().url]) == []
    add_events(store_url, "bounce.hard", "bounce.soft")
    assert store.enqueue_new(db, [hook()], NOW) == 2
    assert store.enqueue_new(db, [hook()], NOW) == 0  # the cursor moved past them


def test_due_orders_by_time_and_filters_by_url(store_url: str):
    db = open_db(store_url)
    first, second = hook("http://a/"), hook("http://b/")
    store.register(db, [first.url, second.url])
    add_events(store_url, "bounce.hard")
    store.enqueue_new(db, [first, second], NOW)
    assert store.due(db, NOW - timedelta(seconds=1)) == []
    assert [d.url for d in store.due(db, NOW)] == ["http://a/", "http://b/"]
    assert [d.url for d in store.due(db, NOW, urls=["http://b/"])] == ["http://b/"]
    delivery = store.due(db, NOW, urls=["http://a/"])[0]
    assert json.loads(delivery.body)["type"] == "bounce.hard"


def test_record_result_moves_through_the_states(store_url: str):
    db = open_db(store_url)
    store.register(db, [hook().url])
    add_events(store_url, "bounce.hard", "bounce.soft")
    store.enqueue_new(db, [hook()], NOW)
    one, two = store.due(db, NOW)
    later = NOW + timedelta(minutes=1)
    assert (
        store.record_result(db, one.id, DeliveryResult("retry", 500, "HTTP 500"), NOW, later)
        == "pending"
    )
    assert [d.id for d in store.due(db, NOW)] == [two.id]
    assert (
        store.record_result(db, one.id, DeliveryResult("delivered", 204), later, None)
        == "delivered"
    )
    assert (
        store.record_result(db, one.id, DeliveryResult("delivered", 200), later, None) is None
    )  # already finished
    assert (
        store.record_result(db, two.id, DeliveryResult("retry", None, "timeout"), NOW, None)
        == "failed"
    )
    rows = db.conn.execute(
        "SELECT state, attempts, first_attempt_at, delivered_at FROM deliveries ORDER BY id"
    ).fetchall()
    assert rows == [
        ("delivered", 2, "2026-03-02T09:00:00.000Z", "2026-03-02T09:01:00.000Z"),
        ("failed", 1, "2026-03-02T09:00:00.000Z", None),
    ]


def test_disable_marks_pending_gone_and_enable_resumes_from_newest(store_url: str):
    path = store_url
    db = open_db(path)
    store.register(db, [hook().url])
    add_events(path, "bounce.hard", "bounce.soft")
    store.enqueue_new(db, [hook()], NOW)
    assert store.disable(db, hook().url, "410 Gone", NOW) == 2
    assert store.register(db, [hook().url]) == [hook().url]
    add_events(path, "complaint")
    assert store.enqueue_new(db, [hook()], NOW) == 0
    assert store.enable(db, hook().url)
    assert not store.enable(db, hook().url)
    add_events(path, "bounce.hard")
    assert store.enqueue_new(db, [hook()], NOW) == 1
    [stats] = store.stats(db)
    assert (stats.pending, stats.gone, stats.disabled_at) == (1, 2, None)
    assert stats.next_attempt_at == "2026-03-02T09:00:00.000Z"


def test_prune_removes_only_old_finished_deliveries(store_url: str):
    db = open_db(store_url)
    store.register(db, [hook().url])
    add_events(store_url, "bounce.hard", "bounce.soft")
    store.enqueue_new(db, [hook()], NOW)
    one, _ = store.due(db, NOW)
    store.record_result(db, one.id, DeliveryResult("delivered", 200), NOW, None)
    assert store.prune(db, NOW) == 0
    assert store.prune(db, NOW + timedelta(days=8)) == 1
    assert [(s.pending, s.delivered) for s in store.stats(db)] == [(1, 0)]


def test_choose_skips_running_and_caps_each_webhook():
    def delivery(number: int, url: str) -> Delivery:
        return Delivery(number, url, number, f"e{number}", b"{}", 0, None, "")

    candidates = [delivery(1, "a"), delivery(2, "a"), delivery(3, "a"), delivery(4, "b")]
    assert [d.id for d in choose(candidates, {1: "a"}, 5, 2)] == [2, 4]
    assert [d.id for d in choose(candidates, {}, 1, 2)] == [1]
    assert choose(candidates, {}, 0, 2) == []


class IdleCaller:
    """Answers every pass at once with nothing to do."""

    async def call(self, work: Callable[[Database], object]) -> object:
        return [], [], False


def test_cancelling_the_loop_always_stops_it():
    import random

    hook = WebhookConfig("http://127.0.0.1:9/hook", SECRET, "k1")
    rng = random.Random(3)

    async def main() -> int:
        stuck = 0
        for _ in range(150):
            outbox = Outbox(IdleCaller(), [hook], interval=0.001)
            task = asyncio.create_task(outbox.run())
            await asyncio.sleep(rng.random() * 0.003)
            outbox.wake()
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=0.2)
            stuck += not done
            while not task.done():  # clean up a loop that ignored its cancellation
                task.cancel()
                await asyncio.sleep(0.001)
        return stuck

    assert asyncio.run(main()) == 0

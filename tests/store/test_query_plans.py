"""Every query the store issues is planned on an index: none scans a table that grows with
traffic, unless the query says why it may (an SQL comment `/* scan: reason */`).

The queries are not a hand list: the test runs a workload through every public function of
the `bouncer.store` modules (and the processing, sweep, reprocess and retention paths above
them) on a real database, collects each statement SQLite executes (trace callback), and asks
SQLite for its plan (EXPLAIN QUERY PLAN). A public store function the workload does not call
fails the test, so a new query cannot slip past.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import bouncer.store
from bouncer.app import editing, importing, sweeping
from bouncer.app.processing import process
from bouncer.config import WebhookConfig
from bouncer.core.episodes import Episode
from bouncer.core.tracker import DEFAULT_POLICY
from bouncer.store import (
    alerts,
    changes,
    copy,
    deferrals,
    events,
    inbox,
    maintenance,
    open_db,
    outbox,
    records,
    retention,
    soft_failures,
    spool,
    stats,
    suppression_bulk,
    suppressions,
)
from bouncer.store.inbox import Incoming
from bouncer.store.outbox import DeliveryResult
from tests.messages import postfix_dsn

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROWING = {
    "messages",
    "bounces",
    "events",
    "deferrals",
    "suppressions",
    "deliveries",
    "soft_failures",
    "suppression_changes",
    "failure_counts",
    "alerts",
}
# Functions that issue no query of their own, or only at set-up or upkeep (not per message or
# per request): they are left out of the coverage check, each for the reason given.
NOT_IN_WORKLOAD = {
    "bouncer.store.open_db": "opens the file (PRAGMAs and migrations)",
    "bouncer.store.open_reader": "opens the file (PRAGMAs, the identity row)",
    "bouncer.store.schema.migrate": "runs once per file",
    "bouncer.store.maintenance.backup": "copies pages, no query",
    "bouncer.store.maintenance.check": "PRAGMA integrity_check: upkeep, a deliberate scan",
    "bouncer.store.maintenance.vacuum": "VACUUM: an upkeep command",
    "bouncer.store.query.where": "builds SQL text",
    "bouncer.store.soft_failures.window_start": "date arithmetic",
    "bouncer.store.pg.connect": "PostgreSQL: opens a connection",
    "bouncer.store.pg.open_pg": "PostgreSQL: opens and migrates, once per connection",
    "bouncer.store.pg.migrate": "PostgreSQL: runs once per connection",
    "bouncer.store.pg.schema_version": "PostgreSQL: read once per connection (catalog tables)",
    "bouncer.store.shown_location": "builds text",
    "bouncer.store.close_quietly": "closes a connection, no query",
    "bouncer.store.pg.describe": "builds text",
    "bouncer.store.status.schema_status": "PRAGMA user_version or the meta row, once a command",
    "bouncer.store.locate": "reads a location's text",
    "bouncer.store.dialect.among": "builds SQL text",
    "bouncer.store.schema.fingerprint_key": "arithmetic on a fingerprint's text",
    "bouncer.store.copy.open_stores": "opens two stores (schema status, then open_reader, open_db)",
    "bouncer.store.pg.unreachable": "reads an error",
    "bouncer.store.spool.new_key": "makes a key",
}
_PLAN_ROW = re.compile(r"^SCAN (\w+)(?: AS \w+)?(.*)$")


def _messages(n: int) -> Iterator[tuple[datetime, bytes]]:
    """Hard, soft and delay reports for n recipients, a day apart in groups."""
    for i in range(n):
        at = T0 + timedelta(hours=7 * i)
        address = f"user{i}@domain{i % 4}.example"
        if i % 3 == 0:
            yield at, postfix_dsn(address, "5.1.1", "550 5.1.1 User unknown", at=at)
        elif i % 3 == 1:
            yield at, postfix_dsn(address, "5.2.2", "552 5.2.2 Mailbox full", at=at)
        else:
            yield at, postfix_dsn(address, "4.4.1", "421 timed out", action="delayed", at=at)


def _workload(db, hook: WebhookConfig) -> None:  # noqa: ANN001
    """Call every public store function the way the daemon and the commands do."""
    outbox.register(db, [hook.url])
    for at, raw in _messages(30):
        [message_id] = inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])
        for message in inbox.unprocessed(db, limit=32):
            assert inbox.still_new(db, [message.id]) == {message.id}
            process(db, message, at)
    last = T0 + timedelta(days=9)
    for step in range(0, 10 * 24, 6):
        with db.atomic():
            sweeping.sweep_step(db, T0 + timedelta(hours=step), DEFAULT_POLICY)
    with db.atomic():  # other timer settings: every open deferral is dated again
        sweeping.sweep(db, last, replace(DEFAULT_POLICY, warn_after=timedelta(hours=2)))
    deferrals.set_due(db, [(1, last)])
    inbox.mark_failed(db, message_id, "test", last)
    for message in inbox.select_for_reprocess(db, kind="bounce", since="2026-03-03", until="z"):
        process(db, message, last, reprocess=True)
    list(inbox.select_for_reprocess(db, failed_only=True))
    inbox.count_for_reprocess(db, kind="bounce", since="2026-03-03")
    inbox.count_for_reprocess(db, failed_only=True)
    address = "user0@domain0.example"
    until = last + timedelta(days=1)
    editing.add_manual(db, "hand@domain1.example", "test", "hard", until, last, "cli:t")
    editing.remove_manual(db, address, last, "cli:t", "restored")
    changes.history(db, address)
    suppressions.get(db, "user3@domain3.example", last)
    suppressions.list_active(db, last, limit=50)
    suppressions.caused_by(db, 1)
    suppressions.find_many(db, [address, "USER3@domain3.example", "nobody@x.example"], last)
    for filters in ({}, {"reason": "userunknown", "bounce_class": "hard"}, {"since": "2026-03-03"}):
        first = suppressions.page(db, last, limit=2, **filters)
        suppressions.page(db, last, after=first[-1][0] if first else ("z", "z"), **filters)
    for filters in (
        {},
        {"recipient": address},
        {"recipient": "@domain1.example", "bounce_class": "soft"},
        {"sender": "Bounces@Localhost", "since": "2026-03-03"},
        {"orig_message_id": "orig-1@shop.example"},
        {"reason": "mailboxfull", "until": "2026-03-05"},
        {"bounce_class": "hard", "kind": "bounce", "since": "2026-03-03"},
        {"subject": "your order", "since": "2026-03-03"},
        {"recipient": "@domain1.example", "subject": "order"},
    ):
        first = records.page(db, limit=2, **filters)
        records.page(db, after=first[-1][0] if first else ("z", 1), **filters)
    records.for_message(db, 1)
    inbox.message(db, 1)
    events.seq_of(db, "no-such-event")
    events.search(db, event_type="bounce.hard", after_seq=2, limit=5)
    stats.gauges(db, last)
    maintenance.writable(db)
    inbox.raw_of(db, 1)
    _bulk(db, last)
    suppressions.take_expired(db, last + timedelta(days=30))
    records.search(db, recipient=address)
    records.search(db, recipient="@domain1.example", limit=20)
    records.search(db, since="2026-03-03", until="2026-03-05", bounce_class="hard")
    records.search(db)
    events.search(db, event_type="bounce.hard", since="2026-03-03")
    events.search(db, after_seq=3, limit=10)
    events.search(db, since="2026-03-03")
    events.search(db, recipient=address)
    events.search(db, newest_first=True, limit=5)
    events.search(db, event_type="bounce.hard", newest_first=True, limit=5)
    events.search(db, since="2026-03-03", newest_first=True)
    events.search(db, recipient=address, since="2026-03-03", newest_first=True)
    events.last_seq(db)
    deferrals.listing(db, open_only=True, limit=20)
    deferrals.listing(db, recipient="user2@domain2.example")
    deferrals.open_for(db, "user2@domain2.example")
    soft_failures.days(db, "user1@domain1.example", date(2026, 3, 1))
    soft_failures.reset(db, "user1@domain1.example")
    stats.summary(db, "2026-03-04T00:00:00.000Z", last)
    for by in stats.BUCKETS:
        stats.counts(db, by, "2026-03-04T00:00:00.000Z", "2026-03-05T00:00:00.000Z")
    with db.atomic():
        outbox.enqueue_new(db, [hook], last)
    leased = [d.id for d in outbox.due(db, last + timedelta(days=1), urls=[hook.url])]
    outbox.claim(db, leased, last + timedelta(minutes=1))
    for delivery in outbox.due(db, last + timedelta(days=1), urls=[hook.url]):
        outbox.record_result(db, delivery.id, DeliveryResult(False, 503, "HTTP 503"), last, last)
    outbox.stats(db)
    outbox.disable(db, hook.url, "gone", last)
    outbox.enable(db, hook.url)
    outbox.prune(db, last + timedelta(days=60))
    _alert_workload(db, last)
    _copy(db)
    _spool(db, last)
    retention.prune_once(db, last + timedelta(days=500), retention.Retention())


def _spool(db, now: datetime) -> None:  # noqa: ANN001
    """A node's spool (the same schema): messages spooled, counted, taken, forwarded to the
    store (here the same database: each key is there already, so a no-op), removed."""
    keyed = [Incoming(now, "<>", ("b@localhost",), None, b"x", spool.new_key()) for _ in "ab"]
    inbox.insert_batch(db, keyed)
    spool.waiting(db)
    taken = spool.take(db, limit=10)
    spool.forward(db, taken)
    spool.remove(db, taken)


def _copy(db) -> None:  # noqa: ANN001
    """What `bouncer db copy` reads from its source: the total, then every table in pages
    (two rows a page here, so every page after the first is read too)."""
    with tempfile.TemporaryDirectory() as directory:
        target = open_db(Path(directory) / "copy.db", identity=db.identity)
        patch = pytest.MonkeyPatch()
        patch.setattr(copy, "PAGE_ROWS", 2)
        try:
            copy.count_rows(db)
            copy.copy_store(db, target)
        finally:
            patch.undo()
            target.close()


def _bulk(db, now: datetime) -> None:  # noqa: ANN001
    """The bulk calls of `bouncer suppression import` and `export`."""
    entry = {**importing.DEFAULTS, "address": "bulk@domain2.example", "reason": "imported"}
    entry |= {"first_seen": "2026-03-11T00:00:00.000Z", "last_seen": "2026-03-11T00:00:00.000Z"}
    with db.atomic():
        suppression_bulk.active_by_key(db, ["bulk@domain2.example", "user3@domain3.example"], now)
        suppression_bulk.insert_many(db, [entry])
        suppression_bulk.update_many(db, [{**entry, "note": "again"}])
        changes.record_many(db, "added", now, "cli:t", "imported", [entry["address"]])
        events.add_many(db, "suppression.added", now, [(entry["address"], {"source": "manual"})])
    for _ in suppression_bulk.active(db, now, page=2):
        pass


def _alert_workload(db, last: datetime) -> None:  # noqa: ANN001
    """Counts over many scopes and hours, and episodes, read the way processing does."""
    minute = timedelta(minutes=1)
    alerts.add_counts(
        db,
        {
            (scope, last - i * minute): i
            for i in range(180)
            for scope in ("all", f"domain:d{i % 7}.example", f"reason:r{i % 3}")
        },
    )
    hour_ago = last - timedelta(hours=1)
    alerts.total(db, "all", hour_ago, last)
    alerts.buckets(db, "domain:d1.example", hour_ago, last)
    alerts.top(db, "domain", hour_ago, last)
    opened = alerts.save(db, Episode("all", hour_ago, hour_ago, 10, 10))
    alerts.save(db, Episode("all", hour_ago, last, 10, 12, "e", last, opened.id))
    alerts.save(db, Episode("provider:p", last, last, 3, 3))
    alerts.latest(db, "all")
    alerts.during(db, "provider:p", last)
    alerts.unchecked(db, last + minute)
    alerts.open_episodes(db)
    alerts.prune_counts(db, hour_ago)


def _public_store_functions() -> set[str]:
    """Every public function defined in a bouncer.store module, as module.name."""
    found = {"bouncer.store.open_db"}
    for info in pkgutil.iter_modules(bouncer.store.__path__, "bouncer.store."):
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and function.__module__ == module.__name__:
                found.add(f"{module.__name__}.{name}")
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Run the workload once with every call and statement recorded: (db, statements, calls)."""
    db = open_db(Path(tmp_path_factory.mktemp("plans")) / "p.db")
    calls: set[str] = set()
    patch = pytest.MonkeyPatch()
    for qualified in _public_store_functions() - set(NOT_IN_WORKLOAD):
        module_name, name = qualified.rsplit(".", 1)
        module = importlib.import_module(module_name)
        patch.setattr(module, name, _recording(getattr(module, name), qualified, calls))
    traced: list[str] = []
    db.conn.set_trace_callback(traced.append)
    try:
        _workload(db, WebhookConfig(url="http://127.0.0.1:9/hook", secret="s" * 16))
    finally:
        db.conn.set_trace_callback(None)
        patch.undo()
    yield db, traced, calls
    db.close()


def _recording(function, qualified: str, calls: set[str]):  # noqa: ANN001, ANN202
    def recorded(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.add(qualified)
        return function(*args, **kwargs)

    return recorded


def test_the_workload_calls_every_public_store_function(run) -> None:  # noqa: ANN001
    _, _, calls = run
    assert _public_store_functions() - set(NOT_IN_WORKLOAD) - calls == set()


def _scans(db, sql: str) -> list[str]:  # noqa: ANN001
    """Return the plan lines that read a whole growing table or index.

    Allowed: a walk over a partial index (it holds only rows in one state: open, failed, due,
    not the history), and an ordered walk over an index (or the rowid) that stops at a LIMIT
    when every column the query filters that table on is in the index (the page fills as it
    walks).
    """
    plan = [row[3] for row in db.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    bad = []
    for line in plan:
        match = _PLAN_ROW.match(line)
        if match is None or match.group(1) not in GROWING:
            continue
        index = re.search(r"USING (?:COVERING )?INDEX (\w+)", match.group(2))
        if index and _partial(db, index.group(1)):
            continue
        if _limited_walk(db, sql, match.group(1), index.group(1) if index else None):
            continue
        bad.append(line)
    return bad


def _partial(db, index: str) -> bool:  # noqa: ANN001
    row = db.conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()
    return bool(row and row[0] and " WHERE " in row[0].upper())


def _limited_walk(db, sql: str, table: str, index: str | None) -> bool:  # noqa: ANN001
    """Say whether the query stops at a LIMIT and filters only on the index's columns.

    Without an index (a walk in rowid order) the query must not filter that table at all.
    """
    if not re.search(r"\bLIMIT\b", sql, re.IGNORECASE):
        return False
    where = re.search(r"\bWHERE\b(.*?)(?:\bORDER BY\b|\bGROUP BY\b|\bLIMIT\b)", sql, re.S | re.I)
    columns = {row[1] for row in db.conn.execute(f"PRAGMA table_info({table})")}
    filtered = (
        set(re.findall(r"\b(\w+)\b", re.sub(r"'[^']*'", "", where.group(1)))) if where else set()
    )
    indexed = {row[2] for row in db.conn.execute(f"PRAGMA index_info({index})")} if index else set()
    return (filtered & columns) <= indexed


def _queries(traced: list[str]) -> set[str]:
    """The distinct statements that read or change rows (not PRAGMAs, not transactions)."""
    wanted = re.compile(r"^\s*(?:/\*.*?\*/\s*)?(SELECT|UPDATE|DELETE|INSERT|WITH)\b", re.S)
    return {sql for sql in traced if wanted.match(sql) and "/* scan:" not in sql}


def test_no_query_scans_a_growing_table(run) -> None:  # noqa: ANN001
    db, traced, _ = run
    queries = _queries(traced)
    assert len(queries) > 40  # the workload reached the store
    scans = [f"{sql[:300]}\n    {lines}" for sql in sorted(queries) if (lines := _scans(db, sql))]
    assert not scans, "\n".join(scans)


def _partial_conditions(db) -> dict[str, set[str]]:  # noqa: ANN001
    """{table: the WHERE clauses of its partial indexes that select rows in a state (open,
    new, pending), whitespace folded}. Not those about the form of a value (a sparse column's
    `X IS NOT NULL`, a return path with a subaddress): a lookup reading such an index beside
    one of every row (a UNION of both) asks for rows of any state."""
    found: dict[str, set[str]] = {}
    for table, sql in db.conn.execute(
        "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'"
    ):
        condition = " ".join(sql.split(" WHERE ", 1)[1].split())
        if not re.fullmatch(r"\w+ IS NOT NULL", condition) and "(" not in condition:
            found.setdefault(table, set()).add(condition)
    return found


def test_a_query_about_a_subset_reads_the_index_of_that_subset(run) -> None:  # noqa: ANN001
    """A query that asks for the rows a partial index holds (open deferrals, new messages)
    reads a partial index: an index of every row would walk the whole history of its key
    (every closed deferral a troubled address ever had) to find the few that match."""
    db, traced, _ = run
    conditions = _partial_conditions(db)
    bad = []
    for sql in sorted(_queries(traced)):
        folded = " ".join(sql.split())
        plan = [row[3] for row in db.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        for line in plan:
            match = re.match(r"SEARCH (\w+)(?: AS \w+)? USING (?:COVERING )?INDEX (\w+)", line)
            if not match or match.group(1) not in GROWING or _partial(db, match.group(2)):
                continue
            if any(c in folded for c in conditions.get(match.group(1), ())):
                bad.append(f"{folded[:300]}\n    {line}")
    assert not bad, "\n".join(bad)

"""`bouncer db copy` between real stores: SQLite to PostgreSQL, PostgreSQL to SQLite, SQLite to
SQLite, PostgreSQL to PostgreSQL. A source is filled by processing real delivery reports
(hard, soft, delayed), a suppression added by hand, an alert episode and webhook deliveries;
after the copy every table holds the same rows, and the copy works as a store: a new report
gets new ids, the copied suppressions are found. Then the refusals, each one line."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bouncer.app import editing
from bouncer.app.processing import process
from bouncer.cli.main import main
from bouncer.config import WebhookConfig
from bouncer.core.episodes import Episode
from bouncer.store import alerts, copy, inbox, open_db, outbox, suppressions
from bouncer.store.catalog import tables
from bouncer.store.inbox import Incoming
from bouncer.store.outbox import DeliveryResult
from tests.messages import postfix_dsn

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOOK = WebhookConfig(url="http://127.0.0.1:9/hook", secret="s" * 16)
# Every byte value, and a CR without its LF: a raw copy must come back byte for byte.
ODD_BYTES = bytes(range(256)) + b"\r\x00\xff"
# Text that COPY and the SQL quoting must carry as is: tab, newline, backslash, \N, quotes.
ODD_TEXT = "a\tb\nc\\d \\N 'e' \"f\" \r ü €"
PG = pytest.mark.postgresql


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """Return `new(backend)`: the location of a store not created yet on that backend
    (SQLite: a file in tmp_path; PostgreSQL: an empty database on the session's cluster)."""
    made: list[str] = []

    def new(backend: str) -> str:
        if backend == "sqlite":
            made.append("")
            return str(tmp_path / f"store{len(made)}.db")
        cluster = request.getfixturevalue("pg_cluster")
        name = cluster.new_database()
        request.addfinalizer(lambda: cluster.drop(name))
        return cluster.url(name)

    return new


def _fill(location: str) -> None:
    """Process hard, soft and delayed reports into a store; add a suppression by hand, an
    alert episode, webhook deliveries (one tried) and a message of odd bytes."""
    db = open_db(location)
    try:
        outbox.register(db, [HOOK.url])
        reports = [
            ("gone@a.example", "5.1.1", "550 5.1.1 User unknown", "failed"),
            ("full@b.example", "5.2.2", "552 5.2.2 Mailbox full", "failed"),
            ("slow@c.example", "4.4.1", "421 timed out", "delayed"),
            ("Mixed.Case@A.example", "5.1.1", "550 5.1.1 No such user", "failed"),
        ]
        for i, (address, status, diagnostic, action) in enumerate(reports):
            _receive(db, postfix_dsn(address, status, diagnostic, action=action), T0 + i * HOUR)
        inbox.insert_batch(db, [Incoming(T0, "<>", ("b@localhost",), "192.0.2.1", ODD_BYTES)])
        editing.add_manual(db, "hand@d.example", "operator", "hard", None, T0, "cli:test")
        editing.add_manual(db, "odd@d.example", "x", "soft", None, T0, "cli:test", ODD_TEXT)
        alerts.add_counts(db, {("all", T0): 4, ("domain:a.example", T0): 2})
        alerts.save(db, Episode("all", T0, T0, 4, 4))
        outbox.enqueue_new(db, [HOOK], T0)
        [first, *_] = outbox.due(db, T0 + HOUR, urls=[HOOK.url])
        outbox.record_result(db, first.id, DeliveryResult(False, 503, "HTTP 503"), T0, T0 + HOUR)
    finally:
        db.close()


HOUR = timedelta(hours=1)


def _receive(db, raw: bytes, at: datetime) -> int:  # noqa: ANN001
    """Store one report as the daemon's intake does, and process it; return its id."""
    [message_id] = inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])
    for message in inbox.unprocessed(db, limit=10):
        process(db, message, at)
    return message_id


def _contents(location: str) -> dict[str, list[dict]]:
    """Every table's rows in primary-key order, values normalised across backends."""
    db = open_db(location)
    try:
        found = {}
        for table in tables(db):
            cursor = db.conn.execute(f'SELECT * FROM "{table.name}" ORDER BY "{table.key}"')
            names = [column[0] for column in cursor.description]
            found[table.name] = [dict(zip(names, map(_plain, row), strict=True)) for row in cursor]
        return found
    finally:
        db.close()


def _plain(value: object) -> object:
    """A value as both backends can give it: bytes for memoryview, int for bool."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, bool):
        return int(value)
    return value


ROUTES = [
    pytest.param("sqlite", "postgresql", marks=PG, id="sqlite-to-postgresql"),
    pytest.param("postgresql", "sqlite", marks=PG, id="postgresql-to-sqlite"),
    pytest.param("sqlite", "sqlite", id="sqlite-to-sqlite"),
    pytest.param("postgresql", "postgresql", marks=PG, id="postgresql-to-postgresql"),
]


@pytest.mark.parametrize(("origin", "destination"), ROUTES)
def test_a_copy_holds_every_row_and_works_as_a_store(  # noqa: ANN001
    place, origin, destination, monkeypatch
) -> None:
    monkeypatch.setattr(copy, "PAGE_ROWS", 3)  # several pages per table, however few rows
    monkeypatch.setattr(copy, "PAGE_BYTES", 600)  # pages of raw copies cut to a row or two
    source, target = place(origin), place(destination)
    _fill(source)
    result = _run("db", "copy", "--from", source, "--to", target, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    before, after = _contents(source), _contents(target)
    assert summary["tables"] == {name: len(rows) for name, rows in before.items()}
    assert summary["rows"] == sum(len(rows) for rows in before.values())
    for name in ("messages", "raw_messages", "bounces", "events", "deferrals", "suppressions"):
        assert before[name], f"the source holds no {name}: the test proves nothing"
    for name in ("suppression_changes", "alerts", "failure_counts", "deliveries", "soft_failures"):
        assert before[name], f"the source holds no {name}: the test proves nothing"
    assert before["webhook_cursors"][0]["last_seq"] == max(r["seq"] for r in before["events"])
    assert after == before
    assert ODD_BYTES in [row["raw"] for row in after["raw_messages"]]
    assert ODD_TEXT in [row["note"] for row in after["suppressions"]]
    _works_on(target, before)


def _works_on(target: str, copied: dict[str, list[dict]]) -> None:
    """A new report in the copy takes ids past the copied ones; copied entries are found."""
    db = open_db(target)
    try:
        assert db.identity.name == "caseless"
        raw = postfix_dsn("late@e.example", "5.1.1", "550 5.1.1 User unknown")
        message_id = _receive(db, raw, T0 + 10 * HOUR)
        assert message_id > max(row["id"] for row in copied["messages"])
        newest = db.conn.execute("SELECT MAX(seq) FROM events").fetchone()[0]
        assert newest > max(row["seq"] for row in copied["events"])
        bounce = db.conn.execute("SELECT MAX(id) FROM bounces").fetchone()[0]
        assert bounce > max(row["id"] for row in copied["bounces"])
        for address in ("gone@a.example", "MIXED.CASE@a.example", "hand@d.example"):
            assert suppressions.get(db, address, T0 + 11 * HOUR) is not None, address
        assert suppressions.get(db, "late@e.example", T0 + 11 * HOUR) is not None
    finally:
        db.close()


def test_the_copy_keeps_the_address_rule(place, tmp_path) -> None:  # noqa: ANN001
    config = tmp_path / "bouncer.toml"
    config.write_text("[store]\ncase_sensitive_local_part = true\n")
    source, target = place("sqlite"), place("sqlite")
    assert _run("db", "migrate", "--db", source, "--config", str(config)).exit_code == 0
    result = _run("db", "copy", "--from", source, "--to", target)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"copied {source} to {target}: 0 ")
    status = json.loads(_run("db", "status", "--json", "--db", target).output)
    assert status["identity"] == "local-case"


@pytest.mark.parametrize("destination", ["sqlite", pytest.param("postgresql", marks=PG)])
def test_a_target_holding_messages_is_refused(place, destination) -> None:  # noqa: ANN001
    source, target = place("sqlite"), place(destination)
    _fill(source)
    db = open_db(target)
    _receive(db, postfix_dsn("x@f.example", "5.1.1", "550 no"), T0)
    db.close()
    result = _run("db", "copy", "--from", source, "--to", target)
    assert result.exit_code == 3
    assert result.output.count("\n") == 1
    assert "already holds messages; copy only into a new or empty store" in result.output
    assert len(_contents(target)["messages"]) == 1  # nothing merged


def test_a_source_at_another_schema_version_is_refused(place) -> None:  # noqa: ANN001
    source, target = place("sqlite"), place("sqlite")
    open_db(source).close()
    with sqlite3.connect(source) as conn:  # as a store left by an older bouncer reads
        latest = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {latest - 1}")
    result = _run("db", "copy", "--from", source, "--to", target)
    assert result.exit_code == 3
    assert result.output.count("\n") == 1
    assert "run `bouncer db migrate` on the source first" in result.output
    assert not Path(target).exists()


def test_one_store_twice_is_refused(place) -> None:  # noqa: ANN001
    source = place("sqlite")
    _fill(source)
    for target in (source, f"sqlite://{source}", str(Path(source).parent / "." / "store1.db")):
        result = _run("db", "copy", "--from", source, "--to", target)
        assert result.exit_code == 3, target
        assert "the source and the target are one store" in result.output


def test_one_postgresql_database_twice_is_refused() -> None:
    first = "postgresql://bouncer:secret@db.example/bouncer"
    second = "postgresql://other@db.example:5432/bouncer"
    result = _run("db", "copy", "--from", first, "--to", second)
    assert result.exit_code == 3
    assert result.output.count("\n") == 1 and "one store" in result.output
    assert "secret" not in result.output


def test_a_bad_location_and_an_unreachable_target_are_one_line(place) -> None:  # noqa: ANN001
    source = place("sqlite")
    _fill(source)
    bad = _run("db", "copy", "--from", source, "--to", "mysql://db.example/bouncer")
    assert bad.exit_code == 3 and bad.output.count("\n") == 1
    assert "not a store location" in bad.output
    url = "postgresql://bouncer:hunter2-long@127.0.0.1:9/bouncer?connect_timeout=2"
    unreachable = _run("db", "copy", "--from", source, "--to", url)
    assert unreachable.exit_code == 3 and unreachable.output.count("\n") == 1
    assert "cannot connect" in unreachable.output and "hunter2" not in unreachable.output
    missing = _run("db", "copy", "--from", str(Path(source).parent / "none.db"), "--to", url)
    assert missing.exit_code == 3 and "no bouncer store to copy" in missing.output


def test_a_failure_midway_is_one_line_saying_the_target_is_partly_filled(place) -> None:  # noqa: ANN001
    source, target = place("sqlite"), place("sqlite")
    _fill(source)
    open_db(target).close()
    with sqlite3.connect(target) as conn:  # the target's disk, say, refuses the events
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'no'); END"
        )
    result = _run("db", "copy", "--from", source, "--to", target)
    assert result.exit_code == 3
    assert result.output.count("\n") == 1
    assert "copy failed after" in result.output and "partly filled" in result.output
    again = _run("db", "copy", "--from", source, "--to", target)
    assert again.exit_code == 3 and "already holds alerts" in again.output  # copied first


@pytest.mark.parametrize("origin", ["sqlite", pytest.param("postgresql", marks=PG)])
def test_the_copy_is_one_state_while_the_source_keeps_receiving(
    place,
    origin,
    monkeypatch,  # noqa: ANN001
) -> None:
    monkeypatch.setattr(copy, "PAGE_ROWS", 2)
    source, target = place(origin), place("sqlite")
    _fill(source)
    before = _contents(source)
    writer = open_db(source)  # the daemon, storing reports while the copy reads

    def receive_more(rows: int) -> None:
        raw = postfix_dsn(f"during{rows}@g.example", "5.1.1", "550 5.1.1 User unknown")
        _receive(writer, raw, T0 + 20 * HOUR)

    reader, filled = copy.open_stores(source, target)
    try:
        copied = copy.copy_store(reader, filled, receive_more)
    finally:
        reader.close()
        filled.close()
        writer.close()
    assert copied["messages"] == len(before["messages"])
    assert _contents(target) == before
    assert len(_contents(source)["messages"]) > len(before["messages"])  # it did receive


@pytest.mark.parametrize(
    "url",
    ["postgresql://bouncer:hunter2-long@[db/x", "postgresql://bouncer:hunter2-long@db/x?no=1"],
)
def test_a_url_libpq_cannot_read_is_one_line_without_its_password(place, url) -> None:  # noqa: ANN001
    source = place("sqlite")
    open_db(source).close()
    for args in (("db", "copy", "--from", source, "--to", url), ("db", "status", "--db", url)):
        result = _run(*args)
        assert result.exit_code == 3, result.output
        assert result.output.count("\n") == 1
        assert "hunter2" not in result.output and "bouncer:***@" in result.output


def test_a_target_made_with_another_address_rule_is_refused(place, tmp_path) -> None:  # noqa: ANN001
    config = tmp_path / "bouncer.toml"
    config.write_text("[store]\ncase_sensitive_local_part = true\n")
    source, target = place("sqlite"), place("sqlite")
    _fill(source)
    assert _run("db", "migrate", "--db", target, "--config", str(config)).exit_code == 0
    result = _run("db", "copy", "--from", source, "--to", target)
    assert result.exit_code == 3 and result.output.count("\n") == 1
    assert "compares addresses by another rule than the source ('caseless')" in result.output

"""A node's local spool while PostgreSQL is away (issue 15): intake commits to the spool and
answers 250, the forwarder moves the spool into the shared store once, /readyz and /metrics
say so; with the spool unusable too, 451; a SQLite store has no spool."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import smtplib
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bouncer.daemon.intake import InboxWriter
from bouncer.daemon.spool import Forwarder
from bouncer.store import StoreError, inbox, open_db, spool
from bouncer.store.inbox import Incoming
from tests.conftest import RunningDaemon, start_daemon
from tests.http.conftest import Api, api_config
from tests.messages import postfix_dsn

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _item(n: int, key: str | None = None) -> Incoming:
    raw = postfix_dsn(
        f"gone{n}@example.com", "5.1.1", "550 5.1.1 unknown", at=NOW, report_id=f"<r{n}@x>"
    )
    return Incoming(NOW, "<>", (f"b{n}@localhost",), f"192.0.2.{n}:25", raw, key)


def _closed_port_url() -> str:
    """A postgresql:// URL on a loopback port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://bouncer@127.0.0.1:{port}/bouncer"


def _store(writer: InboxWriter, items: list[Incoming]) -> list[int | str]:
    async def main() -> list[int | str]:
        return list(await asyncio.gather(*(writer.store(item) for item in items)))

    return asyncio.run(main())


def test_keys_are_uuids_that_sort_by_time() -> None:
    keys = [spool.new_key() for _ in range(50)]
    assert len(set(keys)) == 50
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-\w{12}", k)
        for k in keys
    )
    first = keys[0]
    time.sleep(0.002)
    assert spool.new_key()[:13] > first[:13]  # the millisecond time leads


def test_the_store_away_the_batch_goes_to_the_spool(tmp_path: Path) -> None:
    writer = InboxWriter(_closed_port_url(), spool=tmp_path / "spool.db").start()
    try:
        keys = _store(writer, [_item(1), _item(2)])
        assert writer.spooling and "refused" in writer.spooling.lower()
        assert writer.last_error is None
    finally:
        writer.stop()
    assert all(isinstance(key, str) for key in keys)
    db = open_db(tmp_path / "spool.db")
    try:
        taken = spool.take(db)
    finally:
        db.close()
    assert [item.spool_key for item in taken] == keys
    assert [item.raw for item in taken] == [_item(1).raw, _item(2).raw]


def test_the_spool_unusable_too_the_senders_get_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    writer = InboxWriter(_closed_port_url(), spool=tmp_path / "file" / "spool.db").start()
    try:
        with pytest.raises(StoreError, match=r"store away \(.*\); spool: "):
            _store(writer, [_item(1)])
        assert writer.last_error is not None
    finally:
        writer.stop()


def test_a_sqlite_store_has_no_spool(tmp_path: Path) -> None:
    writer = InboxWriter(tmp_path / "b.db", spool=tmp_path / "spool.db").start()
    try:
        assert _store(writer, [_item(1)]) == [1]
    finally:
        writer.stop()
    assert not (tmp_path / "spool.db").exists()
    db = open_db(tmp_path / "b.db")
    try:
        assert db.conn.execute("SELECT spool_key FROM messages").fetchall() == [(None,)]
    finally:
        db.close()


@pytest.fixture
def pg_url(pg_cluster, pg_template: str) -> Iterator[str]:  # noqa: ANN001
    """A new migrated PostgreSQL database, dropped after the test."""
    name = pg_cluster.new_database(pg_template)
    yield pg_cluster.url(name)
    pg_cluster.drop(name)


def _spool_of(path: Path, items: list[Incoming]) -> list[str]:
    """A spool holding the items, each with a new key; return the keys."""
    keyed = [replace(item, spool_key=spool.new_key()) for item in items]
    db = open_db(path)
    try:
        inbox.insert_batch(db, keyed)
    finally:
        db.close()
    return [item.spool_key for item in keyed]


def _rows(url: str) -> list[tuple]:
    db = open_db(url)
    try:
        return db.conn.execute(
            "SELECT m.spool_key, m.received_at, m.mail_from, m.rcpt_to, m.peer, m.size, "
            "m.state, r.raw FROM messages m JOIN raw_messages r ON r.message_id = m.id "
            "ORDER BY m.id"
        ).fetchall()
    finally:
        db.close()


def test_the_forwarder_moves_the_spool_into_the_store_as_intake_writes(
    tmp_path: Path, pg_url: str
) -> None:
    keys = _spool_of(tmp_path / "spool.db", [_item(1), _item(2), _item(3)])
    forwarded: list[int] = []
    forwarder = Forwarder(tmp_path / "spool.db", pg_url, on_forwarded=forwarded.append)
    assert forwarder.forward_once() == 3
    assert forwarder.forward_once() == 0
    assert forwarder.state() == {"messages": 0, "store_error": None}
    asyncio.run(forwarder.close())
    direct = tmp_path / "direct.db"  # what intake itself writes, for comparison
    open_db(direct).close()
    db = open_db(direct)
    inbox.insert_batch(
        db, [replace(_item(n), spool_key=k) for n, k in zip((1, 2, 3), keys, strict=True)]
    )
    db.close()
    expected = [(*row[:7], bytes(row[7])) for row in _rows(str(direct))]
    assert [(*row[:7], bytes(row[7])) for row in _rows(pg_url)] == expected
    assert expected[0][6] == "new" and json.loads(expected[0][3]) == ["b1@localhost"]


def test_a_crash_between_insert_and_delete_forwards_once(tmp_path: Path, pg_url: str) -> None:
    """The store committed a spooled message, the spool's delete never happened: the next pass
    inserts it as a no-op and deletes it."""
    [key, other] = _spool_of(tmp_path / "spool.db", [_item(1), _item(2)])
    db = open_db(pg_url)
    inbox.insert_batch(db, [replace(_item(1), spool_key=key)])  # forwarded before the crash
    db.close()
    forwarder = Forwarder(tmp_path / "spool.db", pg_url)
    try:
        assert forwarder.forward_once() == 2
    finally:
        asyncio.run(forwarder.close())
    assert sorted(row[0] for row in _rows(pg_url)) == sorted([key, other])
    left = open_db(tmp_path / "spool.db")
    assert spool.waiting(left) == 0
    left.close()


def test_the_store_away_the_forwarder_keeps_the_spool(tmp_path: Path) -> None:
    _spool_of(tmp_path / "spool.db", [_item(1)])
    forwarder = Forwarder(tmp_path / "spool.db", _closed_port_url())
    try:
        assert forwarder.forward_once() == 0
        state = forwarder.state()
    finally:
        asyncio.run(forwarder.close())
    assert state["messages"] == 1 and "refused" in state["store_error"].lower()


def _send(daemon: RunningDaemon, n: int) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as client:
        client.ehlo()
        client.mail("<>")
        client.rcpt("bounces@localhost")
        return client.data(postfix_dsn(f"gone{n}@example.com", "5.1.1", "550 5.1.1 unknown"))


def _metric(api: Api, name: str) -> float:
    text = api.get("/metrics", token=None).body.decode()
    return float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))


def _until(check, seconds: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.1)


def test_a_node_spools_while_its_database_is_gone_and_forwards_when_back(
    tmp_path: Path,
    pg_cluster,  # noqa: ANN001
    pg_template: str,
) -> None:
    name = pg_cluster.new_database(pg_template)
    url = pg_cluster.url(name)
    api = Api(start_daemon(replace(api_config(tmp_path), db_path=url)))
    try:
        assert api.get("/readyz", token=None).body["spool"] == {"messages": 0, "store_error": None}
        pg_cluster.drop(name)  # the database is away: connections fail
        code, reply = _send(api.daemon, 1)
        assert code == 250, reply
        assert reply.startswith(b"2.0.0 Ok: spooled as ")
        ready = api.get("/readyz", token=None)
        assert (ready.status, ready.body["status"]) == (200, "spooling")
        assert ready.body["problems"] == []
        assert ready.body["spool"]["store_error"]  # why: the connection ended, or no database
        _until(lambda: _metric(api, "bouncer_spooled_messages") == 1)
        assert _metric(api, "bouncer_messages_spooled_total") == 1
        pg_cluster.admin(f'CREATE DATABASE "{name}" TEMPLATE {pg_template}')  # back, empty
        _until(lambda: api.processed() == 1)
        _until(lambda: _metric(api, "bouncer_spooled_messages") == 0)
        ready = api.get("/readyz", token=None)
        assert (ready.status, ready.body["status"]) == (200, "ok")
    finally:
        api.daemon.stop()
        pg_cluster.drop(name)
    left = open_db(tmp_path / "spool.db")
    assert spool.waiting(left) == 0
    left.close()


def test_with_the_database_gone_and_the_spool_unusable_the_sender_gets_451(
    tmp_path: Path,
    pg_cluster,  # noqa: ANN001
    pg_template: str,
) -> None:
    name = pg_cluster.new_database(pg_template)
    api = Api(start_daemon(replace(api_config(tmp_path), db_path=pg_cluster.url(name))))
    try:
        pg_cluster.drop(name)
        for path in tmp_path.glob("spool.db*"):
            path.unlink()
        (tmp_path / "spool.db").mkdir()  # the spool cannot be opened either
        code, reply = _send(api.daemon, 1)
        assert code == 451, reply
        ready = api.get("/readyz", token=None)
        assert (ready.status, ready.body["status"]) == (503, "failing")
        assert any(problem.startswith("intake: ") for problem in ready.body["problems"])
    finally:
        api.daemon.stop()
        shutil.rmtree(tmp_path / "spool.db", ignore_errors=True)


def test_a_node_on_sqlite_has_no_spool(tmp_path: Path) -> None:
    api = Api(start_daemon(api_config(tmp_path)))
    try:
        assert _send(api.daemon, 1)[0] == 250
        assert api.get("/readyz", token=None).body == {"status": "ok", "problems": []}
        assert "bouncer_spooled_messages 0.0" in api.get("/metrics", token=None).body.decode()
    finally:
        api.daemon.stop()
    assert not (tmp_path / "spool.db").exists()


def test_db_status_shows_the_spool_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    from click.testing import CliRunner

    from bouncer.cli.main import main

    config = tmp_path / "bouncer.toml"
    config.write_text(f'[store]\nspool = "{tmp_path / "spool.db"}"\n')
    args = ["db", "status", "--json", "--config", str(config), "--db", pg_url]
    before = json.loads(CliRunner().invoke(main, args).output)
    _spool_of(tmp_path / "spool.db", [_item(1), _item(2)])
    after = json.loads(CliRunner().invoke(main, args).output)
    assert (before["spool"], before["spooled"]) == (str(tmp_path / "spool.db"), None)
    assert after["spooled"] == 2
    lite = CliRunner().invoke(main, [*args[:-1], str(tmp_path / "b.db")]).output
    assert "spool" not in json.loads(lite)


def test_loops_waiting_for_the_store_keep_a_spooling_node_healthy() -> None:
    import psycopg

    from bouncer.daemon.health import Health
    from bouncer.store.pg import unreachable

    now = [0.0]
    health = Health(clock=lambda: now[0])
    health.waits_for = unreachable
    refused = psycopg.OperationalError("connection refused")
    health.fail("scheduler", refused)
    health.fail("journal", StoreError("cannot connect", "open"))  # not the server's being away
    health.fail("processor", _raised_from(refused))
    now[0] = 500.0
    assert health.problems() == ["journal failing for 500 s"]
    assert health.last_error(waiting=False) == "journal: StoreError('cannot connect')"
    health.beat("journal")
    assert health.problems() == [] and health.last_error(waiting=False) is None
    assert health.last_error() is not None  # STATUS= still shows why the loops wait


def _raised_from(cause: BaseException) -> StoreError:
    try:
        raise StoreError("db: cannot connect", "open") from cause
    except StoreError as exc:
        return exc


def test_a_node_starts_while_its_database_is_away_and_spools(
    tmp_path: Path,
    pg_cluster,  # noqa: ANN001
) -> None:
    name = f"away_{time.monotonic_ns()}"  # not created yet: connections fail
    url = pg_cluster.url(name)
    api = Api(start_daemon(replace(api_config(tmp_path), db_path=url)))
    try:
        code, reply = _send(api.daemon, 1)
        assert (code, reply.startswith(b"2.0.0 Ok: spooled as ")) == (250, True), reply
        _until(lambda: api.get("/readyz", token=None).body["spool"]["messages"] == 1)
        ready = api.get("/readyz", token=None)
        assert (ready.status, ready.body["status"]) == (200, "spooling")
        pg_cluster.admin(f'CREATE DATABASE "{name}"')  # empty: the first to connect migrates
        _until(lambda: api.processed() == 1)
    finally:
        api.daemon.stop()
        pg_cluster.drop(name)


def test_a_node_stopped_while_its_database_is_away_logs_no_traceback(
    tmp_path: Path,
    pg_cluster,  # noqa: ANN001
    capfd: pytest.CaptureFixture[str],
) -> None:
    """What waits for the shared store says so in one line, also at a stop: the message
    spooled meanwhile is left for the next start, not reported as a failure."""
    url = pg_cluster.url(f"away_{time.monotonic_ns()}")  # never created: connections fail
    api = Api(start_daemon(replace(api_config(tmp_path), db_path=url)))
    try:
        code, _ = _send(api.daemon, 1)
        assert code == 250
    finally:
        api.daemon.stop()
    out, err = capfd.readouterr()
    assert "service.store_unreachable" in out + err
    assert "Traceback" not in out + err


def test_a_drained_spool_gives_its_space_back(tmp_path: Path, pg_url: str) -> None:
    """After a long outage the spool file shrinks again, a batch of pages a pass."""
    path = tmp_path / "spool.db"
    _spool_of(path, [replace(_item(n), raw=b"x" * 20_000) for n in range(150)])
    grown = path.stat().st_size
    forwarder = Forwarder(path, pg_url)
    try:
        while forwarder.forward_once():
            pass
        for _ in range(3):  # idle passes
            forwarder.forward_once()
    finally:
        asyncio.run(forwarder.close())
    assert path.stat().st_size < grown / 4

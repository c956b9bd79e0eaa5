"""A daemon that heals: a failed processing batch is retried with backoff, an unwritable store
recovers without a restart, health stops the watchdog, start-up failures are one line with a
sysexits status and leave no database behind."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bouncer.cli.main import main
from bouncer.daemon.health import Health, supervise
from bouncer.daemon.sdnotify import watchdog
from bouncer.store import open_db
from tests.conftest import make_config, start_daemon
from tests.messages import postfix_dsn

UNKNOWN = "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown"


def _states(db_path: Path) -> list[str]:
    db = open_db(db_path)
    try:
        return [row[0] for row in db.conn.execute("SELECT state FROM messages ORDER BY id")]
    finally:
        db.close()


def _sql(db_path: Path, statement: str) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute(statement)
    conn.commit()
    conn.close()


def _wait(predicate, seconds: float = 15.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_processing_resumes_after_its_writes_failed(tmp_path: Path) -> None:
    running = start_daemon(make_config(tmp_path))
    try:
        _sql(
            running.db_path,
            "CREATE TRIGGER full BEFORE UPDATE ON messages WHEN NEW.state != 'new' "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
        )
        with running.client() as client:
            assert (
                client.sendmail(
                    "", ["b@localhost"], postfix_dsn("gone@example.com", "5.1.1", UNKNOWN)
                )
                == {}
            )
        time.sleep(1.0)
        assert _states(running.db_path) == ["new"]  # stored, not processed, daemon alive
        _sql(running.db_path, "DROP TRIGGER full")  # the disk has room again
        _wait(lambda: _states(running.db_path) == ["processed"])
        with running.client() as client:  # and intake never stopped
            assert client.noop()[0] == 250
    finally:
        running.stop()


def test_an_unwritable_store_answers_451_then_250_without_a_restart(tmp_path: Path) -> None:
    running = start_daemon(make_config(tmp_path))
    raw = postfix_dsn("gone@example.com", "5.1.1", UNKNOWN)
    try:
        _sql(
            running.db_path,
            "CREATE TRIGGER refuse BEFORE INSERT ON messages "
            "BEGIN SELECT RAISE(ABORT, 'attempt to write a readonly database'); END",
        )
        with running.client() as client:
            client.ehlo()
            client.mail("<>")
            client.rcpt("b@localhost")
            assert client.data(raw)[0] == 451
        _sql(running.db_path, "DROP TRIGGER refuse")
        with running.client() as client:
            assert client.sendmail("", ["b@localhost"], raw) == {}
        running.wait_processed(1)
    finally:
        running.stop()


def test_health_names_a_loop_that_keeps_failing_or_is_stuck() -> None:
    now = [0.0]
    health = Health(unhealthy_after=60, stuck_after=120, clock=lambda: now[0])
    health.register("processor")
    health.register("scheduler")
    assert health.ok()
    health.fail("scheduler", "disk full")
    now[0] = 59.0
    assert health.ok() and health.last_error() == "scheduler: disk full"
    now[0] = 61.0
    assert health.problems() == ["scheduler failing for 61 s"]
    health.beat("scheduler")
    health.busy("processor")
    now[0] = 182.0
    assert health.problems() == ["processor stuck for 121 s"]
    health.beat("processor")
    assert health.ok() and health.last_error() is None


def test_a_loop_waiting_for_the_store_logs_one_line_a_broken_one_its_traceback() -> None:
    from structlog.testing import capture_logs

    class Away(Exception):
        pass

    health = Health(clock=lambda: 0.0)
    health.waits_for = lambda error: isinstance(error, Away)
    health.register("scheduler")
    with capture_logs() as logs:
        health.failed("scheduler", "scheduler.sweep_failed", Away("connection refused"))
        health.failed("scheduler", "scheduler.sweep_failed", ValueError("a bug"))
    waiting, broken = logs
    assert (waiting["log_level"], waiting["error"]) == ("warning", "connection refused")
    assert "exc_info" not in waiting
    assert broken["log_level"] == "error" and isinstance(broken["exc_info"], ValueError)
    assert health.loops["scheduler"].failures == 2


def test_supervise_starts_a_failed_loop_again_with_backoff() -> None:
    health = Health()
    starts: list[float] = []

    async def flaky() -> None:
        starts.append(asyncio.get_running_loop().time())
        if len(starts) < 3:
            raise RuntimeError("transient")
        health.beat("loop")
        await asyncio.sleep(10)

    async def scenario() -> None:
        task = asyncio.create_task(supervise("loop", flaky, health, first_delay=0.05))
        while len(starts) < 3:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)
        assert health.ok()  # the third start succeeded
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert starts[2] - starts[1] > starts[1] - starts[0]  # the wait doubled
    assert health.problems() == ["loop stopped"]


def test_supervise_backoff_starts_over_after_work_was_done() -> None:
    health = Health()
    starts: list[float] = []

    async def fails_after_work() -> None:  # e.g. a disk that fills up again and again
        starts.append(asyncio.get_running_loop().time())
        if len(starts) in (3, 4):
            health.beat("loop")
        if len(starts) < 6:
            raise OSError("database or disk is full")
        await asyncio.sleep(10)

    async def scenario() -> None:
        task = asyncio.create_task(supervise("loop", fails_after_work, health, first_delay=0.05))
        while len(starts) < 6:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    waits = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert waits[1] > 1.5 * waits[0]  # failing without work: the wait doubles
    assert waits[2] < 1.5 * waits[0] and waits[3] < 1.5 * waits[0]  # after work: afresh
    assert waits[4] > 1.5 * waits[3]


def test_the_watchdog_pings_only_while_healthy(monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "notify")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(path)
        listener.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        health = Health(unhealthy_after=0.0)
        health.register("processor")

        async def scenario() -> None:
            task = asyncio.create_task(watchdog(health, lambda: "backlog 3", every=0.05))
            await asyncio.sleep(0.12)
            health.fail("processor", "disk full")
            await asyncio.sleep(0.2)
            task.cancel()

        asyncio.run(scenario())
        lines = []
        listener.settimeout(0.1)
        while True:
            try:
                lines.append(listener.recv(4096).decode())
            except OSError:
                break
        listener.close()
    assert "STATUS=backlog 3" in lines and "WATCHDOG=1" in lines
    last_ping = max(i for i, line in enumerate(lines) if line == "WATCHDOG=1")
    assert lines[last_ping + 1 :].count("STATUS=backlog 3") >= 2  # statuses go on, pings stop


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"this is not sqlite at all" * 100, 65), (None, 65)],
    ids=["corrupt", "foreign"],
)
def test_an_unusable_database_refuses_to_start_in_one_line(
    tmp_path: Path, content: bytes | None, status: int
) -> None:
    path = tmp_path / "x.db"
    if content is None:
        _sql(path, "CREATE TABLE customers (id INTEGER)")  # someone else's database
    else:
        path.write_bytes(content)
    result = CliRunner().invoke(
        main, ["serve", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", str(path)]
    )
    assert result.exit_code == status
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_an_address_the_host_lacks_is_unavailable(tmp_path: Path) -> None:
    args = ["serve", "--listen", "192.0.2.77:2525", "--http", "127.0.0.1:0"]
    args += ["--db", str(tmp_path / "b.db")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 69  # EX_UNAVAILABLE: the address may come up later
    assert "cannot listen on 192.0.2.77:2525" in result.output
    assert not (tmp_path / "b.db").exists()

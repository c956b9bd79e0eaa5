"""Several processes (smtp.processes = 2): every acknowledged message is stored and processed
exactly once, the connection limits hold for all intake processes together, a worker process
that dies is started again, and processors that overlap never process a message twice."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bouncer.clock import utcnow
from bouncer.daemon.worker import Processor
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from tests.conftest import RunningDaemon, assert_processed_once, make_config, start_daemon
from tests.messages import postfix_dsn

STORED = re.compile(rb"stored as (\d+)")


def _dsn(n: int) -> bytes:
    return postfix_dsn(f"gone{n}@example.com", "5.1.1", "550 5.1.1 unknown", message_id=f"<o{n}@x>")


def _send(port: int, numbers: range) -> list[int]:
    """Send one DSN per number over one session; return the ids the 250s named."""
    ids = []
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        for n in numbers:
            client.mail("<>")
            client.rcpt("bounces@localhost")
            code, reply = client.data(_dsn(n))
            assert code == 250, reply
            ids.append(int(STORED.search(reply).group(1)))
    return ids


def _children(parent: int | None = None) -> list[int]:
    """Return the pids of the worker processes of parent (default: this process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == (parent or os.getpid()) and b"bouncer.daemon.child" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture(params=["asyncio", "uvloop"])
def pool(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch) -> RunningDaemon:  # noqa: ANN001
    """A daemon with two intake processes; its worker processes run on each event loop."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    monkeypatch.setenv("BOUNCER_EVENT_LOOP", request.param)
    running = start_daemon(make_config(tmp_path, processes=2, max_connections_per_ip=30))
    yield running
    running.stop()


def test_every_acknowledged_message_is_stored_and_processed_once(pool: RunningDaemon) -> None:
    assert len(_children()) == 3  # two intake processes and one processing process
    with ThreadPoolExecutor(8) as sessions:
        shares = sessions.map(lambda k: _send(pool.port, range(k * 25, k * 25 + 25)), range(8))
        acknowledged = [i for share in shares for i in share]
    pool.wait_processed(200, timeout=30)
    pool.stop()
    assert len(acknowledged) == 200
    assert_processed_once(pool.db_path, acknowledged)
    assert _children() == []  # every worker process ended with the daemon


def test_connection_limits_hold_for_all_intake_processes_together(tmp_path: Path) -> None:
    running = start_daemon(make_config(tmp_path, processes=2, max_connections_per_ip=3))
    clients = []
    try:
        for _ in range(3):
            client = smtplib.SMTP("127.0.0.1", running.port, timeout=10)
            assert client.noop()[0] == 250
            clients.append(client)
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", running.port, timeout=10)
        assert refused.value.smtp_code == 421
        clients.pop().quit()
        time.sleep(0.3)  # the intake process reports the end of the session
        with smtplib.SMTP("127.0.0.1", running.port, timeout=10) as again:
            assert again.noop()[0] == 250
    finally:
        for client in clients:
            client.close()
        running.stop()


def test_a_worker_process_that_dies_is_started_again(pool: RunningDaemon) -> None:
    acknowledged = _send(pool.port, range(5))
    pool.wait_processed(5)
    before = set(_children())
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while len(set(_children()) - before) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(set(_children()) - before) == 3
    acknowledged += _send(pool.port, range(5, 10))
    pool.wait_processed(10, timeout=20)
    pool.stop()
    assert_processed_once(pool.db_path, acknowledged)


def test_overlapping_processors_process_each_message_once(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    db = open_db(path)
    now = utcnow()
    batch = [Incoming(now, "<>", ("b@localhost",), None, _dsn(n)) for n in range(300)]
    ids = inbox.insert_batch(db, batch)
    db.close()
    processors = [Processor(path), Processor(path)]
    start = threading.Barrier(2)

    def drain(processor: Processor) -> int:
        worker_db = open_db(path, take_turns=True)
        start.wait()
        try:
            return processor.drain(worker_db)
        finally:
            worker_db.close()

    with ThreadPoolExecutor(2) as threads:
        handled = list(threads.map(drain, processors))
    assert sum(handled) >= 300  # both drained: batches they both read were written once
    assert_processed_once(path, ids)


def test_worker_processes_end_when_the_main_process_is_killed(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = '[smtp]\nprocesses = 2\nlisten = "127.0.0.1:0"\n[http]\nlisten = "127.0.0.1:0"\n'
    (tmp_path / "b.toml").write_text(config)
    command = [sys.executable, "-m", "bouncer", "serve", "--config", str(tmp_path / "b.toml")]
    daemon = subprocess.Popen([*command, "--db", str(tmp_path / "b.db")], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 20
        while len(workers := _children(daemon.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == 3
        daemon.kill()
        daemon.wait(10)
        while _alive(workers) and time.monotonic() < deadline + 10:
            time.sleep(0.1)
        assert not _alive(workers)  # none keeps serving or processing beside a new daemon
    finally:
        if daemon.poll() is None:
            daemon.kill()


def _alive(pids: list[int]) -> list[int]:
    """Return the pids that still run (not zombies)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def test_worker_processes_share_the_store_on_each_backend(store_url: str, tmp_path: Path) -> None:
    """Two intake processes and a processing process on one store (SQLite or PostgreSQL):
    every acknowledged message stored, recorded and acted on exactly once."""
    config = make_config(tmp_path, store_url, processes=2, max_connections_per_ip=30)
    running = start_daemon(config)
    try:
        with ThreadPoolExecutor(4) as sessions:
            shares = sessions.map(
                lambda k: _send(running.port, range(k * 20, k * 20 + 20)), range(4)
            )
            acknowledged = [i for share in shares for i in share]
        running.wait_processed(80, timeout=30)
    finally:
        running.stop()
    assert len(acknowledged) == 80
    assert_processed_once(store_url, acknowledged)


def test_a_sigterm_to_the_whole_process_group_stops_quietly(tmp_path: Path) -> None:
    """`timeout`, `kill -TERM -PGID` and some supervisors signal every process of the group:
    the worker processes end cleanly at once, and the main process must not take that for a
    failure (no loop.failed, no traceback) while it stops too."""
    import subprocess
    import sys

    config = '[smtp]\nprocesses = 2\nlisten = "127.0.0.1:0"\n[http]\nlisten = "127.0.0.1:0"\n'
    (tmp_path / "b.toml").write_text(config)
    command = [sys.executable, "-m", "bouncer", "serve", "--config", str(tmp_path / "b.toml")]
    daemon = subprocess.Popen(
        [*command, "--db", str(tmp_path / "b.db")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while len(_children(daemon.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_children(daemon.pid)) == 3
        time.sleep(0.5)
        os.killpg(daemon.pid, signal.SIGTERM)
        output = daemon.communicate(timeout=30)[0].decode()
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0
    assert "service.stopped" in output
    assert "loop.failed" not in output and "Traceback" not in output, output


def test_processing_runs_below_the_smtp_sessions_priority(tmp_path: Path) -> None:
    """The processing process lowers its CPU priority (nice 10) so senders go first; the
    intake processes keep the daemon's."""
    from bouncer.daemon.child import PROCESSING_NICE

    running = start_daemon(make_config(tmp_path, processes=2))
    try:
        deadline = time.monotonic() + 10
        nices: dict[str, int] = {}
        while time.monotonic() < deadline:
            nices = {}
            for pid in _children():
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                role = "processing" if int(stat[16]) >= PROCESSING_NICE else "intake"
                nices[f"{role}-{pid}"] = int(stat[16])
            if len(nices) == 3 and sum(k.startswith("processing") for k in nices) == 1:
                break
            time.sleep(0.1)
    finally:
        running.stop()
    assert sorted(v for v in nices.values()) == [os.nice(0), os.nice(0), PROCESSING_NICE]

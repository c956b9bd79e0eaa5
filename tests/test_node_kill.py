"""SIGKILL of one node mid-load (issue 15): two `bouncer serve` processes (each with intake and
processing worker processes) on one PostgreSQL store; one is killed with its whole process
group while DSNs arrive at both, the other goes on answering, the killed one is started again
on the same config; afterwards every 250 is processed exactly once and nothing is doubled."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bouncer.store import open_db
from tests.conftest import assert_processed_once
from tests.messages import postfix_dsn

pytestmark = pytest.mark.postgresql
STORED = re.compile(rb"stored as (\d+)")
MESSAGES_PER_SENDER = 60
KILL_AFTER = 20  # 250s from node A before it is killed
START_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Node:
    """One `bouncer serve` process group (smtp.processes = 2) in a directory of its own,
    its spool at the default state/spool.db there."""

    def __init__(self, directory: Path, url: str) -> None:
        directory.mkdir()
        self.directory = directory
        self.port = _free_port()
        (directory / "bouncer.toml").write_text("[smtp]\nprocesses = 2\nshutdown_grace = 2\n")
        self.command = [
            sys.executable, "-m", "bouncer", "serve",
            "--config", str(directory / "bouncer.toml"),
            "--http", "127.0.0.1:0",
            "--listen", f"127.0.0.1:{self.port}",
            "--db", url,
            "--domain", "localhost",
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None
        self.answered: list[int] = []  # the messages it answered 250 (list.append: threads)

    def start(self) -> _Node:
        """Start the daemon (a process group of its own); return once it answers SMTP."""
        log = open(self.directory / "serve.log", "ab")  # noqa: SIM115 - the process's for its life
        self.process = subprocess.Popen(
            self.command,
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as client:
                    if client.noop()[0] == 250:
                        return self
            except (OSError, smtplib.SMTPException):
                assert self.process.poll() is None, (self.directory / "serve.log").read_text()
                assert time.monotonic() < deadline, "the node did not start"
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole process group (the main process and its workers)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM the process group; wait for it (SIGKILL after a while)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _sender(node: _Node, first: int, cut: list[int]) -> list[int]:
    """Send DSNs, one recipient each, as one MTA would; return the ids the 250s named. A
    message refused before its DATA (no connection, a 421) is tried again a moment later; one
    whose DATA got no 250 (the session cut by the kill, a 4xx) is not sent again: it is
    counted in `cut` (it may or may not have been stored)."""
    acknowledged: list[int] = []
    n = first
    while n < first + MESSAGES_PER_SENDER:
        raw = postfix_dsn(
            f"gone{n}@example.com", "5.1.1", "550 5.1.1 unknown", message_id=f"<k{n}@x>"
        )
        try:
            client = smtplib.SMTP("127.0.0.1", node.port, timeout=20)
            client.ehlo()
            client.mail("<>")
            client.rcpt("bounces@localhost")
        except (smtplib.SMTPException, OSError):
            time.sleep(0.1)  # nothing sent yet: try again
            continue
        try:
            code, reply = client.data(raw)
            client.close()
        except (smtplib.SMTPException, OSError):
            code, reply = 0, b""
        if code == 250:
            acknowledged.append(int(STORED.search(reply).group(1)))
            node.answered.append(n)
        else:
            cut.append(n)
        n += 1
    return acknowledged


def _until(check, seconds: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.01)


def _settled(url: str, seconds: float = 90.0) -> int:
    """Wait until no stored message is left unprocessed; return how many are stored."""
    deadline = time.monotonic() + seconds
    db = open_db(url)
    try:
        while True:
            total, new = db.conn.execute(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'new') FROM messages"
            ).fetchone()
            if not new:
                return total
            assert time.monotonic() < deadline, f"{new} messages left unprocessed"
            time.sleep(0.1)
    finally:
        db.close()


def test_a_node_killed_mid_load_loses_and_doubles_nothing(
    tmp_path: Path,
    pg_cluster,  # noqa: ANN001
    pg_template: str,
) -> None:
    name = pg_cluster.new_database(pg_template)
    url = pg_cluster.url(name)
    a, b = _Node(tmp_path / "a", url).start(), _Node(tmp_path / "b", url).start()
    cut: list[int] = []
    try:
        with ThreadPoolExecutor(4) as senders:
            shares = [
                senders.submit(_sender, (a, b)[k % 2], k * MESSAGES_PER_SENDER, cut)
                for k in range(4)
            ]
            _until(lambda: len(a.answered) >= KILL_AFTER)
            a.kill()  # node A dies mid-load, its workers with it ...
            before = len(a.answered)
            time.sleep(1.0)
            a.start()  # ... and is started again on the same config
            acknowledged = [i for share in shares for i in share.result(timeout=180)]
        stored = _settled(url)
    finally:
        for node in (a, b):
            node.stop()
    try:
        assert len(b.answered) == 2 * MESSAGES_PER_SENDER  # B answered 250 throughout
        assert len(a.answered) > before  # A answered again once started again
        assert len(acknowledged) + len(cut) == 4 * MESSAGES_PER_SENDER
        assert stored - len(acknowledged) <= len(cut)  # stored without a 250: cut sessions
        assert_processed_once(url, acknowledged, unanswered=stored - len(acknowledged))
    finally:
        pg_cluster.drop(name)

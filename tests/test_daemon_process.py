"""`bouncer serve` as a real process: it starts, answers, and on SIGTERM finishes the
transaction in flight before it exits."""

from __future__ import annotations

import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.messages import postfix_dsn


def _free_port() -> int:
    """Return a port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connect(port: int, deadline: float) -> smtplib.SMTP:
    """Connect once the daemon listens."""
    while True:
        try:
            return smtplib.SMTP("127.0.0.1", port, timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("processes", [1, 2])
def test_sigterm_finishes_the_transaction_in_flight(tmp_path: Path, processes: int) -> None:
    port = _free_port()
    (tmp_path / "b.toml").write_text(f"[smtp]\nprocesses = {processes}\n")
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bouncer",
            "serve",
            "--config",
            str(tmp_path / "b.toml"),
            "--http",
            "127.0.0.1:0",
            "--listen",
            f"127.0.0.1:{port}",
            "--db",
            str(tmp_path / "b.db"),
            "--domain",
            "bounces.example",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        client = _connect(port, time.monotonic() + 20)
        client.ehlo()
        client.mail("<>")
        assert client.rcpt("b@bounces.example")[0] == 250
        assert client.rcpt("b@localhost")[0] == 550
        daemon.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        code, reply = client.data(postfix_dsn("gone@example.com", "5.1.1", "550 5.1.1 unknown"))
        assert code == 250, reply
        client.quit()
        assert daemon.wait(timeout=20) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
    log = daemon.stdout.read().decode()
    assert '"event": "service.stopped"' in log
    assert '"event": "message.stored"' in log
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "bouncer",
            "suppression",
            "show",
            "gone@example.com",
            "--db",
            str(tmp_path / "b.db"),
        ],
        capture_output=True,
        check=False,
    )
    assert shown.returncode == 0


def test_systemd_notify_ready_watchdog_stopping(tmp_path: Path) -> None:
    import os
    import socket as sockets

    notify_path = str(tmp_path / "notify.sock")
    receiver = sockets.socket(sockets.AF_UNIX, sockets.SOCK_DGRAM)
    receiver.bind(notify_path)
    receiver.settimeout(10)
    env = {**os.environ, "NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "200000"}
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bouncer",
            "serve",
            "--http",
            "127.0.0.1:0",
            "--listen",
            f"127.0.0.1:{_free_port()}",
            "--db",
            str(tmp_path / "b.db"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        states = [receiver.recv(256).decode() for _ in range(3)]
        assert "READY=1" in states and "WATCHDOG=1" in states
        daemon.send_signal(signal.SIGTERM)
        while (state := receiver.recv(256).decode()).startswith(("WATCHDOG=1", "STATUS=")):
            pass  # pings and status lines until the daemon says it is stopping
        assert state == "STOPPING=1"
        assert daemon.wait(timeout=20) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        receiver.close()

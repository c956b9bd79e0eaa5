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


def test_sigterm_finishes_the_transaction_in_flight(tmp_path: Path) -> None:
    port = _free_port()
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bouncer",
            "serve",
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

"""The SMTP edge under pressure: long lines, connection caps, junk commands, session lifetime,
idle and DATA timeouts, STARTTLS. A real daemon on loopback, real sockets, real TLS."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from bouncer.store import inbox, open_db
from tests.conftest import RunningDaemon, make_config, start_daemon
from tests.messages import postfix_dsn

DSN = postfix_dsn("user@example.com", "5.1.1", "550 5.1.1 <user@example.com>: User unknown")


class Line:
    """A raw SMTP client on a socket: send lines, read replies, see the server close."""

    def __init__(self, port: int, source: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout, (source, 0))
        self.file = self.sock.makefile("rb")

    def reply(self) -> bytes:
        """Return the next (last line of a multi-line) reply, b'' when the server closed."""
        while True:
            line = self.file.readline()
            if len(line) < 4 or line[3:4] != b"-":
                return line

    def say(self, data: bytes) -> bytes:
        """Send data and return the server's reply to it."""
        self.sock.sendall(data)
        return self.reply()

    def close(self) -> None:
        """Close the socket."""
        self.file.close()
        self.sock.close()


@contextmanager
def running(tmp_path: Path, **smtp: object) -> Iterator[RunningDaemon]:
    """A daemon with the given [smtp] settings, stopped at the end."""
    daemon = start_daemon(make_config(tmp_path, **smtp))
    try:
        yield daemon
    finally:
        daemon.stop()


def _stored_raw(daemon: RunningDaemon) -> list[bytes]:
    db = open_db(daemon.db_path)
    try:
        ids = [row[0] for row in db.conn.execute("SELECT id FROM messages ORDER BY id")]
        return [inbox.raw_of(db, message_id) for message_id in ids]
    finally:
        db.close()


@pytest.mark.parametrize("length", [70_000, 3_000_000])
def test_a_line_longer_than_64_kib_is_stored_byte_for_byte(tmp_path: Path, length: int) -> None:
    raw = DSN + b"X-Quoted: " + b"q" * length + b"\r\n"
    with running(tmp_path) as daemon, daemon.client() as client:
        assert client.sendmail("", ["bounces@localhost"], raw) == {}
    assert _stored_raw(daemon) == [raw]


def test_a_line_over_the_size_limit_gets_552_not_500(tmp_path: Path) -> None:
    with running(tmp_path, max_message_size=100_000) as daemon:
        client = Line(daemon.port)
        client.reply()
        for command in (b"EHLO x\r\n", b"MAIL FROM:<>\r\n", b"RCPT TO:<b@localhost>\r\n"):
            assert client.say(command).startswith(b"250")
        assert client.say(b"DATA\r\n").startswith(b"354")
        assert client.say(b"z" * 300_000 + b"\r\n.\r\n").startswith(b"552")
        assert client.say(b"NOOP\r\n").startswith(b"250")  # the session goes on
        client.close()


def _opened(port: int, count: int, source: str = "127.0.0.1") -> list[Line]:
    lines = [Line(port, source) for _ in range(count)]
    for line in lines:
        assert line.reply().startswith(b"220")
    return lines


def test_one_address_cannot_take_every_slot(tmp_path: Path) -> None:
    with running(tmp_path, max_connections=5, max_connections_per_ip=3) as daemon:
        held = _opened(daemon.port, 3)
        extra = Line(daemon.port)
        assert extra.reply().startswith(b"421 4.7.0 Too many connections from your address")
        assert extra.reply() == b""  # closed
        other = _opened(daemon.port, 2, source="127.0.0.2")  # another client still gets in
        held[0].close()
        time.sleep(0.2)
        again = _opened(daemon.port, 1)
        beyond = Line(daemon.port, source="127.0.0.3")
        assert beyond.reply().startswith(b"421 4.7.0 Too many connections,")
        for line in held[1:] + other + again + [extra, beyond]:
            line.close()


def test_commands_without_mail_are_capped(tmp_path: Path) -> None:
    with running(tmp_path, junk_command_limit=6) as daemon:
        client = Line(daemon.port)
        client.reply()
        assert client.say(b"EHLO x\r\n").startswith(b"250")
        for _ in range(5):
            assert client.say(b"NOOP\r\n").startswith(b"250")
        assert client.say(b"NOOP\r\n").startswith(b"421 4.7.0")
        assert client.reply() == b""
        client.close()


def test_delivering_sessions_are_not_junk(tmp_path: Path) -> None:
    with running(tmp_path, junk_command_limit=4) as daemon, daemon.client() as client:
        for _ in range(5):  # each message spends EHLO/MAIL/DATA; storing refills the budget
            rcpts = [f"b{n}@localhost" for n in range(10)]  # accepted RCPTs are free
            assert client.sendmail("", rcpts, DSN) == {}
    assert len(_stored_raw(daemon)) == 5


def test_a_session_ends_at_its_lifetime(tmp_path: Path) -> None:
    with running(tmp_path, session_lifetime=0.6) as daemon:
        client = Line(daemon.port)
        client.reply()
        assert client.say(b"NOOP\r\n").startswith(b"250")
        assert client.reply().startswith(b"421 4.4.2")
        assert client.reply() == b""
        client.close()


def _slow_data(client: Line, pieces: int, pause: float) -> bytes:
    """Open a transaction and send a DSN in pieces with pauses; return the final reply."""
    client.reply()
    for command in (b"EHLO x\r\n", b"MAIL FROM:<>\r\n", b"RCPT TO:<b@localhost>\r\n"):
        assert client.say(command).startswith(b"250")
    assert client.say(b"DATA\r\n").startswith(b"354")
    size = len(DSN) // pieces + 1
    try:
        for n in range(pieces):
            client.sock.sendall(DSN[n * size : (n + 1) * size])
            time.sleep(pause)
        client.sock.sendall(b".\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server has given up on the upload; its reply is waiting
    return client.reply()


def test_lifetime_lets_a_message_in_flight_finish(tmp_path: Path) -> None:
    with running(tmp_path, session_lifetime=0.5) as daemon:
        client = Line(daemon.port)
        assert _slow_data(client, 5, 0.2).startswith(b"250")
        assert client.reply().startswith(b"421 4.4.2")
        client.close()
    assert len(_stored_raw(daemon)) == 1


def test_a_slow_steady_upload_outlasts_the_idle_timeout(tmp_path: Path) -> None:
    with running(tmp_path, timeout=0.5, data_timeout=30.0) as daemon:
        client = Line(daemon.port)
        assert _slow_data(client, 6, 0.3).startswith(b"250")  # 1.8 s in all, never 0.5 s idle
        client.close()
    assert _stored_raw(daemon) == [DSN]


def test_silence_ends_the_session(tmp_path: Path) -> None:
    with running(tmp_path, timeout=0.4) as daemon:
        client = Line(daemon.port)
        client.reply()
        started = time.monotonic()
        assert client.reply() in (b"", b"421 4.4.2 bouncer.localhost Error: timeout exceeded\r\n")
        assert time.monotonic() - started < 5


def test_data_has_an_overall_limit(tmp_path: Path) -> None:
    with running(tmp_path, timeout=5.0, data_timeout=0.5) as daemon:
        client = Line(daemon.port)
        assert _slow_data(client, 8, 0.15).startswith(b"421 4.4.2")
        client.close()
    assert _stored_raw(daemon) == []


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[str, str, ssl.SSLContext]:
    """A throwaway CA and a certificate for localhost: (cert path, key path, client context)."""
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    issued = authority.issue_cert("localhost", "127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    issued.private_key_pem.write_to_path(str(key))
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return str(cert), str(key), client


def test_starttls_with_the_configured_certificate(tmp_path: Path, certificate) -> None:
    cert, key, context = certificate
    with running(tmp_path, tls_cert=cert, tls_key=key) as daemon:
        with smtplib.SMTP("localhost", daemon.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            assert client.starttls(context=context)[0] == 220
            assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
            assert client.sendmail("", ["bounces@localhost"], DSN) == {}
        with daemon.client() as plain:  # opportunistic: plain text is still accepted
            assert plain.sendmail("", ["bounces@localhost"], DSN) == {}
    assert _stored_raw(daemon) == [DSN, DSN]


def test_without_a_certificate_no_starttls_is_offered(daemon: RunningDaemon) -> None:
    with daemon.client() as client:
        client.ehlo()
        assert not client.has_extn("starttls")


def test_a_certificate_that_cannot_be_loaded_is_one_line(tmp_path: Path, certificate) -> None:
    from bouncer.cli.main import main

    cert, _, _ = certificate
    file = tmp_path / "bouncer.toml"
    file.write_text(
        f'[store]\npath = "{tmp_path / "b.db"}"\n[http]\nlisten = "127.0.0.1:0"\n'
        f'[smtp]\nlisten = "127.0.0.1:0"\ntls_cert = "{cert}"\n'
        f'tls_key = "{tmp_path / "missing.pem"}"\n'
    )
    result = CliRunner().invoke(main, ["serve", "--config", str(file)])
    assert result.exit_code == 78, result.output
    assert "Traceback" not in result.output
    assert "smtp.tls_cert" in result.output and "missing.pem" in result.output
    assert not (tmp_path / "b.db").exists()

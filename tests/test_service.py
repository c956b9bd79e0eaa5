"""The daemon end to end: real SMTP client, real server on loopback, a real SQLite file (and
the tests taking `daemon`, a real PostgreSQL database too)."""

from __future__ import annotations

import os
import smtplib
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bouncer.clock import utcnow
from bouncer.store import open_db, suppressions
from tests.conftest import RunningDaemon, make_config, start_daemon
from tests.messages import postfix_dsn

USER_UNKNOWN = "550 5.1.1 <user@example.com>: Recipient address rejected: User unknown"


@pytest.fixture
def daemon(tmp_path: Path, store_url: str) -> Iterator[RunningDaemon]:
    """A running daemon accepting bounces for localhost and bounces.example, on each backend
    in turn."""
    config = make_config(tmp_path, domains=("localhost", "bounces.example"))
    running = start_daemon(replace(config, db_path=store_url))
    yield running
    running.stop()


def _rows(db_path: Path | str, sql: str) -> list[tuple]:
    """Run a query on a fresh connection."""
    db = open_db(db_path)
    try:
        return db.conn.execute(sql).fetchall()
    finally:
        db.close()


def test_hard_bounce_is_stored_recorded_and_suppressed(daemon: RunningDaemon) -> None:
    with daemon.client() as client:
        refused = client.sendmail(
            "", ["bounces@localhost"], postfix_dsn("user@example.com", "5.1.1", USER_UNKNOWN)
        )
    assert refused == {}
    daemon.wait_processed(1)
    assert _rows(daemon.db_path, "SELECT mail_from, state, kind FROM messages") == [
        ("<>", "processed", "bounce")
    ]
    assert _rows(daemon.db_path, "SELECT recipient, status, class FROM bounces") == [
        ("user@example.com", "5.1.1", "hard")
    ]
    db = open_db(daemon.db_path)
    assert suppressions.get(db, "user@EXAMPLE.com", utcnow())["reason"] == "userunknown"


def test_mailbox_full_is_recorded_not_suppressed(daemon: RunningDaemon) -> None:
    with daemon.client() as client:
        client.sendmail(
            "",
            ["bounces@bounces.example"],
            postfix_dsn("full@example.com", "4.2.2", "452 4.2.2 Mailbox full", action="delayed"),
        )
    daemon.wait_processed(1)
    assert _rows(daemon.db_path, "SELECT recipient, class FROM bounces") == [
        ("full@example.com", "soft")
    ]
    assert _rows(daemon.db_path, "SELECT * FROM suppressions") == []


def test_foreign_domain_is_refused_with_550(daemon: RunningDaemon) -> None:
    with daemon.client() as client:
        client.ehlo()
        client.mail("<>")
        code, reply = client.rcpt("victim@elsewhere.example")
    assert code == 550
    assert reply.startswith(b"5.7.1")


def test_normal_sender_and_postmaster_are_accepted(daemon: RunningDaemon) -> None:
    with daemon.client() as client:
        client.ehlo()
        assert client.mail("mailer@sender.example")[0] == 250
        assert client.rcpt("postmaster")[0] == 250
        assert client.rcpt("x+tag@BOUNCES.example")[0] == 250


def test_junk_is_stored_as_unknown_not_rejected(daemon: RunningDaemon) -> None:
    junk = bytes(range(1, 256)).replace(b"\r", b"").replace(b"\n", b"")
    with daemon.client() as client:
        assert client.sendmail("", ["bounces@localhost"], b"\r\n" + junk + b"\r\n") == {}
    daemon.wait_processed(1)
    assert _rows(daemon.db_path, "SELECT state, kind FROM messages") == [("processed", "unknown")]


def test_overlong_lines_are_accepted_not_refused(daemon: RunningDaemon) -> None:
    body = b"Subject: long\r\n\r\n" + b"y" * 5000 + b"\r\n"
    with daemon.client() as client:
        assert client.sendmail("", ["bounces@localhost"], body) == {}
    daemon.wait_processed(1)
    assert _rows(daemon.db_path, "SELECT size >= 5000 FROM messages") == [(1,)]


def test_message_over_size_limit_gets_552(tmp_path: Path) -> None:
    running = start_daemon(make_config(tmp_path, max_message_size=2000))
    big = b"Subject: big\r\n\r\n" + b"x" * 900 + b"\r\n" + b"z" * 900 + b"\r\n" + b"w" * 900
    try:
        with running.client() as client:
            client.ehlo()
            assert client.mail("<>")[0] == 250  # no SIZE parameter: the limit bites in DATA
            assert client.rcpt("bounces@localhost")[0] == 250
            code, _ = client.data(big)
        assert code == 552
        with running.client() as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("", ["bounces@localhost"], big)  # SIZE given: refused at MAIL
        assert refused.value.smtp_code == 552
    finally:
        running.stop()


def test_unwritable_store_answers_451_and_keeps_nothing_half_done(tmp_path: Path) -> None:
    running = start_daemon(make_config(tmp_path))
    try:
        os.chmod(running.db_path, 0o444)
        if os.access(running.db_path, os.W_OK):
            conn = sqlite3.connect(running.db_path)
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON messages "
                "BEGIN SELECT RAISE(ABORT, 'store refuses'); END"
            )
            conn.commit()
            conn.close()
        with running.client() as client, pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail(
                "", ["bounces@localhost"], postfix_dsn("user@example.com", "5.1.1", USER_UNKNOWN)
            )
        assert refused.value.smtp_code == 451
        assert refused.value.smtp_error.startswith(b"4.3.0")
    finally:
        running.stop()
        os.chmod(running.db_path, 0o644)
    assert _rows(running.db_path, "SELECT COUNT(*) FROM messages") == [(0,)]


def test_unprocessed_messages_are_processed_on_start(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    from bouncer.store import inbox
    from bouncer.store.inbox import Incoming

    db = open_db(config.db_path)
    raw = postfix_dsn("user@example.com", "5.1.1", USER_UNKNOWN)
    inbox.insert_batch(db, [Incoming(utcnow(), "<>", ("bounces@localhost",), None, raw)])
    db.close()
    running = start_daemon(config)
    try:
        running.wait_processed(1)
    finally:
        running.stop()
    assert _rows(running.db_path, "SELECT recipient FROM bounces") == [("user@example.com",)]


def test_many_messages_in_one_session_all_committed(daemon: RunningDaemon) -> None:
    with daemon.client() as client:
        for number in range(20):
            client.sendmail(
                "",
                ["bounces@localhost"],
                postfix_dsn(f"u{number}@example.com", "5.1.1", USER_UNKNOWN),
            )
    daemon.wait_processed(20)
    assert _rows(daemon.db_path, "SELECT COUNT(*) FROM bounces") == [(20,)]


def test_large_bounce_with_the_full_original_is_stored_whole(daemon: RunningDaemon) -> None:
    original = b"".join(
        b"Line %05d of a long returned newsletter body.\r\n" % n for n in range(20000)
    )
    raw = postfix_dsn("user@example.com", "5.1.1", USER_UNKNOWN) + original
    with daemon.client() as client:
        assert client.sendmail("", ["bounces@localhost"], raw) == {}
    daemon.wait_processed(1)
    assert _rows(
        daemon.db_path,
        "SELECT size, length(r.raw) FROM messages m JOIN raw_messages r ON r.message_id = m.id",
    ) == [(len(raw), len(raw))]


def test_intake_goes_on_while_a_message_is_being_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing and classifying hold no database lock: while one message is being read (held
    here until the test says so), other senders still get 250 and their messages are stored."""
    import threading

    from bouncer.daemon import worker

    started, released = threading.Event(), threading.Event()
    real = worker.prepare

    def slow(message, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if b"hold-me@example.com" in message.raw:
            started.set()
            released.wait(30)
        return real(message, *args, **kwargs)

    monkeypatch.setattr(worker, "prepare", slow)
    running = start_daemon(make_config(tmp_path))
    try:
        with running.client() as client:
            client.sendmail(
                "", ["bounces@localhost"], postfix_dsn("hold-me@example.com", "5.1.1", USER_UNKNOWN)
            )
            assert started.wait(10)
            for number in range(5):
                raw = postfix_dsn(f"u{number}@example.com", "5.1.1", USER_UNKNOWN)
                assert client.sendmail("", ["bounces@localhost"], raw) == {}
        assert _rows(running.db_path, "SELECT COUNT(*) FROM messages") == [(6,)]
        released.set()
        running.wait_processed(6)
    finally:
        released.set()
        running.stop()
    assert _rows(running.db_path, "SELECT COUNT(*) FROM bounces") == [(6,)]

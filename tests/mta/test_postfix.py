"""Genuine Postfix DSNs end to end: a private Postfix relays two messages to smtp-sink MXes
(one refuses the recipient with 550 5.1.1, the other with 452 4.2.2), and sends the bounce and
delay notices it writes to a real bouncer daemon; the outcome is read through bouncer's CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import TypeVar

import pytest

from tests.conftest import RunningDaemon, make_config, start_daemon
from tests.mta.postfix import (
    PostfixInstance,
    SmtpSink,
    free_port,
    start_postfix,
    start_sink,
    unavailable_reason,
)

BOUNCE_DOMAIN = "bounces.example"
RETURN_PATH = f"bounces@{BOUNCE_DOMAIN}"
UNKNOWN_USER = "hard@recipient.example"
FULL_MAILBOX = "full@recipient.example"
UNKNOWN_REPLY = (
    f"550 5.1.1 <{UNKNOWN_USER}>: Recipient address rejected: User unknown in virtual mailbox table"
)
FULL_REPLY = f"452 4.2.2 <{FULL_MAILBOX}>: Recipient address rejected: Mailbox full"
UNREACHABLE = "refused@unreachable.example"  # routed to a loopback port nobody listens on
MODULE_BUDGET_SECONDS = 60  # every wait in this module ends by then, counted from the fixture

Found = TypeVar("Found")


@dataclass(frozen=True)
class TemporaryFailure:
    """A recipient Postfix keeps retrying, and what its delay and expiry notices must say."""

    recipient: str
    status: str
    diagnostic: str  # part of the diagnostic the records must carry
    reason: str | None  # the expected reason, or None where it is not pinned down


TEMPORARY_FAILURES = (
    TemporaryFailure(FULL_MAILBOX, "4.2.2", "Mailbox full", "mailboxfull"),
    TemporaryFailure(UNREACHABLE, "4.4.1", "Connection refused", None),
)


@dataclass
class MailSystem:
    """The sending Postfix and the bouncer daemon that receives its notices."""

    postfix: PostfixInstance
    daemon: RunningDaemon
    deadline: float  # time.monotonic() by which every wait of the module must be over


@pytest.fixture(scope="module")
def mail_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailSystem]:
    """Start bouncer, two smtp-sink MXes and a private Postfix routed to them; stop all after."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    deadline = time.monotonic() + MODULE_BUDGET_SECONDS
    daemon = start_daemon(make_config(tmp_path_factory.mktemp("bouncer"), domains=(BOUNCE_DOMAIN,)))
    sinks: list[SmtpSink] = []
    try:
        for reply in (UNKNOWN_REPLY, FULL_REPLY):
            sinks.append(start_sink(reply, deadline))  # one by one: each is stopped below
        routes = {
            UNKNOWN_USER: sinks[0].port,
            FULL_MAILBOX: sinks[1].port,
            UNREACHABLE: free_port(),
            BOUNCE_DOMAIN: daemon.port,
            "*": sinks[0].port,  # anything else (postmaster notices) is refused there
        }
        postfix = start_postfix(routes, deadline)
        try:
            yield MailSystem(postfix, daemon, deadline)
        finally:
            postfix.stop()
    finally:
        for sink in sinks:
            sink.stop()
        daemon.stop()


def _message(recipient: str, message_id: str) -> bytes:
    """Return a plain message from the application to recipient."""
    message = EmailMessage()
    message["From"] = "News <news@sender.example>"
    message["To"] = recipient
    message["Subject"] = "Your weekly digest"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content("Hello,\n\nthis week's digest.\n")
    return message.as_bytes()


def _cli(system: MailSystem, *args: str) -> tuple[int, str]:
    """Run the bouncer command in a child process on the daemon's database."""
    finished = subprocess.run(
        [sys.executable, "-m", "bouncer", *args, "--db", str(system.daemon.db_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return finished.returncode, finished.stdout


def _json_lines(output: str) -> list[dict]:
    """Parse JSON Lines output."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _query(system: MailSystem, sql: str, *params: object) -> list[tuple]:
    """Run a read-only query on the daemon's database."""
    conn = sqlite3.connect(f"file:{system.daemon.db_path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _poll(system: MailSystem, find: Callable[[], Found | None], seconds: float, what: str) -> Found:
    """Call find until it returns something or seconds (or the module's budget) pass; fail
    with Postfix's log."""
    deadline = min(time.monotonic() + seconds, system.deadline)
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(
        f"no {what} within {seconds}s; Postfix log:\n{system.postfix.log_text()[-4000:]}"
    )


def _processed(system: MailSystem, kind: str, recipient: str) -> list[tuple]:
    """Return (message id, raw) of processed messages of a kind that name the recipient."""
    return _query(
        system,
        "SELECT m.id, r.raw FROM messages m JOIN raw_messages r ON r.message_id = m.id "
        "JOIN bounces b "
        "ON b.message_id = m.id WHERE m.state = 'processed' AND m.kind = ? "
        "AND b.recipient = ?",
        kind,
        recipient,
    )


def _raw_text(rows: list[tuple]) -> str:
    """Return the stored DSN of the first row as text, for failure messages."""
    return bytes(rows[0][1]).decode("utf-8", "replace") if rows else ""


def test_unknown_user_bounce_suppresses_the_address(mail_system: MailSystem) -> None:
    mail_system.postfix.submit(
        RETURN_PATH, UNKNOWN_USER, _message(UNKNOWN_USER, "<digest-1@sender.example>")
    )
    stored = _poll(
        mail_system,
        lambda: _processed(mail_system, "bounce", UNKNOWN_USER),
        15,
        "processed bounce for the unknown user",
    )

    assert _query(mail_system, "SELECT mail_from FROM messages WHERE id = ?", stored[0][0]) == [
        ("<>",)
    ]
    code, output = _cli(mail_system, "suppression", "show", UNKNOWN_USER, "--json")
    assert code == 0, _raw_text(stored)
    suppressed = json.loads(output)
    assert (suppressed["reason"], suppressed["class"]) == ("userunknown", "hard")
    records = _json_lines(_cli(mail_system, "log", "--recipient", UNKNOWN_USER, "--json")[1])
    assert [(r["status"], r["class"], r["reason"]) for r in records] == [
        ("5.1.1", "hard", "userunknown")
    ]
    assert "User unknown in virtual mailbox table" in records[0]["diagnostic"]
    assert records[0]["orig_message_id"] == "<digest-1@sender.example>"
    events = _json_lines(_cli(mail_system, "events", "--recipient", UNKNOWN_USER, "--json")[1])
    assert [event["type"] for event in events] == ["bounce.hard", "suppression.added"]


def _assert_deferred_not_suppressed(system: MailSystem, case: TemporaryFailure) -> None:
    """Check the state after the delay notice: one open deferral, a soft record, no suppression."""
    stored = _processed(system, "delay", case.recipient)
    output = _cli(system, "deferrals", "--open", "--recipient", case.recipient, "--json")[1]
    (deferral,) = _json_lines(output)
    assert deferral["will_retry_until"], _raw_text(stored)  # Postfix reports its deadline
    events = _json_lines(_cli(system, "events", "--recipient", case.recipient, "--json")[1])
    assert [e["type"] for e in events] == ["delivery.deferred"]
    assert events[0]["will_retry_until"] == deferral["will_retry_until"]
    assert _cli(system, "suppression", "show", case.recipient)[0] == 1
    records = _json_lines(_cli(system, "log", "--recipient", case.recipient, "--json")[1])
    assert [(r["action"], r["status"], r["class"]) for r in records] == [
        ("delayed", case.status, "soft")
    ]
    assert case.diagnostic in records[0]["diagnostic"]
    assert case.reason in (None, records[0]["reason"])


def _assert_given_up(system: MailSystem, case: TemporaryFailure) -> None:
    """Check the state after the expiry bounce: given up once on the MTA's word, closed, and
    not suppressed (one soft failure is no evidence that the address is dead)."""
    stored = _processed(system, "bounce", case.recipient)
    events = _json_lines(_cli(system, "events", "--recipient", case.recipient, "--json")[1])
    given_up = [e for e in events if e["type"] == "delivery.given_up"]
    assert [e["evidence"] for e in given_up] == ["mta"], _raw_text(stored)
    records = _json_lines(_cli(system, "log", "--recipient", case.recipient, "--json")[1])
    assert (records[0]["action"], records[0]["status"]) == ("failed", case.status)
    assert _cli(system, "deferrals", "--open", "--recipient", case.recipient, "--json")[1] == ""
    assert _cli(system, "suppression", "show", case.recipient)[0] == 1


def test_temporary_failures_are_delayed_then_given_up(mail_system: MailSystem) -> None:
    for number, case in enumerate(TEMPORARY_FAILURES):
        message = _message(case.recipient, f"<digest-{number + 2}@sender.example>")
        mail_system.postfix.submit(RETURN_PATH, case.recipient, message)
    for case in TEMPORARY_FAILURES:
        _poll(
            mail_system,
            lambda case=case: _processed(mail_system, "delay", case.recipient),
            10,
            f"processed delay notice for {case.recipient}",
        )
        _assert_deferred_not_suppressed(mail_system, case)
    for case in TEMPORARY_FAILURES:
        _poll(
            mail_system,
            lambda case=case: _processed(mail_system, "bounce", case.recipient),
            25,
            f"processed expiry bounce for {case.recipient}",
        )
        _assert_given_up(mail_system, case)

"""Deferral tracking end to end: a real daemon receives a delay DSN, `bouncer sweep --now`
fires the 4-hour warning and the 4-day give-up exactly once each, across a restart."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from bouncer.cli import main
from bouncer.clock import from_iso, to_iso
from bouncer.store import open_db
from tests.conftest import deliver, make_config, start_daemon
from tests.messages import postfix_dsn


def _cli(db_path: Path, *args: str) -> tuple[int, str]:
    """Run a bouncer command against the database; return exit code and stdout."""
    result = CliRunner().invoke(main, [*args, "--db", str(db_path)])
    return result.exit_code, result.stdout


def _sweep(db_path: Path, at: str) -> list[str]:
    """Sweep at the given time; return the fired event types."""
    code, output = _cli(db_path, "sweep", "--now", at, "--json")
    assert code == 0, output
    return [json.loads(line)["type"] for line in output.splitlines() if line.strip()]


def test_mailbox_full_warns_at_4h_gives_up_at_4d_once(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    running = deliver(
        config,
        postfix_dsn(
            "full@example.com",
            "4.2.2",
            "452 4.2.2 Mailbox full",
            action="delayed",
            arrival=None,
        ),
    )
    db = open_db(config.db_path)
    received = from_iso(db.conn.execute("SELECT received_at FROM messages").fetchone()[0])
    db.close()
    at = lambda delta: to_iso(received + delta)  # noqa: E731

    assert _sweep(running.db_path, at(timedelta(hours=3, minutes=59))) == []
    assert _sweep(running.db_path, at(timedelta(hours=4, minutes=1))) == ["delivery.delayed"]
    assert _sweep(running.db_path, at(timedelta(hours=4, minutes=2))) == []

    restarted = start_daemon(config)
    restarted.stop()

    assert _cli(running.db_path, "suppression", "show", "full@example.com")[0] == 1
    given_up = _sweep(running.db_path, at(timedelta(days=4, minutes=1)))
    assert given_up == ["delivery.given_up", "suppression.added"]
    assert _sweep(running.db_path, at(timedelta(days=4, minutes=2))) == []
    code, output = _cli(running.db_path, "suppression", "show", "full@example.com", "--json")
    assert code == 0 and json.loads(output)["reason"] == "expired"

    code, output = _cli(running.db_path, "events", "--json")
    types = [json.loads(line)["type"] for line in output.splitlines()]
    assert types == ["delivery.delayed", "delivery.given_up", "suppression.added"]
    code, output = _cli(running.db_path, "deferrals", "--open", "--json")
    assert output.strip() == ""


def test_dry_run_fires_nothing(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    running = deliver(
        config,
        postfix_dsn(
            "slow@example.com",
            "4.4.1",
            "connect to mx.example.com: Connection timed out",
            action="delayed",
            arrival=None,
        ),
    )
    code, output = _cli(running.db_path, "sweep", "--now", "2099-01-01T00:00:00Z", "--dry-run")
    assert code == 0 and "would fire 3 event(s)" in output
    assert _sweep(running.db_path, "2099-01-01T00:00:00Z") == [
        "delivery.delayed",
        "delivery.given_up",
        "suppression.added",
    ]


def test_resolve_closes_the_deferral(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    running = deliver(
        config,
        postfix_dsn(
            "late@example.com",
            "4.2.2",
            "452 4.2.2 Mailbox full",
            action="delayed",
            arrival=None,
        ),
    )
    assert _cli(running.db_path, "resolve", "late@example.com")[0] == 0
    assert _cli(running.db_path, "resolve", "late@example.com")[0] == 1
    assert _sweep(running.db_path, "2099-01-01T00:00:00Z") == []

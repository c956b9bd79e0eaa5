"""Health, readiness and metrics of a real daemon; the API's address in use at start-up."""

from __future__ import annotations

import socket
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from bouncer.config import AlertsConfig
from bouncer.store.pg import WRITE_LOCK
from tests.conftest import start_daemon
from tests.http.conftest import Api, api_config
from tests.messages import postfix_dsn


def _samples(api: Api) -> dict[tuple, float]:
    """Scrape /metrics: {(sample name, sorted labels): value}."""
    answer = api.get("/metrics", token=None)
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.body.decode())
        for sample in family.samples
    }


def test_health_and_readiness_of_a_running_daemon(api: Api) -> None:
    assert api.get("/healthz", token=None).body == {"status": "ok", "problems": []}
    ready = {"status": "ok", "problems": []}
    if api.daemon.store.startswith("postgresql:"):  # a node with a local spool says so
        ready["spool"] = {"messages": 0, "store_error": None}
    assert api.get("/readyz", token=None).body == ready


def test_readiness_fails_while_the_database_cannot_be_written(api: Api) -> None:
    # another process (another node, on PostgreSQL) holds the write lock
    if api.daemon.store.startswith("postgresql:"):
        holder = psycopg.connect(api.daemon.store, autocommit=True)
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
    else:
        holder = sqlite3.connect(api.daemon.db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    try:
        answer = api.get("/readyz", token=None)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status == 503
    assert answer.body["status"] == "failing"
    assert answer.body["problems"] == ["database: no write lock within 5 s"]
    assert api.get("/healthz", token=None).status == 200  # alive all the same
    assert api.get("/readyz", token=None).status == 200


@pytest.mark.parametrize("processes", [1, 2])
def test_counters_move_when_a_bounce_arrives(tmp_path: Path, processes: int) -> None:
    """With worker processes the counters move in them and reach /metrics within a second or
    two (each reports every second)."""
    config = api_config(tmp_path)
    api = Api(start_daemon(replace(config, smtp=replace(config.smtp, processes=processes))))
    try:
        before = _samples(api)
        api.send(postfix_dsn("gone@example.com", "5.1.1", "550 5.1.1 User unknown"))
        deadline = time.monotonic() + 10
        while True:
            after = _samples(api)
            timed = ("bouncer_processing_seconds_count", ())
            replied = ("bouncer_smtp_replies_total", (("code", "221"),))
            if (after.get(timed, 0) > before.get(timed, 0) and replied in after) or (
                time.monotonic() > deadline
            ):
                break
            time.sleep(0.1)
    finally:
        api.daemon.stop()

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("bouncer_messages_received_total") == 1
    assert moved("bouncer_messages_stored_total") == 1
    assert moved("bouncer_bounces_total", **{"class": "hard", "reason": "userunknown"}) == 1
    assert moved("bouncer_smtp_replies_total", code="250") >= 4  # EHLO, MAIL, RCPT, DATA
    assert moved("bouncer_smtp_replies_total", code="354") == 1
    assert moved("bouncer_processing_seconds_count") == 1
    assert moved("bouncer_suppressions") == 1
    assert after[("bouncer_deferrals_open", ())] == 0
    assert after[("bouncer_webhook_deliveries_pending", ())] == 0
    assert moved("bouncer_messages_failed_total", stage="process") == 0


def test_the_api_address_in_use_is_one_line_and_no_database(tmp_path: Path) -> None:
    from bouncer.cli.main import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--listen", "127.0.0.1:0", "--http", f"127.0.0.1:{port}"]
        result = CliRunner().invoke(main, [*args, "--db", str(tmp_path / "b.db")])
    assert result.exit_code == 69, result.output  # EX_UNAVAILABLE
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "b.db").exists()


def test_bad_api_options_are_one_line(tmp_path: Path) -> None:
    from bouncer.cli.main import main

    for option, words in (
        (["--http", "8025"], "HOST:PORT"),
        (["--token", "ci:write:0123456789abcdef"], "read or admin"),
    ):
        result = CliRunner().invoke(main, ["serve", *option, "--db", str(tmp_path / "b.db")])
        assert result.exit_code == 78, result.output
        assert words in result.output and "Traceback" not in result.output


def test_events_and_open_alerts_are_counted(tmp_path: Path) -> None:
    """A burst over a (small) spike threshold: the events counter moves by type as the daemon
    commits them, and the open-alerts gauge shows the episode."""
    config = replace(api_config(tmp_path), alerts=AlertsConfig(threshold=3, domain_threshold=0))
    running = start_daemon(config)
    try:
        api = Api(running)
        api.send(*(postfix_dsn(f"gone{n}@example.com", "5.1.1", "550 5.1.1 no") for n in range(4)))
        for _ in range(200):  # the journal counts committed events within its pass (bounded)
            samples = _samples(api)
            if samples.get(("bouncer_events_total", (("type", "failures.spike"),))):
                break
            time.sleep(0.05)
        assert samples[("bouncer_events_total", (("type", "bounce.hard"),))] == 4
        assert samples[("bouncer_events_total", (("type", "failures.spike"),))] == 1
        assert samples[("bouncer_alerts_open", (("type", "failures.spike"),))] == 1
        assert samples[("bouncer_alerts_open", (("type", "sender.blocked"),))] == 0
    finally:
        running.stop()

"""`bouncer serve` on a PostgreSQL store: a real daemon on loopback creates its tables in an
empty database, takes DSNs from a real SMTP client, processes them, and its HTTP API answers
from the same database."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bouncer.clock import utcnow
from bouncer.store import open_db, suppressions
from tests.conftest import start_daemon
from tests.http.conftest import Api, api_config
from tests.messages import postfix_dsn


def test_a_daemon_on_postgresql_stores_processes_and_answers(tmp_path: Path, pg_cluster) -> None:  # noqa: ANN001
    name = pg_cluster.new_database()  # empty: the daemon migrates it before taking traffic
    url = pg_cluster.url(name)
    running = start_daemon(replace(api_config(tmp_path), db_path=url))
    try:
        api = Api(running)
        api.send(
            postfix_dsn("Gone@Example.com", "5.1.1", "550 5.1.1 <Gone@Example.com>: User unknown"),
            postfix_dsn("full@example.com", "4.2.2", "452 4.2.2 Mailbox full", action="delayed"),
        )
        check = api.call(
            "POST",
            "/v1/suppressions/check",
            {"addresses": ["gone@example.com", "full@example.com"]},
        )
        assert check.status == 200, check.body
        assert [row["query"] for row in check.body["suppressed"]] == ["gone@example.com"]
        assert check.body["clear"] == ["full@example.com"]
        bounces = api.get("/v1/bounces?recipient=@example.com")
        assert bounces.status == 200
        assert sorted(row["class"] for row in bounces.body["bounces"]) == ["hard", "soft"]
    finally:
        running.stop()
    db = open_db(url)
    try:
        assert suppressions.get(db, "GONE@example.com", utcnow())["reason"] == "userunknown"
        states = db.conn.execute("SELECT state, COUNT(*) FROM messages GROUP BY state").fetchall()
        assert states == [("processed", 2)]
        types = {row[0] for row in db.conn.execute("SELECT type FROM events")}
        assert {"bounce.hard", "suppression.added", "delivery.deferred"} <= types
    finally:
        db.close()
        pg_cluster.drop(name)
    assert not (tmp_path / "bouncer.db").exists()  # nothing went to a SQLite file

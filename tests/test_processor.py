"""Processing with signed VERP return paths: recipients named by the token, forged bounces."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bouncer.app.processing import Processed, Settings, process
from bouncer.config import VerpConfig
from bouncer.core.verp import day_number, encode
from bouncer.store import inbox, open_db, suppressions
from bouncer.store.inbox import Incoming
from tests.messages import arf_complaint, postfix_dsn

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
VERP = VerpConfig(keys={"a": "secret"}, key_id="a")
UNKNOWN = "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown"


def signed(recipient: str) -> str:
    """Return today's signed return path for recipient."""
    return encode(recipient, "bounces@localhost", "a", b"secret", day_number(NOW))


@pytest.fixture
def db(store_url: str):  # noqa: ANN201
    """A store on each backend in turn (SQLite, PostgreSQL)."""
    database = open_db(store_url)
    yield database
    database.close()


def receive(db, raw: bytes, rcpt: str, settings: Settings) -> Processed:  # noqa: ANN001
    """Store a message sent to rcpt and process it."""
    (message_id,) = inbox.insert_batch(db, [Incoming(NOW, "<>", (rcpt,), None, raw)])
    message = next(m for m in inbox.unprocessed(db) if m.id == message_id)
    return process(db, message, NOW, settings)


def test_redacted_complaint_names_the_verp_recipient(db) -> None:  # noqa: ANN001
    done = receive(db, arf_complaint(), signed("reader@example.org"), Settings(verp=VERP))
    assert [e.address for e, _ in done.analysis.verdicts] == ["reader@example.org"]
    assert suppressions.get(db, "reader@example.org", NOW)["source"] == "complaint"
    row = db.conn.execute("SELECT verp_recipient, verified FROM bounces").fetchone()
    assert row == ("reader@example.org", 1)


def test_report_without_recipients_gets_the_verp_recipient(db) -> None:  # noqa: ANN001
    text = b"From: MAILER-DAEMON@mx.example\r\nSubject: failure notice\r\n\r\nIt failed.\r\n"
    done = receive(db, text, signed("lost@example.org"), Settings(verp=VERP))
    assert done.analysis.report.kind == "bounce"
    assert [(e.address, e.action) for e, _ in done.analysis.verdicts] == [
        ("lost@example.org", "failed")
    ]
    unsigned = receive(db, text, "bounces@localhost", Settings(verp=VERP))
    assert unsigned.analysis.verdicts == ()


def test_forged_bounce_is_recorded_but_changes_nothing(db) -> None:  # noqa: ANN001
    strict = Settings(verp=replace(VERP, require_valid=True))
    done = receive(
        db, postfix_dsn("gone@example.com", "5.1.1", UNKNOWN), "bounces@localhost", strict
    )
    assert done.tracked is False and done.events == ()
    assert suppressions.get(db, "gone@example.com", NOW) is None
    assert db.conn.execute("SELECT recipient, verified FROM bounces").fetchall() == [
        ("gone@example.com", None)
    ]


def test_signed_bounce_is_trusted_under_require_valid(db) -> None:  # noqa: ANN001
    strict = Settings(verp=replace(VERP, require_valid=True))
    done = receive(
        db, postfix_dsn("gone@example.com", "5.1.1", UNKNOWN), signed("gone@example.com"), strict
    )
    assert done.tracked is True
    assert suppressions.get(db, "gone@example.com", NOW)["reason"] == "userunknown"


def test_tampered_token_is_not_trusted(db) -> None:  # noqa: ANN001
    strict = Settings(verp=replace(VERP, require_valid=True))
    forged = signed("someone@example.com").replace("someone=", "gone=")
    done = receive(db, postfix_dsn("gone@example.com", "5.1.1", UNKNOWN), forged, strict)
    assert done.tracked is False
    assert db.conn.execute("SELECT verified FROM bounces").fetchone() == (0,)


def test_complaint_naming_nobody_is_recorded_not_suppressed(db) -> None:  # noqa: ANN001
    done = receive(
        db, arf_complaint("undisclosed-recipients:;"), "bounces@localhost", Settings(verp=VERP)
    )
    assert done.analysis.report.kind == "complaint" and done.events == ()
    assert suppressions.list_active(db, NOW) == []
    assert db.conn.execute("SELECT COUNT(*) FROM bounces").fetchone() == (1,)


def test_a_valid_token_acts_on_its_own_recipient_only(db) -> None:  # noqa: ANN001
    strict = Settings(verp=replace(VERP, require_valid=True))
    forged = postfix_dsn("victim@example.com", "5.1.1", UNKNOWN.replace("gone", "victim"))
    done = receive(db, forged, signed("attacker@example.net"), strict)
    assert suppressions.get(db, "victim@example.com", NOW) is None  # recorded, not acted on
    assert db.conn.execute("SELECT recipient FROM bounces").fetchall() == [("victim@example.com",)]
    assert done.events == ()


def test_a_flood_of_arrivals_makes_processing_yield_to_intake(tmp_path: Path) -> None:
    import asyncio

    from bouncer.daemon import worker

    async def sizes() -> list[int]:
        processor = worker.Processor(tmp_path / "p.db")
        seen = [processor._batch_size()]
        processor.wake(count=1)  # a trickle: processing goes at full speed
        seen.append(processor._batch_size())
        for _ in range(int(worker.BUSY_RATE * worker.BUSY_FOR)):  # a flood
            processor.wake()
        seen.append(processor._batch_size())
        await processor.release()
        return seen

    assert asyncio.run(sizes()) == [worker.BATCH, worker.BATCH, worker.BUSY_BATCH]


@pytest.mark.parametrize(("age", "yields"), [(5, True), (120, False)])
def test_a_lasting_flood_never_leaves_processing_over_a_minute_behind(
    tmp_path: Path,
    monkeypatch,
    age: int,
    yields: bool,  # noqa: ANN001
) -> None:
    """While intake is flooded processing writes small batches with pauses, unless its oldest
    unprocessed message is over BUSY_MAX_LAG old: then it takes full batches, no pauses."""
    import asyncio
    from datetime import timedelta

    from bouncer.daemon import worker

    path = tmp_path / "f.db"
    db = open_db(path)
    received = NOW - timedelta(seconds=age)
    raw = postfix_dsn("gone@example.com", "5.1.1", UNKNOWN)
    inbox.insert_batch(db, [Incoming(received, "<>", ("b@localhost",), None, raw)] * 40)
    sizes, pauses = [], []
    unprocessed = inbox.unprocessed

    def fetch(db, limit):  # noqa: ANN001, ANN202
        sizes.append(limit)
        return unprocessed(db, limit)

    monkeypatch.setattr(worker.inbox, "unprocessed", fetch)
    monkeypatch.setattr(worker.time, "sleep", pauses.append)

    async def drain() -> int:
        processor = worker.Processor(path, clock=lambda: NOW)
        for _ in range(int(worker.BUSY_RATE * worker.BUSY_FOR)):  # a flood is arriving
            processor.wake()
        handled = processor.drain(db)
        await processor.release()
        return handled

    assert asyncio.run(drain()) == 40
    if yields:
        assert sizes[:5] == [worker.BUSY_BATCH] * 5 and len(pauses) == 5
    else:  # the first batch finds the backlog a minute old: full batches from then on
        assert sizes[0] == worker.BUSY_BATCH and set(sizes[1:]) == {worker.BATCH}
        assert pauses == []


POISON = {
    "sqlite": [
        "CREATE TRIGGER poison BEFORE INSERT ON bounces WHEN NEW.recipient = 'poison@example.com' "
        "BEGIN SELECT RAISE(ABORT, 'cannot write this one'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.recipient = 'poison@example.com' THEN RAISE EXCEPTION 'cannot write this one'; "
        "END IF; RETURN NEW; END $$",
        "CREATE TRIGGER poison BEFORE INSERT ON bounces FOR EACH ROW EXECUTE FUNCTION poison()",
    ],
}


def test_a_message_that_cannot_be_written_is_marked_failed_and_its_batch_written(db) -> None:  # noqa: ANN001
    """A batch is written without a savepoint per message; when one message fails to write,
    the batch is written again with one each: that message is marked failed, the others are
    written once, with nothing of the failed attempt left behind."""
    import asyncio

    from bouncer.daemon import worker

    dialect = "sqlite" if db.conn.__class__.__module__.startswith("sqlite3") else "postgresql"
    for statement in POISON[dialect]:
        db.execute(statement)
    addresses = [f"r{n}@example.com" for n in range(5)]
    addresses.insert(2, "poison@example.com")
    raws = [postfix_dsn(a, "5.1.1", UNKNOWN.replace("gone@example.com", a)) for a in addresses]
    inbox.insert_batch(db, [Incoming(NOW, "<>", ("b@localhost",), None, raw) for raw in raws])

    async def drain() -> int:
        processor = worker.Processor("unused.db", clock=lambda: NOW)
        handled = processor.drain(db)
        await processor.release()
        return handled

    assert asyncio.run(drain()) == len(addresses)
    states = db.conn.execute("SELECT state FROM messages ORDER BY id").fetchall()
    assert [row[0] for row in states] == ["processed"] * 2 + ["failed"] + ["processed"] * 3
    recorded = db.conn.execute("SELECT recipient FROM bounces ORDER BY id").fetchall()
    assert [row[0] for row in recorded] == [a for a in addresses if a != "poison@example.com"]
    for address in addresses:
        expected = None if address == "poison@example.com" else "userunknown"
        found = suppressions.get(db, address, NOW)
        assert (found and found["reason"]) == expected

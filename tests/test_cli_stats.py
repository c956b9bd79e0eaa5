"""`bouncer stats`: the summary, --by a bucket, and the hour-by-hour view with bars."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bouncer.app.processing import process
from bouncer.cli.main import main
from bouncer.cli.stats import BAR, BAR_WIDTH, bar, every_hour
from bouncer.clock import to_iso, utcnow
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from tests.messages import postfix_dsn

NOW = utcnow()
# hours before now -> failures received then: a quiet hour, a spike, a gap, a trickle
SPREAD = {3: 1, 2: 6, 0: 2}


def _hour(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:00Z")


@pytest.fixture
def db_path(store_url: str) -> Path | str:
    """Hard failures at org and net addresses, received at the SPREAD hours before now, on
    each backend in turn (a SQLite file's path, or a postgresql:// URL)."""
    path = store_url if "://" in store_url else Path(store_url)
    db = open_db(path)
    n = 0
    for hours, count in SPREAD.items():
        for _ in range(count):
            at = NOW - timedelta(hours=hours, minutes=1)
            domain = "example.org" if n % 3 else "example.net"
            raw = postfix_dsn(f"u{n}@{domain}", "5.1.1", "550 5.1.1 unknown", at=at)
            n += 1
            [message_id] = inbox.insert_batch(db, [Incoming(at, "<>", ("b@x",), None, raw)])
            process(db, next(m for m in inbox.unprocessed(db) if m.id == message_id), at)
    db.close()
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_every_hour_of_the_window_has_a_row_and_the_spike_the_longest_bar(db_path: Path) -> None:
    since = NOW - timedelta(hours=4)
    window = ("--since", to_iso(since), "--until", to_iso(NOW + timedelta(minutes=1)))
    code, output, _ = run("stats", "--by", "hour", *window, "--db", str(db_path))
    assert code == 0
    header, *lines = output.splitlines()
    assert header.split() == ["HOUR", "FAILURES"]
    hours = [_hour(since + timedelta(hours=i)) for i in range(5)]
    if _hour(NOW + timedelta(minutes=1)) != hours[-1]:
        hours.append(_hour(NOW + timedelta(minutes=1)))
    counts = {_hour(NOW - timedelta(hours=h, minutes=1)): c for h, c in SPREAD.items()}
    assert [line.split()[0] for line in lines] == hours
    for line, hour in zip(lines, hours, strict=True):
        cells = line.split()
        assert int(cells[1]) == counts.get(hour, 0)
        drawn = cells[2] if len(cells) > 2 else ""
        assert drawn == bar(counts.get(hour, 0), max(SPREAD.values()))
    longest = max(lines, key=lambda line: line.count(BAR))
    assert longest.split()[1] == "6" and longest.count(BAR) == BAR_WIDTH
    bars = {line.index(BAR) for line in lines if BAR in line}
    assert len(bars) == 1  # every bar starts in the same column


def test_by_hour_takes_relative_times_and_prints_json(db_path: Path) -> None:
    code, output, _ = run("stats", "--by", "hour", "--since", "5h", "--json", "--db", str(db_path))
    rows = [json.loads(line) for line in output.splitlines()]
    assert code == 0 and len(rows) in (6, 7)  # whole hours from the one 5 h ago up to now
    assert sum(row["failures"] for row in rows) == sum(SPREAD.values())
    assert max(rows, key=lambda row: row["failures"]) == {
        "hour": _hour(NOW - timedelta(hours=2, minutes=1)),
        "failures": 6,
    }


def test_by_domain_most_first_and_cut_at_the_limit(db_path: Path) -> None:
    code, output, errors = run("stats", "--by", "domain", "--since", "1d", "--db", str(db_path))
    header, *lines = output.splitlines()
    assert code == 0 and header.split() == ["DOMAIN", "FAILURES"]
    assert [line.split()[:2] for line in lines] == [["example.org", "6"], ["example.net", "3"]]
    assert errors == ""
    code, output, errors = run("stats", "--by", "reason", "--json", "--db", str(db_path))
    assert [json.loads(line) for line in output.splitlines()] == [
        {"reason": "userunknown", "failures": 9}
    ]
    code, output, errors = run("stats", "--by", "domain", "--limit", "1", "--db", str(db_path))
    assert len(output.splitlines()) == 2 and "showing the 1 largest" in errors


def test_the_summary_stays_the_default(db_path: Path) -> None:
    code, output, _ = run("stats", "--db", str(db_path))
    assert code == 0 and output.startswith("since ") and "classes:" in output
    counts = json.loads(run("stats", "--json", "--db", str(db_path))[1])
    assert counts["classes"] == {"hard": 9}


def test_bars_and_hours() -> None:
    assert bar(0, 10) == "" and bar(5, 0) == ""
    assert bar(10, 10) == BAR * BAR_WIDTH and bar(5, 10, width=10) == BAR * 5
    assert bar(1, 1000) == BAR  # a count above zero is never invisible
    first = datetime(2026, 3, 1, 22, tzinfo=UTC)
    assert every_hour(first, first + timedelta(hours=2, minutes=1)) == [
        "2026-03-01T22:00Z",
        "2026-03-01T23:00Z",
        "2026-03-02T00:00Z",
    ]
    assert every_hour(first, first) == []

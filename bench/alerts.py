"""Alerts benchmark: what counting failures and deciding alert episodes adds to processing a
report, on a small store and on one whose count table holds a busy window, and what a sweep
with open episodes costs.

    .venv/bin/python bench/alerts.py [--messages 2000] [--rounds 5] [--domains 20000]

Every message is a Postfix-shaped DSN (tests/messages.py `postfix_dsn`) for one recipient:
90 % user unknown over `--domains` recipient domains, 10 % Microsoft blocks (class soft,
reason blocked, counted toward sender.blocked). Each round processes `--messages` new messages
twice, as the worker writes them (prepared outside the transaction, written 32 to a
transaction, each in a savepoint), once with alerts enabled and once disabled, in alternating
order, on copies of the same store; the figure is the median over rounds of CPU microseconds
(process time: the machine is shared, and the alerts add no commit, hence no fsync) per
message, and the difference is what the alerts cost. The thresholds are the defaults (1,000
an hour; 20 blocks in 10 minutes), so the overall and Microsoft episodes open during the run
and later messages are decided against open episodes. "busy window" runs the same on a store
whose count table already holds an hour of 20,000 domains' buckets (what a large sender's
peak leaves), to show the cost does not grow with it. "sweep" is one `sweeping.sweep_once`
with the open episodes of the run (median of 5, CPU ms).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bouncer.app import sweeping  # noqa: E402
from bouncer.app.processing import Settings, prepare, write  # noqa: E402
from bouncer.clock import from_iso  # noqa: E402
from bouncer.core.alerts import AlertPolicy  # noqa: E402
from bouncer.core.tracker import DEFAULT_POLICY  # noqa: E402
from bouncer.store import alerts, inbox, open_db  # noqa: E402
from bouncer.store.inbox import Incoming  # noqa: E402
from tests.messages import postfix_dsn  # noqa: E402

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BLOCK = (
    "550 5.7.1 Unfortunately, messages from [192.0.2.9] weren't sent. Please contact your "
    "Internet service provider since part of their network is on our block list (S3150)."
)
ON, OFF = AlertPolicy(), AlertPolicy(enabled=False)


def reports(count: int, domains: int) -> list[tuple[datetime, bytes]]:
    """Return (receipt time, raw DSN) for `count` failures over 20 minutes."""
    found = []
    for i in range(count):
        at = T0 + timedelta(seconds=1200 * i / count)
        if i % 10 == 9:
            raw = postfix_dsn(f"u{i}@outlook.com", "5.7.1", BLOCK, at=at, message_id=f"<b{i}@a>")
        else:
            address = f"u{i}@d{i % domains}.example"
            raw = postfix_dsn(
                address, "5.1.1", "550 5.1.1 User unknown", at=at, message_id=f"<m{i}@a>"
            )
        found.append((at, raw))
    return found


def busy_window(path: Path, domains: int) -> None:
    """Fill the count table with an hour of buckets for `domains` domains (before T0)."""
    db = open_db(path)
    added = {
        (f"domain:x{d}.example", T0 - timedelta(minutes=1 + d % 60)): 1 for d in range(domains)
    }
    added.update({("all", T0 - timedelta(minutes=m)): 10 for m in range(1, 61)})
    with db.atomic():
        alerts.add_counts(db, added)
    db.close()


def process_all(path: Path, batch: list[tuple[datetime, bytes]], policy: AlertPolicy) -> float:
    """Store and process the batch as the worker does; return seconds spent writing."""
    db = open_db(path)
    settings = Settings(alerts=policy)
    spent = 0.0
    for start in range(0, len(batch), 32):
        chunk = batch[start : start + 32]
        incoming = [Incoming(at, "<>", ("b@localhost",), None, raw) for at, raw in chunk]
        inbox.insert_batch(db, incoming)
        messages = inbox.unprocessed(db, 32)
        prepared = [prepare(m, from_iso(m.received_at), settings) for m in messages]
        began = time.process_time()
        with db.atomic():
            for item in prepared:
                with db.atomic():
                    write(db, item, from_iso(item.message.received_at), settings)
        spent += time.process_time() - began
    db.close()
    return spent


def measure(base: Path, batch: list, rounds: int) -> tuple[float, float]:
    """Return the median µs per message with alerts on and off (alternating, fresh copies)."""
    times: dict[str, list[float]] = {"on": [], "off": []}
    for number in range(rounds):
        order = (("on", ON), ("off", OFF)) if number % 2 == 0 else (("off", OFF), ("on", ON))
        for name, policy in order:
            copy = base.with_name(f"{name}.db")
            shutil.copy(base, copy)
            times[name].append(process_all(copy, batch, policy) / len(batch) * 1e6)
    return statistics.median(times["on"]), statistics.median(times["off"])


def sweep_ms(path: Path) -> tuple[float, int]:
    """Return the median ms of one sweep 5 minutes after the run, and the open episodes."""
    db = open_db(path)
    now = T0 + timedelta(minutes=25)
    spans = []
    for _ in range(5):
        began = time.process_time()
        sweeping.sweep_once(db, now, DEFAULT_POLICY, dry_run=True, alert_policy=ON)
        spans.append((time.process_time() - began) * 1000)
    opened = len(alerts.unchecked(db, now + timedelta(days=1), 10_000))
    db.close()
    return statistics.median(spans), opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--domains", type=int, default=20_000)
    args = parser.parse_args()
    batch = reports(args.messages, args.domains)
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.db"
        open_db(empty).close()
        busy = Path(folder) / "busy.db"
        busy_window(busy, args.domains)
        print(f"{'store':<14}{'alerts on µs/msg':>18}{'off µs/msg':>12}{'cost µs/msg':>13}")
        for name, path in (("empty", empty), ("busy window", busy)):
            on, off = measure(path, batch, args.rounds)
            print(f"{name:<14}{on:>18.0f}{off:>12.0f}{on - off:>13.0f}")
        after = Path(folder) / "after.db"
        shutil.copy(empty, after)
        process_all(after, batch, ON)
        spent, opened = sweep_ms(after)
        print(f"sweep with {opened} open episodes: {spent:.2f} ms")
        events = open_db(after)
        fired = events.conn.execute(
            "SELECT type, COUNT(*) FROM events WHERE type LIKE 'failures.%' "
            "OR type LIKE 'sender.%' GROUP BY type"
        ).fetchall()
        events.close()
        print("alert events in the run:", dict(fired))


if __name__ == "__main__":
    main()

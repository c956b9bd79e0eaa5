"""The database bench/api.py measures: 1,000,000 bounce records and 1,000,000 suppressions,
written with bulk SQL in the shape the product writes them.

Rows (times spread over the `DAYS` days before the build):
* messages: one per bounce record, processed, kind as its record's, raw copy already pruned
  (`pruned_at` set, `raw` empty), as after `store.keep_raw`;
* bounces: one per message, as `store.records.insert` writes them: recipients `u<n>@<domain>`
  over ~20k domains (35 % at five big ones), 45 % hard (userunknown 5.1.1 550, hostunknown
  5.4.4), 40 % soft failures (mailboxfull, blocked, spamdetected, toomanyconn), 10 % delays
  (kind delay, expired 4.4.1), 5 % complaints (kind complaint, feedback, abuse); Postfix-style
  reporting and remote MTAs, diagnostics, the original's From, Subject and Message-ID, the
  return path `bounces@bounces.example`, keys by the caseless identity rule;
* suppressions: every hard bounce's and complaint's recipient (source bounce or complaint,
  status, diagnostic, message_id, no expiry) and, to reach 1,000,000, addresses an operator
  added by hand (source manual, reason and note as `app.editing.add_manual` writes them, each
  with its `suppression_changes` row).

Built once per size under --keep-dir and reused (bench/api.py copies it before a run).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bouncer.clock import to_iso
from bouncer.core.addresses import Identity
from bouncer.store import open_db

VERSION = 2  # bump when the rows written (or the schema's indexes) change
DAYS = 100
DOMAINS = 20011
BIG = ("mail.example", "inbox.example", "post.example", "webmail.example", "mx.example")
CHUNK = 50_000
TEXTS = {
    "userunknown": "550 5.1.1 <{r}>: Recipient address rejected: User unknown",
    "hostunknown": "Host or domain name not found. Name service error for name={d} type=MX",
    "mailboxfull": "552 5.2.2 <{r}>: Mailbox full",
    "blocked": "554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked",
    "spamdetected": "550 5.7.1 Message rejected as spam",
    "toomanyconn": "421 4.7.0 Too many connections, try again later",
    "expired": "connect to mx1.{d}[192.0.2.9]:25: Connection timed out",
}
KINDS = (  # (share, kind, action, class, reason, status, reply code)
    (0.40, "bounce", "failed", "hard", "userunknown", "5.1.1", "550"),
    (0.05, "bounce", "failed", "hard", "hostunknown", "5.4.4", None),
    (0.20, "bounce", "failed", "soft", "mailboxfull", "5.2.2", "552"),
    (0.10, "bounce", "failed", "soft", "blocked", "5.7.1", "554"),
    (0.05, "bounce", "failed", "soft", "spamdetected", "5.7.1", "550"),
    (0.05, "bounce", "failed", "soft", "toomanyconn", "4.7.0", "421"),
    (0.10, "delay", "delayed", "soft", "expired", "4.4.1", None),
    (0.05, "complaint", None, "none", "feedback", None, None),
)


def domain_of(n: int, pick: random.Random) -> str:
    """Return the domain of recipient n: 35 % at the big five, the rest over DOMAINS."""
    return BIG[n % 5] if pick.random() < 0.35 else f"d{pick.randrange(DOMAINS)}.example"


def _kinds(pick: random.Random) -> tuple:
    """Draw one row of KINDS by its share."""
    x, total = pick.random(), 0.0
    for row in KINDS:
        total += row[0]
        if x < total:
            return row
    return KINDS[-1]


def _records(n: int, end: datetime) -> Iterator[tuple[tuple, tuple, tuple | None]]:
    """Yield (message row, bounce row, suppression row or None) for n records, oldest first."""
    pick, key = random.Random(7), Identity().key
    start, step = end - timedelta(days=DAYS), timedelta(days=DAYS) / n
    pruned = to_iso(end)
    for i in range(1, n + 1):
        at = to_iso(start + step * i)
        domain = domain_of(i, pick)
        recipient = f"u{i}@{domain}"
        _, kind, action, cls, reason, status, code = _kinds(pick)
        text = TEXTS.get(reason)
        diagnostic = text.format(r=recipient, d=domain) if text else None
        message = (
            i,
            at,
            "<>",
            '["bounces@bounces.example"]',
            "192.0.2.25:40000",
            4000,
            "processed",
            kind,
            at,
            pruned,
        )
        bounce = (
            i, at, kind, recipient, recipient, action, status, code, cls, reason,
            diagnostic, f"mx1.{domain}" if diagnostic else None, "mx.sender.example", at,
            "bounces@bounces.example", f"<n{i}@shop.example>", "Shop <news@shop.example>",
            f"Your order {i % 1000}", "abuse" if kind == "complaint" else None, recipient,
            key(recipient), key(recipient),
        )  # fmt: skip
        suppression = None
        if cls == "hard" or kind == "complaint":
            source = "complaint" if kind == "complaint" else "bounce"
            suppression = (
                key(recipient),
                recipient,
                reason,
                "hard" if source == "bounce" else "none",
                source,
                at,
                at,
                status,
                diagnostic,
                i,
                None,
            )
        yield message, bounce, suppression


_MESSAGE = (
    "INSERT INTO messages (id, received_at, mail_from, rcpt_to, peer, size, raw, state, kind,"
    " processed_at, pruned_at) VALUES (?, ?, ?, ?, ?, ?, x'', ?, ?, ?, ?)"
)
_BOUNCE = (
    "INSERT INTO bounces (message_id, received_at, kind, recipient, original_recipient, action,"
    " status, reply_code, class, reason, diagnostic, remote_mta, reporting_mta, arrival_date,"
    " bounce_address, orig_message_id, orig_from, orig_subject, feedback_type, final_recipient,"
    " recipient_key, final_key) VALUES (" + ", ".join("?" * 22) + ")"
)
_SUPPRESSION = (
    "INSERT INTO suppressions (address_key, address, reason, class, source, first_seen,"
    " last_seen, status, diagnostic, message_id, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CHANGE = (
    "INSERT INTO suppression_changes (address_key, address, action, at, by, reason)"
    " VALUES (?, ?, 'added', ?, 'cli:ops', ?)"
)


def build(path: Path, n: int) -> dict[str, int]:
    """Write the database at path with n bounce records and n suppressions; return counts."""
    end = datetime.now(UTC).replace(microsecond=0)
    open_db(path).close()  # the schema, as the daemon creates it
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    started, suppressed = time.monotonic(), 0
    rows = _records(n, end)
    conn.execute("BEGIN")
    while chunk := [next(rows, None) for _ in range(CHUNK)]:
        chunk = [row for row in chunk if row is not None]
        if not chunk:
            break
        conn.executemany(_MESSAGE, [row[0] for row in chunk])
        conn.executemany(_BOUNCE, [row[1] for row in chunk])
        own = [row[2] for row in chunk if row[2] is not None]
        conn.executemany(_SUPPRESSION, own)
        suppressed += len(own)
    manual = _manual(n - suppressed, end)
    conn.executemany(_SUPPRESSION, [row for row, _ in manual])
    conn.executemany(_CHANGE, [change for _, change in manual])
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(
        f"built {path.name}: {n:,} records, {n:,} suppressions"
        f" in {time.monotonic() - started:.0f} s"
    )
    return {"bounces": n, "suppressions": n}


def _manual(count: int, end: datetime) -> list[tuple[tuple, tuple]]:
    """Rows of `count` suppressions added by hand over the year before, with their changes."""
    pick, key = random.Random(11), Identity().key
    rows = []
    for i in range(count):
        address = f"m{i}@{domain_of(i, pick)}"
        at = to_iso(end - timedelta(days=365) + timedelta(seconds=31_536_000 * i / max(count, 1)))
        reason = "imported from the previous provider"
        rows.append(
            (
                (key(address), address, reason, "hard", "manual", at, at, None, None, None, reason),
                (key(address), address, at, reason),
            )
        )
    return rows


def suppressed_sample(path: Path, count: int, seed: int) -> list[str]:
    """Return `count` different suppressed addresses spread over the table (by rowid)."""
    conn = sqlite3.connect(path)
    try:
        top = conn.execute("SELECT MAX(rowid) FROM suppressions").fetchone()[0]
        pick = random.Random(seed)
        ids = pick.sample(range(1, top + 1), count)
        rows = conn.execute(
            "SELECT address FROM suppressions WHERE rowid IN (SELECT value FROM json_each(?))",
            (str(ids),),
        )
        return [row[0] for row in rows]
    finally:
        conn.close()

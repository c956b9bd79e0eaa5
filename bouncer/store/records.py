"""Per-recipient bounce records: insert one per report entry, and the searchable log.

A record is about the address the application sent to (`recipient`: the Original-Recipient when
the report gives a real one, else the Final-Recipient); `final_recipient` keeps the report's
Final-Recipient. The log finds a record by either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.core.addresses import about, bare
from bouncer.core.model import Entry, Report, Verdict
from bouncer.store import days
from bouncer.store.query import where

_INSERT = """
INSERT INTO bounces (message_id, received_at, kind, recipient, original_recipient, action,
    status, reply_code, class, reason, diagnostic, remote_mta, reporting_mta, arrival_date,
    bounce_address, orig_message_id, orig_from, orig_subject, feedback_type, verp_recipient,
    verified, final_recipient, recipient_key, final_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

LOG_COLUMNS = (
    "id",
    "received_at",
    "kind",
    "recipient",
    "final_recipient",
    "original_recipient",
    "action",
    "status",
    "class",
    "reason",
    "diagnostic",
    "remote_mta",
    "reporting_mta",
    "orig_from",
    "orig_subject",
    "orig_message_id",
    "bounce_address",
    "message_id",
    "verp_recipient",
    "verified",
)


@dataclass(frozen=True, slots=True)
class Receipt:
    """How a report reached bouncer: its stored message, when, and at which bounce address."""

    message_id: int
    received_at: datetime
    bounce_address: str | None = None
    verp_recipient: str | None = None  # the recipient a VERP return path names
    verified: bool | None = None  # its signature held (None: no signed token)


def insert(db: Database, receipt: Receipt, report: Report, entry: Entry, verdict: Verdict) -> None:
    """Insert the bounce record for one entry of a processed report."""
    original = report.original
    verified = None if receipt.verified is None else int(receipt.verified)
    recipient, final = about(entry.address, entry.original_recipient), bare(entry.address)
    db.conn.execute(
        _INSERT,
        (
            receipt.message_id,
            to_iso(receipt.received_at),
            report.kind,
            recipient,
            entry.original_recipient,
            entry.action,
            verdict.status,
            entry.reply_code,
            verdict.bounce_class,
            verdict.reason,
            entry.diagnostic,
            entry.remote_mta,
            report.reporting_mta,
            to_iso(report.arrival_date),
            receipt.bounce_address,
            original.message_id,
            original.from_addr,
            original.subject,
            entry.feedback_type,
            receipt.verp_recipient,
            verified,
            final,
            *db.identity.keys(recipient, final),
        ),
    )


def delete_for_message(db: Database, message_id: int) -> None:
    """Delete the bounce records of one message (before it is processed again)."""
    db.execute("DELETE FROM bounces WHERE message_id = ?", (message_id,))


# The domain of a stored address key, as the bounces_domain indexes hold it (same expression).
_DOMAIN = "substr({0}, instr({0}, '@') + 1)"
_DAY = days.day_of("received_at")
# A return path with a subaddress (RFC 5233 §1: `local+detail@domain`; every signed VERP return
# path has one, bouncer.core.verp) and that return path without it, lower case, as the
# bounces_subaddress index holds them (same expressions).
_SUBADDRESSED = "instr(bounce_address, '+') BETWEEN 1 AND instr(bounce_address, '@')"
_BASE = (
    "lower(substr(bounce_address, 1, instr(bounce_address, '+') - 1) "
    "|| substr(bounce_address, instr(bounce_address, '@')))"
)


def search(
    db: Database,
    *,
    recipient: str | None = None,
    sender: str | None = None,
    since: str | None = None,
    until: str | None = None,
    bounce_class: str | None = None,
    limit: int = 100,
) -> list[dict]:
    """Return bounce records newest first, each with the LOG_COLUMNS; recipient is an address
    (either the one the record is about or its final recipient) or '@domain', sender a return
    path (as `page` matches it)."""
    found = page(
        db,
        recipient=recipient,
        sender=sender,
        since=since,
        until=until,
        bounce_class=bounce_class,
        limit=limit,
    )
    return [{name: record[name] for name in LOG_COLUMNS} for _, record in found]


RECORD_COLUMNS = (*LOG_COLUMNS, "reply_code", "arrival_date", "feedback_type")
_COLUMNS = f"received_at, id, {', '.join(RECORD_COLUMNS)}"
_ORDER = "ORDER BY received_at DESC, id DESC LIMIT ?"


def page(
    db: Database,
    *,
    recipient: str | None = None,
    sender: str | None = None,
    orig_message_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    bounce_class: str | None = None,
    reason: str | None = None,
    kind: str | None = None,
    subject: str | None = None,
    after: tuple[str, int] | None = None,
    limit: int = 100,
) -> list[tuple[tuple[str, int], dict]]:
    """Return one page of bounce records, newest first, each with its position
    (received_at, id): pass the last one as `after` for the next page.

    `recipient` as in `search` (an address or '@domain'); `sender` is the return path the
    report came back to (the original message's envelope sender, without regard to case):
    without a subaddress (`bounces@shop.example`) it also matches that address with any
    (`bounces+...@shop.example`, as signed VERP return paths are; RFC 5233 §1), with one
    only that exact return path;
    `orig_message_id` the original's Message-ID, with or without its angle brackets;
    `subject` words the original's Subject holds in this order (any case, "%" and "_" literal).
    """
    bare_id = orig_message_id.strip().strip("<>") if orig_message_id else None
    branches = _branches(db, recipient, sender, bare_id)
    # A filter that leads a branch (see _branches) is that branch's condition, not this one's.
    condition, params = where(
        (_sender_clause(sender) or "", sender if recipient else None),
        ("orig_message_id IN (?, '<' || ? || '>')", bare_id if recipient or sender else None),
        ("received_at >= ?", since),
        ("received_at < ?", until),
        ("class = ?", bounce_class),
        ("reason = ?", reason),
        ("kind = ?", kind),
        ("lower(orig_subject) LIKE lower(?) ESCAPE '\\'", _words(subject)),
    )
    if after:
        condition += " AND (received_at, id) < (?, ?)"
        params.extend(after)
    if branches:
        last = min(filter(None, (until, after[0] if after else None)), default=None)
        span = days.span(db, "bounces", "received_at", since, last)
        rows = _through_days(db, branches, span, condition, params, limit)
    else:
        # Filtered on time, class or kind only: walk the index holding all three in time order.
        hint = "" if reason else "INDEXED BY bounces_listing "
        sql = f"SELECT {_COLUMNS} FROM bounces {hint}WHERE {condition} {_ORDER}"
        rows = db.conn.execute(sql, [*params, limit]).fetchall()
    return [((row[0], row[1]), dict(zip(RECORD_COLUMNS, row[2:], strict=True))) for row in rows]


def _through_days(
    db: Database,
    branches: list[tuple[str, str, str]],
    span: list[str],
    condition: str,
    params: list,
    limit: int,
) -> list[tuple]:
    """Return up to `limit` rows read through the branches' indexes over the days of `span`
    (newest first), a slice of days (days.SLICE) a statement, stopping once the page is full."""
    rows: list[tuple] = []
    for marks, part in days.slices(span):
        rows += _by_days(db, branches, marks, part, condition, params, limit - len(rows))
        if len(rows) >= limit:
            break
    return rows


def _branches(
    db: Database, recipient: str | None, sender: str | None, bare_id: str | None
) -> list[tuple[str, str, str]]:
    """Return the day-first indexes a lookup reads, each as (index, condition, the value of
    each of its marks):
    by recipient or domain first, else by return path, else by Message-ID; none for a listing.

    An address is found as the record's recipient or its final recipient, a domain likewise:
    one index each, merged (an OR of both would read neither in order). The final-key indexes
    hold only records whose final key differs: hence "IS NOT NULL".
    """
    if recipient and recipient.startswith("@"):
        domain = recipient[1:].lower()
        return [
            (index, f"{column} IS NOT NULL AND {_DOMAIN.format(column)} = ?", domain)
            for index, column in (
                ("bounces_domain", "recipient_key"),
                ("bounces_final_domain", "final_key"),
            )
        ]
    if recipient:
        key = db.identity.key(recipient)
        return [
            ("bounces_recipient", "recipient_key = ?", key),
            ("bounces_final", "final_key IS NOT NULL AND final_key = ?", key),
        ]
    if sender:
        return _sender_branches(sender)
    if bare_id:
        return [("bounces_orig_message", "orig_message_id IN (?, '<' || ? || '>')", bare_id)]
    return []


def _sender_branches(sender: str) -> list[tuple[str, str, str]]:
    """Return the branches of a lookup by return path (see `page`): the exact return path and,
    when it has no subaddress (RFC 5233 §1: no '+' in its local part), every return path that
    is it with one."""
    exact = [("bounces_sender", "lower(bounce_address) = lower(?)", sender)]
    if "+" in sender.rpartition("@")[0]:
        return exact
    return [*exact, ("bounces_subaddress", f"{_SUBADDRESSED} AND {_BASE} = lower(?)", sender)]


def _sender_clause(sender: str | None) -> str | None:
    """Return the condition on the return path `sender` names, its branches' conditions
    joined (each mark takes `sender`), or None without one."""
    if not sender:
        return None
    return "(" + " OR ".join(f"({clause})" for _, clause, _ in _sender_branches(sender)) + ")"


def _by_days(
    db: Database,
    branches: list[tuple[str, str, str]],
    marks: str,
    part: list[str],
    condition: str,
    params: list,
    limit: int,
) -> list[tuple]:
    """Return up to `limit` records on the given days through each branch's index, newest
    first (each branch walks its index day by day, newest first: no sort, stops at the page).

    SQLite walks an `IN` list in index order only when the ORDER BY names its column; for a
    single day (an equality) naming it makes the planner sort, so it is left out."""
    by_day = f"{_DAY} DESC, " if len(part) > 1 else ""
    order = f"ORDER BY {by_day}received_at DESC, id DESC LIMIT ?"
    parts, values = [], []
    for index, clause, value in branches:
        parts.append(
            f"SELECT * FROM (SELECT {_COLUMNS} FROM bounces INDEXED BY {index} "
            f"WHERE {_DAY} IN {marks} AND {clause} AND {condition} {order}) AS {index}"
        )
        values += [*part, *[value] * clause.count("?"), *params, limit]
    sql = " UNION ".join(parts) + " ORDER BY 1 DESC, 2 DESC LIMIT ?"
    return db.conn.execute(sql, [*values, limit]).fetchall()


def _words(text: str | None) -> str | None:
    """Return a LIKE pattern matching text holding these words in order (None: no filter)."""
    if not text or not text.split():
        return None
    escaped = [
        w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in text.split()
    ]
    return "%" + "%".join(escaped) + "%"


def for_message(db: Database, message_id: int) -> list[dict]:
    """Return the bounce records of one stored message, in the order they were written."""
    rows = db.conn.execute(
        f"SELECT {', '.join(RECORD_COLUMNS)} FROM bounces WHERE message_id = ? ORDER BY id",
        (message_id,),
    )
    return [dict(zip(RECORD_COLUMNS, row, strict=True)) for row in rows]

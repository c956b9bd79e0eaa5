"""Import suppression entries in bulk: each change recorded as an operator's, all in one
transaction, so a file is imported whole or not at all.

Per entry, compared with the active one stored under the same address key: none stored, it is
added (`suppression.added` event, as `editing.add_manual` writes); stored with every given field
equal, it is skipped; stored and different, it is updated with the given fields (and becomes the
operator's entry, source `manual`, unless the file names a source). An entry whose expiry has
passed is skipped. Every addition and update is recorded in `suppression_changes` with who
(`by`), when (`now`) and why, as a manual edit is. Importing the same file twice changes nothing
the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.core.suppression_file import TIME_FIELDS, Entry, RowError
from bouncer.store import changes, events, suppression_bulk

log = structlog.get_logger("bouncer.import")
CHUNK = 2000  # entries looked up and written at a time (the progress moves per chunk)
# What a new entry holds for each field the file leaves out (first_seen, last_seen: now).
DEFAULTS = {
    "final_recipient": None,
    "class": "hard",
    "source": "manual",
    "count": 1,
    "status": None,
    "diagnostic": None,
    "message_id": None,
    "expires_at": None,
    "note": None,
}


@dataclass
class Imported:
    """What an import did: entries added, updated, skipped (of which already expired)."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    expired: int = 0


class ImportRefused(ValueError):
    """The entries cannot be imported as a whole; `problems` name each line at fault."""

    def __init__(self, problems: list[RowError]) -> None:
        super().__init__(f"{len(problems)} bad row(s)")
        self.problems = problems


def import_entries(
    db: Database,
    entries: Sequence[Entry],
    now: datetime,
    by: str,
    why: str,
    progress: Callable[[int], None] | None = None,
) -> Imported:
    """Add, update or skip each entry, in one transaction; return the counts.

    Raises ImportRefused (nothing written) when two entries are about the same address.
    `progress` is called with the number of entries done after each chunk.
    """
    keys = [db.identity.key(entry.values["address"]) for entry in entries]
    _refuse_repeats(entries, keys)
    done = Imported()
    with db.atomic():
        for start in range(0, len(entries), CHUNK):
            part = list(
                zip(entries[start : start + CHUNK], keys[start : start + CHUNK], strict=True)
            )
            _import_chunk(db, part, now, by, why, done)
            if progress:
                progress(len(part))
    log.info("suppression.imported", by=by, reason=why, **vars(done))
    return done


def _import_chunk(
    db: Database,
    part: list[tuple[Entry, str]],
    now: datetime,
    by: str,
    why: str,
    done: Imported,
) -> None:
    """Decide and write one chunk of entries (inside the caller's transaction)."""
    stored = suppression_bulk.active_by_key(db, [key for _, key in part], now)
    stamp = to_iso(now)
    added, updated = [], []
    for entry, key in part:
        given = _stored_form(entry.values)
        if given.get("expires_at") is not None and given["expires_at"] <= stamp:
            done.skipped += 1
            done.expired += 1
        elif key not in stored:
            added.append({**DEFAULTS, "first_seen": stamp, "last_seen": stamp, **given})
        elif _differs(given, stored[key]):
            source = {"source": given.get("source", "manual")}
            updated.append({**stored[key], **given, **source, "address": stored[key]["address"]})
        else:
            done.skipped += 1
    suppression_bulk.insert_many(db, added)
    suppression_bulk.update_many(db, updated)
    changes.record_many(db, "added", now, by, why, [row["address"] for row in added + updated])
    news = [(row["address"], _event(row, by)) for row in added]
    events.add_many(db, "suppression.added", now, news)
    done.added += len(added)
    done.updated += len(updated)


def _stored_form(values: dict) -> dict:
    """Return the given fields with times as the store writes them."""
    return {name: to_iso(value) if name in TIME_FIELDS else value for name, value in values.items()}


def _differs(given: dict, stored: dict) -> bool:
    """Say whether a given field (the address's spelling aside) differs from the stored one."""
    return any(stored[name] != value for name, value in given.items() if name != "address")


def _event(row: dict, by: str) -> dict:
    """The data of the `suppression.added` event of a new entry, as add_manual writes it."""
    data = {
        "reason": row["reason"],
        "class": row["class"],
        "source": row["source"],
        "by": by,
        "expires_at": row["expires_at"],
    }
    return {name: value for name, value in data.items() if value is not None}


def _refuse_repeats(entries: Sequence[Entry], keys: list[str]) -> None:
    """Raise ImportRefused naming each entry about an address an earlier line is about."""
    first: dict[str, int] = {}
    problems = []
    for entry, key in zip(entries, keys, strict=True):
        if key in first:
            message = f"{entry.values['address']} is on line {first[key]} too"
            problems.append(RowError(entry.line, "address", message))
        else:
            first[key] = entry.line
    if problems:
        raise ImportRefused(problems)

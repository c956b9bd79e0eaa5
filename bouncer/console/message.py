"""What the Message page shows of one stored report, read in one go on a reader connection.

Per recipient: its bounce record (class, reason, status, the remote server's reply), how
bouncer decided (bouncer.core.explain's steps over the stored raw copy, as `bouncer explain`
prints them), and its timeline: events about the address (deferred, delayed, given up,
suppressed, removed...), its deferrals, and its suppression with operators' changes.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bouncer.core.dsn import parse
from bouncer.core.explain import explain_bytes
from bouncer.store import changes, deferrals, events, inbox, records, suppressions

TIMELINE = 50  # events shown per recipient, the latest
RAW_SHOWN = 200_000  # characters of the raw report shown inline (the download has it all)


def load_message(
    db: Database, number: int, now: datetime, overrides: Any, admin: bool
) -> dict | None:
    """Return the page's data for stored message `number`, or None when there is none.

    Shape: {"message", "original": {message_id, from_addr, to, subject, date} or None,
    "explained": explain_bytes(...) or None (raw pruned), "recipients": [{"record",
    "explained", "events", "deferrals", "suppression", "changes"}], "raw": text or None
    (admins only), "raw_stored": bool}.
    """
    found = inbox.message(db, number)
    if found is None:
        return None
    written = records.for_message(db, number)
    raw = inbox.raw_of(db, number)
    explained = explain_bytes(raw, overrides) if raw else None
    original = asdict(parse(raw).original) if raw else None
    steps = {r["address"].lower(): r for r in (explained or {}).get("recipients", [])}
    recipients = [_recipient(db, record, steps, now) for record in written]
    return {
        "message": found,
        "original": original,
        "explained": explained,
        "recipients": recipients,
        "unrecorded": [r for key, r in steps.items() if key not in _addresses(written)],
        "raw": raw.decode("utf-8", "replace")[:RAW_SHOWN] if raw and admin else None,
        "raw_stored": bool(raw),
    }


def _addresses(written: list[dict]) -> set[str]:
    """Return every address the records name (recipient and final recipient), lowercased."""
    return {
        (address or "").lower()
        for record in written
        for address in (record["recipient"], record["final_recipient"])
    }


def _recipient(db: Database, record: dict, steps: dict[str, dict], now: datetime) -> dict:
    """Return one record with its explanation and the recipient's timeline."""
    address = record["recipient"]
    explained = steps.get((address or "").lower()) or steps.get(
        (record["final_recipient"] or "").lower()
    )
    if not address:
        return {
            "record": record,
            "explained": explained,
            "events": [],
            "deferrals": [],
            "suppression": None,
            "changes": [],
        }
    timeline = events.search(db, recipient=address, limit=TIMELINE, newest_first=True)
    entry = suppressions.get(db, address, now)
    return {
        "record": record,
        "explained": explained,
        "events": list(reversed(timeline)),
        "deferrals": deferrals.listing(db, recipient=address, limit=10),
        "suppression": entry,
        "changes": changes.history(db, entry["address"] if entry else address),
    }

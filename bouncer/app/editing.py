"""Operator edits of the suppression list, each with its event and its audit row, in one
transaction. Every manual change is stored with when, by whom (`cli:<user>`, or `api:<token
name>` for the HTTP API) and why (`bouncer.store.changes`)."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bouncer.app import notify
from bouncer.clock import to_iso
from bouncer.core.addresses import bare
from bouncer.store import changes, events, soft_failures, suppressions
from bouncer.store.suppressions import SuppressionRequest


def add_manual(
    db: Database,
    address: str,
    reason: str,
    bounce_class: str,
    expires_at: datetime | None,
    now: datetime,
    by: str,
    note: str | None = None,
    *,
    announce: bool = True,
) -> bool:
    """Suppress an address by hand; return True when it was not suppressed before.

    `announce`: log the event written (bouncer.app.notify); the daemon's callers (API,
    console) pass False, since its journal logs every committed event once.

    An existing entry becomes the operator's (reason, class, expiry; a permanent one stays
    permanent), so that no report or reprocess later withdraws it. The change is recorded even
    when the address was already suppressed; `suppression.added` only when it was not.
    `note` is kept with the entry (default: the reason).
    """
    address = bare(address)
    request = SuppressionRequest(
        address, reason, bounce_class, "manual", expires_at=expires_at, note=note or reason
    )
    with db.atomic():
        added = suppressions.upsert(db, request, now)
        changes.record(db, address, "added", now, by, reason)
        data = {
            "reason": reason,
            "class": bounce_class,
            "source": "manual",
            "by": by,
            "expires_at": to_iso(expires_at),
        }
        written = []
        if added:
            shown = {name: value for name, value in data.items() if value is not None}
            written.append(events.add(db, "suppression.added", now, address, shown))
    if announce:
        notify.emit(written)
    return added


class ComplaintEntry(Exception):
    """The entry to remove was set by a complaint, and the caller did not say to force it.

    `entry` is the suppression as stored. A complaint is the recipient's own word: lifting it
    by mistake sends mail to someone who asked for none, so the API asks for `force=true`.
    """

    def __init__(self, entry: dict) -> None:
        super().__init__(f"{entry['address']} was suppressed by a complaint")
        self.entry = entry


def remove_manual(
    db: Database,
    address: str,
    now: datetime,
    by: str,
    reason: str,
    *,
    force: bool = True,
    announce: bool = True,
) -> dict | None:
    """Remove an address from the list by hand; return the removed entry, None when it was
    not there.

    The removal also forgets the address's counted soft failures: only reports received after
    it may suppress the address again. With force=False an entry a complaint set is kept and
    ComplaintEntry raised (nothing written). `announce`: as for add_manual.
    """
    with db.atomic():
        current = suppressions.get(db, address, now)
        if current is not None and not force and current["source"] == "complaint":
            raise ComplaintEntry(current)
        removed = suppressions.remove(db, address, now)
        if removed is None:
            return None
        shown = removed["address"]
        changes.record(db, shown, "removed", now, by, reason)
        soft_failures.reset(db, shown)
        data = {
            "reason": removed["reason"],
            "class": removed["class"],
            "source": "manual",
            "by": by,
            "note": reason,
        }
        event = events.add(db, "suppression.removed", now, shown, data)
    if announce:
        notify.emit([event])
    return removed

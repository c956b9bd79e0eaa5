"""Operator edits of the suppression list, each with its event and its audit row, in one
transaction. Every manual change is stored with when, by whom (`cli:<user>`, later an API
token's name) and why (`bouncer.store.changes`)."""

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
) -> bool:
    """Suppress an address by hand; return True when it was not suppressed before.

    An existing entry becomes the operator's (reason, class, expiry; a permanent one stays
    permanent), so that no report or reprocess later withdraws it. The change is recorded even
    when the address was already suppressed; `suppression.added` only when it was not.
    """
    address = bare(address)
    request = SuppressionRequest(
        address, reason, bounce_class, "manual", expires_at=expires_at, note=reason
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
    notify.emit(written)
    return added


def remove_manual(db: Database, address: str, now: datetime, by: str, reason: str) -> bool:
    """Remove an address from the list by hand; return False when it was not there.

    The removal also forgets the address's counted soft failures: only reports received after
    it may suppress the address again.
    """
    with db.atomic():
        removed = suppressions.remove(db, address, now)
        if removed is None:
            return False
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
    notify.emit([event])
    return True

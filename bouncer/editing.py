"""Operator edits of the suppression list, each with its event, in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bouncer import notify
from bouncer.addresses import normalize
from bouncer.clock import to_iso
from bouncer.store import events, suppressions
from bouncer.store.suppressions import SuppressionRequest


def add_manual(
    db: Database,
    address: str,
    reason: str,
    bounce_class: str,
    expires_at: datetime | None,
    now: datetime,
) -> bool:
    """Suppress an address by hand; return True when it was not suppressed before."""
    request = SuppressionRequest(address, reason, bounce_class, "manual", expires_at=expires_at)
    with db.atomic():
        added = suppressions.upsert(db, request, now)
        data = {
            "reason": reason,
            "class": bounce_class,
            "source": "manual",
            "expires_at": to_iso(expires_at),
        }
        written = []
        if added:
            written.append(events.add(db, "suppression.added", now, normalize(address), data))
    notify.emit(written)
    return added


def remove_manual(db: Database, address: str, now: datetime) -> bool:
    """Remove an address from the list by hand; return False when it was not there."""
    with db.atomic():
        removed = suppressions.remove(db, address)
        if removed is None:
            return False
        data = {"reason": removed["reason"], "class": removed["class"], "source": "manual"}
        event = events.add(db, "suppression.removed", now, normalize(address), data)
    notify.emit([event])
    return True

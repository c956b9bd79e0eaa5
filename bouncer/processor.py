"""Process stored raw messages: parse, classify, and write records, suppressions and events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bouncer.addresses import normalize
from bouncer.analyse import Analysis, analyse_bytes
from bouncer.clock import from_iso
from bouncer.model import Entry, Verdict
from bouncer.store import events, inbox, records, suppressions
from bouncer.store.inbox import StoredMessage
from bouncer.store.suppressions import SuppressionRequest


@dataclass(frozen=True, slots=True)
class Processed:
    """The result of processing one stored message: its analysis and the events written."""

    message_id: int
    analysis: Analysis
    events: tuple[dict, ...]


def _suppression_for(message_id: int, kind: str, entry: Entry,
                     verdict: Verdict) -> SuppressionRequest | None:
    """Return the suppression a hard bounce or a complaint asks for, else None."""
    if kind == "complaint":
        source = "complaint"
    elif verdict.bounce_class == "hard" and kind == "bounce":
        source = "bounce"
    else:
        return None
    return SuppressionRequest(entry.address, verdict.reason, verdict.bounce_class, source,
                              verdict.status, entry.diagnostic, message_id)


def _entry_event_type(kind: str, verdict: Verdict) -> str | None:
    """Return the event a recorded entry raises, or None for non-failures."""
    if kind == "complaint":
        return "complaint"
    if verdict.bounce_class in ("hard", "soft") and kind in ("bounce", "delay"):
        return f"bounce.{verdict.bounce_class}"
    return None


def _event_data(analysis: Analysis, entry: Entry, verdict: Verdict, message_id: int) -> dict:
    """Return the data fields of an event about one entry."""
    original = analysis.report.original
    return {"status": verdict.status, "reason": verdict.reason, "class": verdict.bounce_class,
            "diagnostic": entry.diagnostic, "action": entry.action, "kind": analysis.report.kind,
            "original_message_id": original.message_id, "original_from": original.from_addr,
            "original_subject": original.subject, "message": message_id}


def _apply_entry(db: Database, message: StoredMessage, analysis: Analysis, entry: Entry,
                 verdict: Verdict, now: datetime) -> list[dict]:
    """Record one entry and apply what it implies; return the events written."""
    kind = analysis.report.kind
    received = from_iso(message.received_at) or now
    bounce_address = message.rcpt_to[0] if message.rcpt_to else None
    records.insert(db, message.id, received, bounce_address, analysis.report, entry, verdict)
    written = []
    recipient = normalize(entry.address)
    data = _event_data(analysis, entry, verdict, message.id)
    event_type = _entry_event_type(kind, verdict)
    if event_type:
        written.append(events.add(db, event_type, now, recipient, data))
    request = _suppression_for(message.id, kind, entry, verdict)
    if request and suppressions.upsert(db, request, now):
        added = {**data, "source": request.source, "expires_at": None}
        written.append(events.add(db, "suppression.added", now, recipient, added))
    return written


def _withdraw_stale(db: Database, message_id: int, kept: set[str], now: datetime) -> list[dict]:
    """Remove suppressions this message caused that its new analysis no longer supports."""
    written = []
    for address in suppressions.caused_by(db, message_id):
        if address not in kept and suppressions.remove(db, address):
            data = {"source": "reprocess", "message": message_id}
            written.append(events.add(db, "suppression.removed", now, address, data))
    return written


def process(db: Database, message: StoredMessage, now: datetime,
            class_overrides: Mapping[str, str] | None = None,
            *, reprocess: bool = False) -> Processed:
    """Analyse one stored message and write everything it implies in one transaction.

    With reprocess, earlier records of the message are replaced, suppressions it caused that the
    new analysis no longer supports are withdrawn, and only suppression changes raise events.
    """
    analysis = analyse_bytes(message.raw, class_overrides)
    written: list[dict] = []
    with db.atomic():
        records.delete_for_message(db, message.id)
        for entry, verdict in analysis.verdicts:
            written.extend(_apply_entry(db, message, analysis, entry, verdict, now))
        if reprocess:
            written = [e for e in written if e["type"].startswith("suppression.")]
            kept = {normalize(e.address) for e, v in analysis.verdicts
                    if _suppression_for(message.id, analysis.report.kind, e, v)}
            written.extend(_withdraw_stale(db, message.id, kept, now))
        inbox.mark_processed(db, message.id, analysis.report.kind, now)
    return Processed(message.id, analysis, tuple(written))

"""Process stored raw messages: parse, classify, and write records, deferrals, suppressions and
events in one transaction per message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bouncer import tracking
from bouncer.addresses import normalize
from bouncer.analyse import Analysis, analyse_bytes
from bouncer.clock import from_iso
from bouncer.model import Entry, Verdict
from bouncer.store import events, inbox, records, suppressions
from bouncer.store.inbox import StoredMessage
from bouncer.store.suppressions import SuppressionRequest
from bouncer.tracker import DEFAULT_POLICY, Policy


@dataclass(frozen=True, slots=True)
class Processed:
    """The result of processing one stored message: its analysis and the events written."""

    message_id: int
    analysis: Analysis
    events: tuple[dict, ...]


def static_suppression(
    message_id: int, kind: str, entry: Entry, verdict: Verdict
) -> SuppressionRequest | None:
    """Return the permanent suppression a hard bounce or complaint implies, else None."""
    if kind == "complaint" and (entry.feedback_type or "").lower() != "not-spam":
        source = "complaint"
    elif verdict.bounce_class == "hard" and kind == "bounce":
        source = "bounce"
    else:
        return None
    return SuppressionRequest(
        entry.original_recipient or entry.address,
        verdict.reason,
        verdict.bounce_class,
        source,
        verdict.status,
        entry.diagnostic,
        message_id,
    )


def _reapply_suppressions(
    db: Database, message_id: int, analysis: Analysis, now: datetime
) -> list[dict]:
    """On reprocessing: add what the new verdicts imply, withdraw what they no longer do."""
    written, kept = [], set()
    for entry, verdict in analysis.verdicts:
        request = static_suppression(message_id, analysis.report.kind, entry, verdict)
        if request is None:
            continue
        kept.add(normalize(request.address))
        if suppressions.upsert(db, request, now):
            data = {
                "reason": request.reason,
                "class": request.bounce_class,
                "source": request.source,
                "message": message_id,
            }
            written.append(
                events.add(db, "suppression.added", now, normalize(request.address), data)
            )
    for address in suppressions.caused_by(db, message_id):
        if address not in kept and suppressions.remove(db, address):
            data = {"source": "reprocess", "message": message_id}
            written.append(events.add(db, "suppression.removed", now, address, data))
    return written


def process(
    db: Database,
    message: StoredMessage,
    now: datetime,
    class_overrides: Mapping[str, str] | None = None,
    *,
    policy: Policy = DEFAULT_POLICY,
    reprocess: bool = False,
) -> Processed:
    """Analyse one stored message and write everything it implies in one transaction.

    With reprocess, the message's records are replaced and only its suppressions are revised
    (deferral history is not replayed, so no bounce or timer events are raised again).
    """
    analysis = analyse_bytes(message.raw, class_overrides)
    report = analysis.report
    received = from_iso(message.received_at) or now
    bounce_address = message.rcpt_to[0] if message.rcpt_to else None
    written: list[dict] = []
    with db.atomic():
        records.delete_for_message(db, message.id)
        for entry, verdict in analysis.verdicts:
            records.insert(db, message.id, received, bounce_address, report, entry, verdict)
            if not reprocess:
                written += tracking.track_entry(
                    db, report, entry, verdict, received, now, policy, message.id
                )
        if reprocess:
            written += _reapply_suppressions(db, message.id, analysis, now)
        inbox.mark_processed(db, message.id, report.kind, now)
    return Processed(message.id, analysis, tuple(written))

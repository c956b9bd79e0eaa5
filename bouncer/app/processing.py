"""Process stored raw messages: parse, classify, and write records, deferrals, suppressions and
events in one transaction per message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlite_utils import Database

from bouncer.app import alerts, tracking
from bouncer.app.tracking import policy_from
from bouncer.clock import from_iso
from bouncer.config import Config, VerpConfig
from bouncer.core.addresses import about, bare, is_placeholder
from bouncer.core.alerts import AlertPolicy
from bouncer.core.analyse import Analysis, analyse, analyse_bytes
from bouncer.core.dsn.fingerprint import fingerprint
from bouncer.core.model import Entry, Verdict
from bouncer.core.tracker import DEFAULT_POLICY, Policy
from bouncer.core.verp import Token, day_number
from bouncer.core.verp import decode as decode_verp
from bouncer.store import changes, events, inbox, records, suppressions
from bouncer.store.inbox import StoredMessage
from bouncer.store.records import Receipt
from bouncer.store.suppressions import SuppressionRequest

_NAMED_KINDS = ("bounce", "delay", "complaint")


@dataclass(frozen=True)
class Settings:
    """What processing takes from the configuration."""

    class_overrides: Mapping[str, str] = field(default_factory=dict)
    policy: Policy = DEFAULT_POLICY
    verp: VerpConfig = field(default_factory=VerpConfig)
    alerts: AlertPolicy = field(default_factory=AlertPolicy)

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        """Return the processing settings of a configuration."""
        return cls(
            config.class_overrides,
            policy_from(config.tracker),
            config.verp,
            alerts.policy_from(config.alerts),
        )


@dataclass(frozen=True, slots=True)
class Processed:
    """The result of processing one stored message: its analysis and the events written."""

    message_id: int
    analysis: Analysis
    events: tuple[dict, ...]
    tracked: bool = True  # False: an unverified report or a copy, recorded but not acted on
    duplicate_of: int | None = None  # the first stored copy of the same report


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
    address, final = about(entry.address, entry.original_recipient), bare(entry.address)
    return SuppressionRequest(
        address,
        verdict.reason,
        verdict.bounce_class,
        source,
        verdict.status,
        entry.diagnostic,
        message_id,
        final_recipient=None if final.lower() == address.lower() else final,
    )


def _reapply_suppressions(
    db: Database, receipt: Receipt, analysis: Analysis, now: datetime, bound: str | None = None
) -> list[dict]:
    """On reprocessing: add what the new verdicts imply, withdraw what they no longer do.

    An address an operator removed after the message was received is left alone: only newer
    evidence may suppress it again. A bounce received while its provider was blocking the
    sender suppresses only when its status names the recipient (bouncer.core.holds).
    """
    written, kept = [], set()
    for entry, verdict in analysis.verdicts:
        request = static_suppression(receipt.message_id, analysis.report.kind, entry, verdict)
        if request is None or not _acts_on(db, entry, bound):
            continue
        if alerts.held_by(db, analysis.report.kind, entry, verdict, receipt.received_at):
            continue  # received while its provider was blocking the sender
        kept.add(db.identity.key(request.address))
        removed = changes.removed_at(db, request.address)
        if removed is not None and receipt.received_at <= removed:
            continue
        if suppressions.upsert(db, request, now):
            data = {
                "final_recipient": request.final_recipient,
                "reason": request.reason,
                "class": request.bounce_class,
                "source": request.source,
                "message": receipt.message_id,
            }
            shown = {name: value for name, value in data.items() if value is not None}
            written.append(events.add(db, "suppression.added", now, request.address, shown))
    for address in suppressions.caused_by(db, receipt.message_id):
        if db.identity.key(address) not in kept and suppressions.remove(db, address, now):
            data = {"source": "reprocess", "message": receipt.message_id}
            written.append(events.add(db, "suppression.removed", now, address, data))
    return written


def verp_token(message: StoredMessage, verp: VerpConfig, now: datetime) -> Token | None:
    """Return the signed VERP token of the message's first bounce address that has one."""
    if not verp.keys:
        return None
    for address in message.rcpt_to:
        token = decode_verp(address, verp.secrets(), day_number(now), verp.max_age.days)
        if token is not None:
            return token
    return None


def name_verp_recipient(
    analysis: Analysis, token: Token | None, class_overrides: Mapping[str, str]
) -> Analysis:
    """Let a valid VERP token name the recipient where the report names none or a placeholder.

    A complaint about one message is about the recipient its signed return path names (RFC 6650:
    reports are often redacted), whatever address the returned headers show.
    """
    report = analysis.report
    if token is None or not token.valid or report.kind not in _NAMED_KINDS:
        return analysis
    own_message = report.kind == "complaint" and len(report.entries) <= 1
    entries = tuple(
        replace(e, address=token.recipient) if own_message or is_placeholder(e.address) else e
        for e in report.entries
    )
    if not entries:
        entries = (Entry(token.recipient, action="failed" if report.kind == "bounce" else None),)
    if entries == report.entries:
        return analysis
    return analyse(replace(report, entries=entries), class_overrides)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A stored message parsed and classified, ready to be written (no database touched)."""

    message: StoredMessage
    analysis: Analysis
    token: Token | None
    copy_of: str  # the report's fingerprint


def prepare(message: StoredMessage, now: datetime, settings: Settings | None = None) -> Prepared:
    """Parse and classify a stored message, outside any database transaction (pure)."""
    settings = settings or Settings()
    token = verp_token(message, settings.verp, now)
    analysis = analyse_bytes(message.raw, settings.class_overrides)
    analysis = name_verp_recipient(analysis, token, settings.class_overrides)
    return Prepared(message, analysis, token, fingerprint(message.raw))


def process(
    db: Database,
    message: StoredMessage,
    now: datetime,
    settings: Settings | None = None,
    *,
    reprocess: bool = False,
) -> Processed:
    """Analyse one stored message, then write everything it implies in one transaction."""
    settings = settings or Settings()
    prepared = prepare(message, now, settings)
    with db.atomic():
        return write(db, prepared, now, settings, reprocess=reprocess)


def write(
    db: Database,
    prepared: Prepared,
    now: datetime,
    settings: Settings,
    *,
    reprocess: bool = False,
) -> Processed:
    """Write a prepared message's records, deferrals, suppressions and events (in the caller's
    transaction).

    With reprocess, the message's records are replaced and only its suppressions are revised
    (deferral history is not replayed, so no bounce or timer events are raised again). A copy
    of a report already received (same fingerprint, received within the days before it that
    `inbox.first_copy` looks at: an MTA sending again after a lost 250, a report routed twice)
    is stored and marked processed, but writes no records and acts on nothing: each report
    counts once, in the log and the stats too. When `verp.require_valid`
    is set, a report without a valid signed return path is recorded but changes nothing, and
    one with a valid token acts only on the recipient the token names (a forged report naming
    someone else changes nothing for them).
    """
    message, analysis, token = prepared.message, prepared.analysis, prepared.token
    received_at = from_iso(message.received_at) or now
    first = inbox.first_copy(db, prepared.copy_of, received_at)
    duplicate_of = first if first is not None and first < message.id else None
    tracked = not settings.verp.require_valid or bool(token and token.valid)
    tracked = tracked and duplicate_of is None
    receipt = Receipt(
        message.id,
        received_at,
        message.rcpt_to[0] if message.rcpt_to else None,
        token.recipient if token else None,
        token.valid if token else None,
    )
    bound = token.recipient if settings.verp.require_valid and token and token.valid else None
    written: list[dict] = []
    if duplicate_of is None:
        track = tracked and not reprocess
        written = _write(db, receipt, analysis, now, settings, track, bound, fresh=not reprocess)
    else:
        records.delete_for_message(db, message.id)  # the first copy holds the records
    if tracked and reprocess:
        written += _reapply_suppressions(db, receipt, analysis, now, bound)
    inbox.mark_processed(db, message.id, analysis.report.kind, now, prepared.copy_of)
    return Processed(message.id, analysis, tuple(written), tracked, duplicate_of)


def _acts_on(db: Database, entry: Entry, bound: str | None) -> bool:
    """Tell whether a report may act on an entry: any real address, or only the address a
    valid signed return path names when tokens are required."""
    if is_placeholder(entry.address):
        return False
    if bound is None:
        return True
    subject = about(entry.address, entry.original_recipient)
    return db.identity.key(subject) == db.identity.key(bound)


def _write(
    db: Database,
    receipt: Receipt,
    analysis: Analysis,
    now: datetime,
    settings: Settings,
    track: bool,
    bound: str | None = None,
    *,
    fresh: bool = True,
) -> list[dict]:
    """Replace the message's records; when `fresh` (not a reprocess), count its failures for
    the alerts; with `track`, run each entry through the tracker (held back while its
    provider blocks the sender: the alerts are decided first, so the report that opens a
    `sender.blocked` episode is held too)."""
    records.delete_for_message(db, receipt.message_id)
    for entry, verdict in analysis.verdicts:
        records.insert(db, receipt, analysis.report, entry, verdict)
    written: list[dict] = []
    if fresh:
        found = alerts.failures_of(
            analysis, receipt.received_at, lambda entry: track and _acts_on(db, entry, bound)
        )
        written += alerts.count(db, found, settings.alerts, now)
    for entry, verdict in analysis.verdicts:
        if track and _acts_on(db, entry, bound):
            held = alerts.held_by(db, analysis.report.kind, entry, verdict, receipt.received_at)
            written += tracking.track_entry(
                db,
                analysis.report,
                entry,
                verdict,
                receipt.received_at,
                now,
                settings.policy,
                receipt.message_id,
                held_by=held,
            )
    return written

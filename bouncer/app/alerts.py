"""Run the alerts against the store: count each new report's failures and decide the scopes
they touch (in the processing transaction), re-decide open episodes and prune old counts (in
each sweep step), and say whether a recipient's provider was blocking the sender.

The decisions are bouncer.core.alerts' and bouncer.core.episodes'; this module reads the
counts and episodes they need and writes what they return: bucket counts, episode rows and the
events (`failures.spike`, `sender.blocked`, and their `_ended` events), which reach the log
and the webhooks like every other event row. The work per report is a few indexed reads per
scope it touches (the overall count, its recipient domains, blocked providers); per sweep
step, one decision per open episode and a bounded prune.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

from bouncer.config import AlertsConfig
from bouncer.core import episodes
from bouncer.core.addresses import about
from bouncer.core.alerts import (
    OVERALL,
    AlertPolicy,
    Failure,
    Rule,
    alert_scopes,
    failure,
    receiver,
    tally,
)
from bouncer.core.episodes import Episode
from bouncer.core.holds import withheld
from bouncer.core.model import Entry, Verdict
from bouncer.core.tracker_types import Event
from bouncer.store import alerts, events

if TYPE_CHECKING:  # the parser is not needed to count, only to name the type
    from bouncer.core.analyse import Analysis


def policy_from(config: AlertsConfig) -> AlertPolicy:
    """Return the alert policy the configuration asks for."""
    return AlertPolicy(
        enabled=config.enabled,
        threshold=config.threshold,
        window=config.window,
        domain_threshold=config.domain_threshold,
        blocked_threshold=config.blocked_threshold,
        blocked_window=config.blocked_window,
    )


def failures_of(
    analysis: Analysis, received_at: datetime, acts: Callable[[Entry], bool]
) -> list[Failure]:
    """Return the failures a new report counts as (`acts(entry)`: the report may act on that
    recipient, so a block failure counts toward `sender.blocked`)."""
    found = (
        failure(entry, verdict, received_at, acts(entry)) for entry, verdict in analysis.verdicts
    )
    return [item for item in found if item is not None]


def count(
    db: Database, failures: list[Failure], policy: AlertPolicy, recorded_at: datetime
) -> list[dict]:
    """Add a report's failures to their buckets, then decide every alerting scope they count
    in (each at its sample failure's receipt); return the events written."""
    if not policy.enabled or not failures:
        return []
    alerts.add_counts(db, tally(failures, policy))
    written: list[dict] = []
    open_now = alerts.open_episodes(db)
    for scope, sample in alert_scopes(failures, policy).items():
        current = open_now.get(scope)
        written += _decide(db, scope, sample.at, policy, recorded_at, current, sample)
    return written


def sweep_step(
    db: Database, now: datetime, policy: AlertPolicy, recorded_at: datetime, limit: int
) -> tuple[list[dict], bool]:
    """Decide up to `limit` open episodes not decided since before `now` (so an episode ends
    when traffic stops) and prune up to `limit` buckets older than every window. Returns
    (events written, whether more is left). With alerts disabled, open episodes end now."""
    due = alerts.unchecked(db, now, limit)
    written: list[dict] = []
    for episode in due:  # each is decided at `now` and saved so: the next step skips it
        written += _decide(db, episode.scope, now, policy, recorded_at, episode, lazy=False)
    pruned = alerts.prune_counts(db, now - policy.span(), limit)
    return written, max(len(due), pruned) >= limit


def held_by(db: Database, kind: str, entry: Entry, verdict: Verdict, at: datetime) -> str | None:
    """Return the provider of the entry's recipient when a `sender.blocked` episode was open
    there at `at` (the report's receipt) and the entry is of the kind it holds back (a bounce
    whose status does not name the recipient), else None."""
    if not withheld(kind, verdict.status or entry.status):
        return None
    provider = receiver(about(entry.address, entry.original_recipient), entry.remote_mta)
    return provider if alerts.during(db, f"provider:{provider}", at) else None


def _decide(
    db: Database,
    scope: str,
    at: datetime,
    policy: AlertPolicy,
    recorded_at: datetime,
    current: Episode | None,
    sample: Failure | None = None,
    *,
    lazy: bool = True,
) -> list[dict]:
    """Decide one scope at `at` (never before its last decision): open, keep or close.

    `current` is the scope's open episode (None: none is open); a scope without one costs
    one indexed sum unless its count reaches the threshold. `lazy`: an episode kept open is
    rewritten only when its peak rises or a bucket has passed since its last decision.
    """
    rule = policy.rule(scope)
    latest = current
    if latest is None:
        if not rule.crossed(alerts.total(db, scope, *rule.bounds(at))):
            return []
        latest = alerts.latest(db, scope)  # an ended episode: when the scope was last decided
    at = episodes.decision_time(latest, at)
    counted = alerts.total(db, scope, *rule.bounds(at))
    action = episodes.decide(latest, counted, rule)
    if action == "keep":
        kept = episodes.kept(latest, at, counted, rule.width if lazy else timedelta(0))
        if kept != latest:
            alerts.save(db, kept)
    elif action == "close":
        return [_close(db, latest, at, rule, recorded_at)]
    elif action == "open":
        summary = _summary(db, scope, at, rule)
        episode, event = episodes.opened(scope, at, counted, rule, sample, summary)
        stored = _store(db, event, recorded_at)
        alerts.save(db, replace(episode, event_id=stored["id"]))
        return [stored]
    return []


def _close(
    db: Database, episode: Episode, now: datetime, rule: Rule, recorded_at: datetime
) -> dict:
    """End an episode at the moment its count fell (between its last decision and `now`)."""
    after, _ = rule.bounds(episode.checked_at)
    seen = alerts.buckets(db, episode.scope, after, now)
    end = episodes.end_time(seen, rule, episode.checked_at, now)
    closed, event = episodes.ended(
        episode, end, alerts.total(db, episode.scope, *rule.bounds(end)), rule
    )
    alerts.save(db, closed)
    return _store(db, event, recorded_at)


def _summary(db: Database, scope: str, at: datetime, rule: Rule) -> dict[str, list[dict]]:
    """Return what an overall spike adds: the five recipient domains and reasons with the most
    failures in its window, most first ([{"domain": ..., "count": ...}, ...])."""
    if scope != OVERALL:
        return {}
    after, until = rule.bounds(at)
    return {
        f"{kind}s": [{kind: name, "count": n} for name, n in alerts.top(db, kind, after, until)]
        for kind in ("domain", "reason")
    }


def _store(db: Database, event: Event, recorded_at: datetime) -> dict:
    """Write an alert event (reason, status, class and diagnostic when it quotes a failure)."""
    quoted = {
        "status": event.status,
        "reason": event.reason,
        "class": event.bounce_class,
        "diagnostic": event.diagnostic,
    }
    data = {name: value for name, value in {**quoted, **event.data}.items() if value is not None}
    return events.add(db, event.type, event.at, event.recipient, data, recorded_at)

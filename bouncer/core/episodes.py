"""Alert episodes (pure): when a scope's count opens an episode, keeps it, or ends it, and the
events that say so.

A `failures.spike` (scopes `all` and `domain:`) or `sender.blocked` (scope `provider:`)
episode opens when the count in the window reaches the scope's threshold and fires its event
once; it stays open, firing nothing, while the count stays at half the threshold or more
(hysteresis: a count hovering at the threshold does not flap), and ends when the count falls
below half, firing `failures.spike_ended` / `sender.blocked_ended` at the moment it fell (when
the last bucket that held it up left the window). The end events keep the two-part names of
every other type (`delivery.given_up`), so webhook filters list them plainly. The counting is
`bouncer.core.alerts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bouncer.core.alerts import Failure, Rule, scope_fields, scope_kind, window_count
from bouncer.core.tracker_types import Event

SPIKE, SPIKE_ENDED = "failures.spike", "failures.spike_ended"
BLOCKED, BLOCKED_ENDED = "sender.blocked", "sender.blocked_ended"
ALERT_TYPES = (SPIKE, SPIKE_ENDED, BLOCKED, BLOCKED_ENDED)


@dataclass(frozen=True, slots=True)
class Episode:
    """An alert episode of one scope: open until `ended_at` is set.

    `count`: failures in the window when it opened; `peak`: the most seen in it since;
    `checked_at`: the last moment it was decided at; `event_id`: its opening event's id.
    """

    scope: str
    opened_at: datetime
    checked_at: datetime
    count: int
    peak: int
    event_id: str = ""
    ended_at: datetime | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        """Tell whether the episode has not ended."""
        return self.ended_at is None

    @property
    def type(self) -> str:
        """Return the type of its opening event."""
        return BLOCKED if scope_kind(self.scope) == "provider" else SPIKE


def decision_time(latest: Episode | None, at: datetime) -> datetime:
    """Return the moment to decide a scope at: `at`, but never before the scope's last
    decision (a late report, received before it, cannot move an episode back in time)."""
    if latest is None:
        return at
    last = latest.checked_at if latest.is_open else latest.ended_at
    return max(at, last) if last is not None else at


def decide(latest: Episode | None, count: int, rule: Rule) -> str:
    """Say what a scope's count means for its latest episode: "open" (none open and the
    count reaches the threshold), "keep" (open and not subsided), "close" (open and below
    half the threshold, or its alert turned off) or "none"."""
    if latest is not None and latest.is_open:
        return "close" if rule.subsided(count) else "keep"
    return "open" if rule.crossed(count) else "none"


def end_time(
    buckets: Sequence[tuple[datetime, int]], rule: Rule, since: datetime, until: datetime
) -> datetime:
    """Return the first moment in (since, until] the count fell below half the threshold:
    when a bucket left the window (`until` when none did, or the alert is off)."""
    if not rule.on:
        return until
    leaving = {start + rule.window + rule.width for start, _ in buckets}
    for moment in sorted(m for m in leaving if since < m < until):
        if rule.subsided(window_count(buckets, rule, moment)):
            return moment
    return until


def opened(
    scope: str,
    at: datetime,
    count: int,
    rule: Rule,
    sample: Failure | None = None,
    summary: Mapping[str, object] | None = None,
) -> tuple[Episode, Event]:
    """Open an episode at `at` with `count` failures in the window; return it and its event.

    A `sender.blocked` event quotes the sample failure: reason, status, the remote server's
    text and host. `summary` adds fields (the top domains and reasons of a spike).
    """
    episode = Episode(scope, at, at, count, count)
    data = {
        **scope_fields(scope),
        "count": count,
        "threshold": rule.threshold,
        "window_seconds": int(rule.window.total_seconds()),
        "since": at - rule.window,
        **(summary or {}),
    }
    quoted = sample if episode.type == BLOCKED else None
    if quoted is not None and quoted.remote_mta:
        data["remote_mta"] = quoted.remote_mta
    event = Event(
        episode.type,
        at,
        None,
        status=quoted.status if quoted else None,
        reason=quoted.reason if quoted else None,
        bounce_class="soft" if quoted else None,
        diagnostic=quoted.diagnostic if quoted else None,
        data=data,
    )
    return episode, event


def kept(episode: Episode, at: datetime, count: int, within: timedelta = timedelta(0)) -> Episode:
    """Return an open episode decided again at `at` with `count` in the window.

    It comes back unchanged (nothing to write) when its peak does not rise and less than
    `within` has passed since its last decision: a decision after every report need not
    rewrite its row when `within` is a bucket width, as an end is found to within a bucket.
    """
    peak = max(episode.peak, count)
    if peak == episode.peak and at - episode.checked_at < within:
        return episode
    return replace(episode, checked_at=max(at, episode.checked_at), peak=peak)


def ended(episode: Episode, at: datetime, count: int, rule: Rule) -> tuple[Episode, Event]:
    """Close an episode at `at` (count: failures then in the window); return it and its event,
    which names the opening event (`episode`) and says how long it lasted."""
    closed = replace(episode, checked_at=at, ended_at=at)
    data = {
        **scope_fields(episode.scope),
        "count": count,
        "peak": episode.peak,
        "threshold": rule.threshold,
        "window_seconds": int(rule.window.total_seconds()),
        "opened_at": episode.opened_at,
        "duration_seconds": int((at - episode.opened_at).total_seconds()),
        "episode": episode.event_id or None,
    }
    end_type = BLOCKED_ENDED if episode.type == BLOCKED else SPIKE_ENDED
    return closed, Event(end_type, at, None, data={k: v for k, v in data.items() if v is not None})

"""Failure-spike and sender-block alerts (pure): what is counted, in which scopes, with which
thresholds and windows.

Every failure bouncer records (a bounce record of class hard or soft, as `bouncer stats`
counts them) is counted at the time bouncer received its report, in buckets per *scope*:
`all`, `domain:<recipient domain>`, `reason:<reason>` and, for failures saying the receiving
provider refuses the sender (BLOCK_REASONS), `provider:<provider>`. A scope's count at a moment
is the sum of its buckets in the window ending then; a bucket is 1/60 of the window (at least
one second), so a count is exact to within one bucket at the window's far edge, and the work
per count does not grow with traffic. Thresholds and windows are injected (AlertPolicy); time
is always an argument. What a count means for an episode: `bouncer.core.episodes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from bouncer.core.addresses import about
from bouncer.core.model import Entry, Verdict

OVERALL = "all"

# Failures that say the receiving provider refuses the *sender*, whoever the recipient: its IP
# or host (blocked: a blocklist; requireptr: no reverse DNS), its reputation (badreputation;
# spamdetected: the provider calls the sender's mail spam), its domain or address (rejected:
# the envelope sender refused; authfailure: SPF/DKIM/DMARC). Sisimai's reason names; a run of
# them at one provider is the sender being blocked there (README, "Alerts").
BLOCK_REASONS = frozenset(
    {"authfailure", "badreputation", "blocked", "rejected", "requireptr", "spamdetected"}
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Rule:
    """A scope's threshold (failures in `window`; 0: no alert for it) and its bucket width."""

    threshold: int
    window: timedelta
    width: timedelta = field(init=False, repr=False, compare=False)  # of a bucket

    def __post_init__(self) -> None:
        """Set the bucket width: 1/60 of the window in whole seconds, at least one."""
        step = max(int(self.window.total_seconds()) // 60, 1)
        object.__setattr__(self, "width", timedelta(seconds=step))

    @property
    def on(self) -> bool:
        """Tell whether the scope alerts at all."""
        return self.threshold > 0

    def bucket(self, at: datetime) -> datetime:
        """Return the start of the bucket a failure at `at` is counted in."""
        step = self.width.days * 86400 + self.width.seconds
        seconds = int((_aware(at) - _EPOCH).total_seconds())
        return _EPOCH + timedelta(seconds=seconds - seconds % step)

    def bounds(self, at: datetime) -> tuple[datetime, datetime]:
        """Return (after, until): the window ending at `at` holds buckets starting in
        (after, until]; a bucket counts while any part of it is inside the window."""
        return at - self.window - self.width, at

    def crossed(self, count: int) -> bool:
        """Tell whether a count opens an episode (reaches the threshold)."""
        return self.on and count >= self.threshold

    def subsided(self, count: int) -> bool:
        """Tell whether a count ends an episode: below half the threshold (or alerts off)."""
        return not self.on or 2 * count < self.threshold


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Alert settings (bouncer.toml [alerts]).

    `threshold` failures in `window` at all receiving domains open a `failures.spike`;
    `domain_threshold` in `window` at one recipient domain opens one for that domain;
    `blocked_threshold` block failures (BLOCK_REASONS) in `blocked_window` from one receiving
    provider open a `sender.blocked`. A threshold of 0 turns that alert off; `enabled` False
    turns counting and alerts off. Default 1,000 an hour: the figure support pages give for
    failures in a short time that deserve attention.
    """

    enabled: bool = True
    threshold: int = 1000
    window: timedelta = timedelta(hours=1)
    domain_threshold: int = 500
    blocked_threshold: int = 20
    blocked_window: timedelta = timedelta(minutes=10)
    rules: Mapping[str, Rule] = field(init=False, repr=False, compare=False)  # by scope kind

    def __post_init__(self) -> None:
        """Make the rule of each kind of scope once (a `reason:` scope is counted, never
        alerted on; with alerts disabled no scope is)."""
        on = self.enabled
        rules = {
            "all": Rule(self.threshold if on else 0, self.window),
            "domain": Rule(self.domain_threshold if on else 0, self.window),
            "reason": Rule(0, self.window),
            "provider": Rule(self.blocked_threshold if on else 0, self.blocked_window),
        }
        object.__setattr__(self, "rules", MappingProxyType(rules))

    def rule(self, scope: str) -> Rule:
        """Return the rule of a scope."""
        return self.rules[scope_kind(scope)]

    def span(self) -> timedelta:
        """Return how far back a bucket can still count (the longest window and its bucket)."""
        rules = (Rule(1, self.window), Rule(1, self.blocked_window))
        return max(rule.window + rule.width for rule in rules)


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed recipient as the alerts count it; `provider` is set only for a block
    failure of a report that may act (the receiving provider it names the sender blocked at)."""

    at: datetime
    domain: str  # the recipient's domain, lower case ("" when the report names nobody)
    reason: str
    provider: str | None = None
    status: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None


def receiver(recipient: str, remote_mta: str | None) -> str:
    """Name the receiving provider of a recipient: a provider bouncer knows by the recipient's
    domain or the remote host (`provider_for`), else the recipient's domain, lower case.

    The reporting MTA is left out: it is usually the sender's own server.
    """
    # imported here: the provider tables cost a command that only sweeps (`bouncer sweep`)
    # ~15 ms of start-up, and only processing names providers
    from bouncer.core.rules.providers import provider_for

    provider = provider_for(recipient, remote_mta)
    return provider.name if provider else recipient.rpartition("@")[2].lower()


def failure(entry: Entry, verdict: Verdict, at: datetime, acts: bool = True) -> Failure | None:
    """Return the failure an entry counts as (None unless its class is hard or soft).

    `acts`: the report may act on this recipient (a signed return path, when one is required);
    only then can it count toward `sender.blocked`, which changes what happens to recipients.
    """
    if verdict.bounce_class not in ("hard", "soft"):
        return None
    recipient = about(entry.address, entry.original_recipient)
    domain = recipient.rpartition("@")[2].lower() if "@" in recipient else ""
    blocked = acts and domain and verdict.reason in BLOCK_REASONS
    return Failure(
        at,
        domain,
        verdict.reason,
        receiver(recipient, entry.remote_mta) if blocked else None,
        verdict.status or entry.status,
        entry.diagnostic,
        entry.remote_mta,
    )


def counted_scopes(found: Failure, policy: AlertPolicy) -> list[str]:
    """Return every scope a failure is counted in (providers only while that alert is on)."""
    scopes = [OVERALL, f"reason:{found.reason}"]
    if found.domain:
        scopes.append(f"domain:{found.domain}")
    if found.provider and policy.blocked_threshold > 0:
        scopes.append(f"provider:{found.provider}")
    return scopes


def tally(failures: Iterable[Failure], policy: AlertPolicy) -> dict[tuple[str, datetime], int]:
    """Return what to add to the buckets: {(scope, bucket start): failures}."""
    added: dict[tuple[str, datetime], int] = {}
    for found in failures:
        for scope in counted_scopes(found, policy):
            key = (scope, policy.rule(scope).bucket(found.at))
            added[key] = added.get(key, 0) + 1
    return added


def alert_scopes(failures: Iterable[Failure], policy: AlertPolicy) -> dict[str, Failure]:
    """Return the scopes with an alert that the failures count in, each with its last failure
    (the sample an opening event quotes), in the order first seen."""
    touched: dict[str, Failure] = {}
    for found in failures:
        for scope in counted_scopes(found, policy):
            if policy.rule(scope).on:
                touched[scope] = found
    return touched


def scope_kind(scope: str) -> str:
    """Return a scope's kind: all, domain, provider or reason."""
    return scope.partition(":")[0]


def scope_fields(scope: str) -> dict[str, str]:
    """Return how an event names its scope: {"scope": "all"} or {"scope": "domain",
    "domain": "example.com"} (likewise "provider")."""
    kind, _, name = scope.partition(":")
    return {"scope": kind, kind: name} if name else {"scope": kind}


def window_count(buckets: Sequence[tuple[datetime, int]], rule: Rule, at: datetime) -> int:
    """Return the failures in the window ending at `at`, from (bucket start, count) pairs."""
    after, until = rule.bounds(at)
    return sum(count for start, count in buckets if after < start <= until)


def _aware(moment: datetime) -> datetime:
    """Take a naive time as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

"""The daemon's Prometheus metrics (prometheus-client), served at /metrics.

Counters move where things happen: the SMTP edge (messages received, stored, spooled or not
stored, replies by code), the processor (bounce records by class and reason, messages whose
processing failed, the latency from the 250 reply to the records being committed). Gauges of
what is active now (suppressions, open deferrals, webhook deliveries pending) are read from the
store when scraped (`stats.gauges`, indexed counts); the messages waiting in the local spool
are counted by its forwarder (bouncer.daemon.spool). Each daemon has a registry of its own,
never the library's global one, so several daemons in one process (tests) keep apart.

With worker processes (smtp.processes above 1) the counters move in the intake and processing
processes: each keeps a `Metrics(relay=True)` and reports what moved (`relay()`, every second
on its control channel); the main process adds it to its own (`absorb()`), so /metrics shows
the daemon's totals and they never go down when a worker process is restarted (at most its
last second is lost). A worker process times the latency from the message's receipt time
(wall clock), since the 250 was sent by another process.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds from 250 to committed records: ~10 ms on an idle daemon, seconds under a backlog.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_PENDING_LIMIT = 100_000  # receipt times kept for the latency (a backlog beyond is not timed)
_RELAYED_DIGITS = 3  # significant digits of a relayed latency (observations grouped by value)


class Metrics:
    """The counters, gauges and histogram of one daemon, in its own registry."""

    def __init__(self, *, relay: bool = False) -> None:
        """`relay`: a worker process's metrics, reported to the main process by `relay()`."""
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter(
            "bouncer_messages_received", "Messages whose DATA phase ended.", registry=r
        )
        self.stored = Counter(
            "bouncer_messages_stored", "Messages committed to the store (then 250).", registry=r
        )
        self.spooled = Counter(
            "bouncer_messages_spooled",
            "Messages committed to the local spool while the shared store was away (then 250).",
            registry=r,
        )
        self.spool_waiting = Gauge(
            "bouncer_spooled_messages",
            "Messages waiting in the local spool for the shared store (PostgreSQL).",
            registry=r,
        )
        self.failed = Counter(
            "bouncer_messages_failed",
            "Messages not stored (451) or whose processing failed, by stage (store, process).",
            ["stage"],
            registry=r,
        )
        self.replies = Counter(
            "bouncer_smtp_replies", "SMTP replies sent, by reply code.", ["code"], registry=r
        )
        self.bounces = Counter(
            "bouncer_bounces",
            "Bounce records written, by class and reason.",
            ["class", "reason"],
            registry=r,
        )
        self.latency = Histogram(
            "bouncer_processing_seconds",
            "Seconds from a message's 250 reply to its records being committed.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.suppressions = Gauge("bouncer_suppressions", "Active suppressions.", registry=r)
        self.open_deferrals = Gauge("bouncer_deferrals_open", "Open deferrals.", registry=r)
        self.pending_deliveries = Gauge(
            "bouncer_webhook_deliveries_pending",
            "Events waiting for delivery to a webhook.",
            registry=r,
        )
        self.events = Counter(
            "bouncer_events",
            "Events committed, by type (alerts too: failures.spike, sender.blocked, ...).",
            ["type"],
            registry=r,
        )
        self.alerts_open = Gauge(
            "bouncer_alerts_open",
            "Alert episodes open now, by type (failures.spike, sender.blocked).",
            ["type"],
            registry=r,
        )
        self._stored_at: dict[int, float] = {}
        self._lock = threading.Lock()
        self._counters = {
            "bouncer_messages_received": self.received,
            "bouncer_messages_stored": self.stored,
            "bouncer_messages_spooled": self.spooled,
            "bouncer_messages_failed": self.failed,
            "bouncer_smtp_replies": self.replies,
            "bouncer_bounces": self.bounces,
            "bouncer_events": self.events,
        }
        self._relaying = relay
        self._sent: dict[tuple, float] = {}
        self._observed: Tally[float] = Tally()

    def reply(self, line: str) -> None:
        """Count one SMTP reply by its code (the first three characters)."""
        code = line[:3]
        self.replies.labels(code if code.isdigit() else "other").inc()

    def message_stored(self, message_id: int) -> None:
        """Count a committed message and note when, for the processing latency."""
        self.stored.inc()
        with self._lock:
            if len(self._stored_at) < _PENDING_LIMIT:
                self._stored_at[message_id] = time.monotonic()

    def message_processed(
        self,
        message_id: int,
        verdicts: Iterable[tuple[str, str]],
        received: float | None = None,
    ) -> None:
        """Count a processed message's records ((class, reason) each) and observe its latency:
        from its message_stored() call, or in a worker process (another process stored it)
        from `received`, its receipt time in seconds since the epoch."""
        for bounce_class, reason in verdicts:
            self.bounces.labels(bounce_class, reason).inc()
        with self._lock:
            stored = self._stored_at.pop(message_id, None)
        if stored is not None:
            self._latency(time.monotonic() - stored)
        elif received is not None and self._relaying:
            self._latency(max(0.0, time.time() - received))

    def message_failed(self, message_id: int | None, stage: str) -> None:
        """Count a message not stored (stage "store") or not processed (stage "process")."""
        self.failed.labels(stage).inc()
        if message_id is not None:
            with self._lock:
                self._stored_at.pop(message_id, None)

    def _latency(self, seconds: float) -> None:
        self.latency.observe(seconds)
        if self._relaying:
            with self._lock:
                self._observed[float(f"{seconds:.{_RELAYED_DIGITS}g}")] += 1

    def relay(self) -> dict | None:
        """Return what moved since the last call, None when nothing did (a worker process's
        report): {"counts": [[metric, labels, increment], ...], "latency": [[seconds, n], ...]}
        (latencies rounded to 3 significant digits, grouped)."""
        counts = []
        for name, labels, value in self._totals():
            key = (name, tuple(sorted(labels.items())))
            if moved := value - self._sent.get(key, 0.0):
                counts.append([name, labels, moved])
                self._sent[key] = value
        with self._lock:
            latency, self._observed = sorted(self._observed.items()), Tally()
        return {"counts": counts, "latency": latency} if counts or latency else None

    def _totals(self) -> Iterator[tuple[str, dict[str, str], float]]:
        """Yield (counter name, labels, total so far) of every counter's labelled series."""
        for name, counter in self._counters.items():
            for family in counter.collect():
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        yield name, sample.labels, sample.value

    def absorb(self, moved: dict) -> None:
        """Add a worker process's report (`relay()`'s value) to these metrics; what does not
        name a known counter is ignored."""
        for name, labels, increment in moved.get("counts", ()):
            counter = self._counters.get(name)
            if counter is not None and increment > 0:
                (counter.labels(**labels) if labels else counter).inc(increment)
        for seconds, times in moved.get("latency", ()):
            for _ in range(min(int(times), _PENDING_LIMIT)):
                self.latency.observe(seconds)

    def set_gauges(self, values: dict[str, int]) -> None:
        """Set the gauges from `bouncer.store.stats.gauges`."""
        self.suppressions.set(values["suppressions"])
        self.open_deferrals.set(values["open_deferrals"])
        self.pending_deliveries.set(values["pending_deliveries"])
        for kind in ("failures.spike", "sender.blocked"):
            self.alerts_open.labels(kind).set(values.get(f"alerts_open:{kind}", 0))

    def events_committed(self, rows: Iterable[dict]) -> None:
        """Count committed events by type (rows as `bouncer.store.events.search` lists them)."""
        for row in rows:
            self.events.labels(row["type"]).inc()

    def render(self) -> bytes:
        """Return every metric in the Prometheus text format."""
        return generate_latest(self.registry)

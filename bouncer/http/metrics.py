"""The daemon's Prometheus metrics (prometheus-client), served at /metrics.

Counters move where things happen: the SMTP edge (messages received, stored or not stored,
replies by code), the processor (bounce records by class and reason, messages whose processing
failed, the latency from the 250 reply to the records being committed). Gauges of what is
active now (suppressions, open deferrals, webhook deliveries pending) are read from the store
when scraped (`stats.gauges`, indexed counts). Each daemon has a registry of its own, never the
library's global one, so several daemons in one process (tests) keep apart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds from 250 to committed records: ~10 ms on an idle daemon, seconds under a backlog.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_PENDING_LIMIT = 100_000  # receipt times kept for the latency (a backlog beyond is not timed)


class Metrics:
    """The counters, gauges and histogram of one daemon, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter(
            "bouncer_messages_received", "Messages whose DATA phase ended.", registry=r
        )
        self.stored = Counter(
            "bouncer_messages_stored", "Messages committed to the store (then 250).", registry=r
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

    def message_processed(self, message_id: int, verdicts: Iterable[tuple[str, str]]) -> None:
        """Count a processed message's records ((class, reason) each) and observe its latency."""
        for bounce_class, reason in verdicts:
            self.bounces.labels(bounce_class, reason).inc()
        self._observe(message_id)

    def message_failed(self, message_id: int | None, stage: str) -> None:
        """Count a message not stored (stage "store") or not processed (stage "process")."""
        self.failed.labels(stage).inc()
        if message_id is not None:
            with self._lock:
                self._stored_at.pop(message_id, None)

    def _observe(self, message_id: int) -> None:
        with self._lock:
            stored = self._stored_at.pop(message_id, None)
        if stored is not None:
            self.latency.observe(time.monotonic() - stored)

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

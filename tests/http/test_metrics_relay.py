"""A worker process's metrics reach the main process's: Metrics.relay() and Metrics.absorb()."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from bouncer.http.metrics import Metrics


def _values(metrics: Metrics) -> dict[tuple, float]:
    text = metrics.render().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def _move(worker: Metrics, main: Metrics) -> None:
    moved = worker.relay()
    if moved is not None:
        main.absorb(json.loads(json.dumps(moved)))  # as it crosses the control channel


def test_what_a_worker_counted_is_added_once_to_the_main_process() -> None:
    main, intake, processing = Metrics(), Metrics(relay=True), Metrics(relay=True)
    for _ in range(3):
        intake.received.inc()
        intake.message_stored(7)
        intake.reply("250 2.0.0 stored as 7")
    intake.reply("421 4.3.2 Service not available")
    processing.message_processed(7, [("hard", "userunknown")], received=None)
    main.reply("421 4.3.2 Service not available")  # the main process counts its own too
    for _ in range(2):  # a second report of nothing new adds nothing
        _move(intake, main)
        _move(processing, main)
    values = _values(main)
    assert values[("bouncer_messages_received_total", ())] == 3
    assert values[("bouncer_messages_stored_total", ())] == 3
    assert values[("bouncer_smtp_replies_total", (("code", "250"),))] == 3
    assert values[("bouncer_smtp_replies_total", (("code", "421"),))] == 2
    assert values[("bouncer_bounces_total", (("class", "hard"), ("reason", "userunknown")))] == 1
    assert intake.relay() is None and processing.relay() is None


def test_a_worker_times_the_latency_from_the_receipt_time() -> None:
    import time

    main, processing = Metrics(), Metrics(relay=True)
    processing.message_processed(1, [], received=time.time() - 0.4)
    processing.message_processed(2, [], received=time.time() - 0.4)
    _move(processing, main)
    values = _values(main)
    assert values[("bouncer_processing_seconds_count", ())] == 2
    assert 0.7 < values[("bouncer_processing_seconds_sum", ())] < 2.0
    assert values[("bouncer_processing_seconds_bucket", (("le", "0.25"),))] == 0
    assert values[("bouncer_processing_seconds_bucket", (("le", "0.5"),))] == 2


def test_the_main_process_never_takes_a_receipt_time_for_a_latency() -> None:
    """In one process the latency runs from the 250 (message_stored); a message stored before
    a restart is not timed, whatever its receipt time."""
    metrics = Metrics()
    metrics.message_processed(1, [], received=0.0)
    assert _values(metrics)[("bouncer_processing_seconds_count", ())] == 0


def test_a_report_naming_no_known_counter_is_ignored() -> None:
    main = Metrics()
    main.absorb({"counts": [["bouncer_unknown", {}, 5], ["bouncer_messages_received", {}, -2]]})
    assert _values(main)[("bouncer_messages_received_total", ())] == 0

"""`bouncer events`, `deferrals`, `resolve` and `sweep`: deferral tracking from the shell."""

from __future__ import annotations

import time

import click

from bouncer.cli.common import (
    by_option,
    iso_option,
    log_to_stderr,
    open_store,
    operator,
    print_json_lines,
    print_table,
    store_options,
)

EVENT_COLUMNS = ("recorded_at", "at", "type", "recipient", "status", "reason", "diagnostic")
EVENT_WIDTHS = (24, 24, 20, 32, 7, 16, 0)
DEFERRAL_COLUMNS = (
    "recipient",
    "started_at",
    "last_seen",
    "attempts",
    "last_status",
    "will_retry_until",
    "warned_at",
    "closed_at",
    "close_reason",
    "key",
)
DEFERRAL_WIDTHS = (32, 24, 24, 3, 7, 24, 24, 24, 9, 0)


def _show_events(rows: list[dict], as_json: bool) -> None:
    """Print events as JSON Lines or a table."""
    if as_json:
        print_json_lines(rows)
    else:
        print_table(rows, EVENT_COLUMNS, EVENT_WIDTHS)


@click.command("events")
@click.option("--type", "event_type", help="Only events of this type, e.g. delivery.delayed.")
@click.option("--since", help="Only events committed at or after this ISO 8601 time.")
@click.option("--recipient", help="Only events about this address (or its final recipient).")
@click.option("--follow", is_flag=True, help="Keep printing new events as they are committed.")
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@store_options
def events_cmd(
    event_type: str | None,
    since: str | None,
    recipient: str | None,
    follow: bool,
    limit: int,
    as_json: bool,
    config,
    db_path: str,
) -> None:  # noqa: ANN001
    """List events in the order they were committed.

    `recorded_at` is when an event was committed, `at` the time it describes (a report's
    receipt, the moment a timer became due).
    """
    from bouncer.store import events

    db = open_store(db_path)
    query = {"event_type": event_type, "since": iso_option(since), "recipient": recipient}
    rows = events.search(db, **query, limit=limit)
    _show_events(rows, as_json)
    last_seq = rows[-1]["seq"] if rows else 0
    while follow:
        time.sleep(1.0)
        rows = events.search(db, **query, after_seq=last_seq, limit=limit)
        if rows:
            _show_events(rows, True)
            last_seq = rows[-1]["seq"]


@click.command("deferrals")
@click.option("--open", "open_only", is_flag=True, help="Only deferrals still open.")
@click.option("--recipient", help="Only this address (or its final recipient).")
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@store_options
def deferrals_cmd(
    open_only: bool, recipient: str | None, limit: int, as_json: bool, config, db_path: str
) -> None:  # noqa: ANN001
    """List deferrals (runs of soft failures per recipient and message)."""
    from bouncer.store import deferrals

    rows = deferrals.listing(
        open_store(db_path), open_only=open_only, recipient=recipient, limit=limit
    )
    if as_json:
        print_json_lines(rows)
    else:
        print_table(rows, DEFERRAL_COLUMNS, DEFERRAL_WIDTHS)


@click.command("resolve")
@click.argument("address")
@click.option("--message-id", help="Only the deferral of this original Message-ID.")
@by_option
@store_options
def resolve_cmd(
    address: str,
    message_id: str | None,
    by: str | None,
    config,  # noqa: ANN001
    db_path: str,
) -> None:
    """Mark an address's open deferrals delivered/closed (exit 1 if none was open)."""
    from bouncer.app import notify, tracking
    from bouncer.clock import utcnow

    log_to_stderr(config)
    db = open_store(db_path)
    with db.atomic():
        fired = tracking.resolve(db, address, message_id, utcnow(), by=by or operator())
    notify.emit(fired)
    if not fired:
        click.echo(f"{address}: no open deferral")
        raise SystemExit(1)
    click.echo(f"{address}: {len(fired)} deferral(s) resolved")


@click.command("sweep")
@click.option("--now", "now_text", help="Sweep as if it were this ISO 8601 time.")
@click.option("--dry-run", is_flag=True, help="Only show what would fire.")
@click.option("--json", "as_json", is_flag=True, help="Print the fired events as JSON Lines.")
@store_options
def sweep_cmd(
    now_text: str | None,
    dry_run: bool,
    as_json: bool,
    config,  # noqa: ANN001
    db_path: str,
) -> None:
    """Run one sweep: delay warnings, give-ups, suppression expiries and alert ends that are due.

    With --now the sweep decides as if it were that time; what it writes is stamped with the
    real time it was written (events keep the time they describe in `at`). Alerts are decided
    at the real time when --now is later: they count real failures.
    """
    from bouncer.app import notify
    from bouncer.app.alerts import policy_from as alert_policy_from
    from bouncer.app.tracking import policy_from, sweep_once
    from bouncer.clock import from_iso, utcnow

    log_to_stderr(config)
    written_at = utcnow()
    now = from_iso(iso_option(now_text)) if now_text else written_at
    policy = policy_from(config.tracker)
    db = open_store(db_path)
    alerts = alert_policy_from(config.alerts)
    fired = sweep_once(
        db, now, policy, dry_run=dry_run, recorded_at=written_at, alert_policy=alerts
    )
    if not dry_run:
        notify.emit(fired)
    if as_json:
        print_json_lines(fired)
    else:
        prefix = "would fire" if dry_run else "fired"
        click.echo(f"{prefix} {len(fired)} event(s)")
        for event in fired:
            about = event["recipient"] or event.get("provider") or event.get("domain") or ""
            click.echo(f"  {event['type']:<20} {about}")


@click.command("webhooks")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@store_options
def webhooks_cmd(as_json: bool, config, db_path: str) -> None:  # noqa: ANN001
    """Show each webhook's delivery state: cursor, pending/delivered/failed counts."""
    from dataclasses import asdict

    from bouncer.store import outbox

    rows = [asdict(stats) for stats in outbox.stats(open_store(db_path))]
    if as_json:
        print_json_lines(rows)
    else:
        print_table(
            rows,
            ("url", "pending", "delivered", "failed", "gone", "next_attempt_at", "disabled_reason"),
            (40, 7, 9, 6, 4, 24, 0),
        )

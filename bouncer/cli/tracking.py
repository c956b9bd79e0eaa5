"""`bouncer events`, `deferrals`, `resolve` and `sweep`: deferral tracking from the shell."""

from __future__ import annotations

import sys
import time

import click

from bouncer.cli.common import (
    MOMENT,
    Moment,
    by_option,
    command_now,
    log_to_stderr,
    open_store,
    operator,
    print_json_lines,
    shown,
    store_options,
)
from bouncer.cli.tables import Table, print_table
from bouncer.core.tracker_types import EVENT_TYPES

EVENT_COLUMNS = ("recorded_at", "at", "type", "recipient", "status", "reason", "diagnostic")
WEBHOOK_COLUMNS = (
    "url",
    "pending",
    "delivered",
    "failed",
    "gone",
    "next_attempt_at",
    "disabled_reason",
)
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


# Widths the event columns keep under --follow, for rows longer than the first listing's.
EVENT_MINIMUM = {"type": len("suppression.removed"), "recipient": 32, "status": 6, "reason": 15}
FOLLOW_POLL = 1.0  # seconds between looks for new events under --follow
FOLLOW_BATCH = 1000  # events read at a time under --follow


@click.command("events")
@click.option(
    "--type",
    "event_type",
    type=click.Choice(EVENT_TYPES),
    help="Only events of this type, e.g. delivery.delayed.",
)
@click.option(
    "--since",
    type=MOMENT,
    help="Only events committed at or after this time; e.g. 7d, 1h, 2026-03-02.",
)
@click.option("--recipient", help="Only events about this address (or its final recipient).")
@click.option("--follow", is_flag=True, help="Keep printing new events as they are committed.")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, in commit order.")
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
    """List the newest events, the newest first (--json and --follow: in commit order).

    At most --limit events are shown; when more match, a line on stderr says so. With --follow
    new events are printed as they are committed, in the same format, until Ctrl-C.
    `recorded_at` is when an event was committed, `at` the time it describes (a report's
    receipt, the moment a timer became due).
    """
    from bouncer.store import events

    db = open_store(db_path)
    query = {"event_type": event_type, "since": since, "recipient": recipient}
    last_seq = events.last_seq(db)
    rows = events.search(db, **query, limit=limit + 1, newest_first=True)
    rows = shown(rows, limit, "newest events", "--limit or --since")
    table = Table(EVENT_COLUMNS, EVENT_MINIMUM, keep_widths=follow)
    in_order = as_json or follow
    _show_events(rows[::-1] if in_order else rows, as_json, table)
    if follow:
        after = max([last_seq, *(row["seq"] for row in rows)])
        _follow(db, query, after, as_json, table)


def _show_events(rows: list[dict], as_json: bool, table: Table, *, header: bool = True) -> None:
    """Print events as JSON Lines or table rows (with the header line unless told not to)."""
    if as_json:
        print_json_lines(rows)
    else:
        table.print(rows, header=header)
    sys.stdout.flush()


def _follow(db, query: dict, after: int, as_json: bool, table: Table) -> None:  # noqa: ANN001
    """Print the events committed after seq `after` as they come, until Ctrl-C."""
    from bouncer.store import events

    try:
        while True:
            rows = events.search(db, **query, after_seq=after, limit=FOLLOW_BATCH)
            if rows:
                _show_events(rows, as_json, table, header=False)
                after = rows[-1]["seq"]
            if len(rows) < FOLLOW_BATCH:  # caught up: wait for more
                time.sleep(FOLLOW_POLL)
    except KeyboardInterrupt:
        return


@click.command("deferrals")
@click.option("--open", "open_only", is_flag=True, help="Only deferrals still open.")
@click.option("--recipient", help="Only this address (or its final recipient).")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@store_options
def deferrals_cmd(
    open_only: bool, recipient: str | None, limit: int, as_json: bool, config, db_path: str
) -> None:  # noqa: ANN001
    """List deferrals (runs of soft failures per recipient and message)."""
    from bouncer.store import deferrals

    db = open_store(db_path)
    rows = deferrals.listing(db, open_only=open_only, recipient=recipient, limit=limit + 1)
    rows = shown(rows, limit, "most recently seen deferrals")
    if as_json:
        print_json_lines(rows)
    else:
        print_table(rows, DEFERRAL_COLUMNS)


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
@click.option(
    "--now",
    "now_text",
    type=Moment(ahead=True),
    help="Sweep as if it were this time (4d: four days from now; or ISO 8601).",
)
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
    from bouncer.app.sweeping import sweep_once
    from bouncer.app.tracking import policy_from
    from bouncer.clock import from_iso

    log_to_stderr(config)
    written_at = command_now()
    now = from_iso(now_text) if now_text else written_at
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
        print_table(rows, WEBHOOK_COLUMNS)

"""`bouncer log` and `bouncer reprocess`: the bounce log, and re-classifying stored messages."""

from __future__ import annotations

import click

from bouncer.cli.common import (
    MOMENT,
    log_to_stderr,
    open_store,
    print_json_lines,
    shown,
    store_options,
)
from bouncer.cli.progress import progress_bar
from bouncer.cli.tables import print_table

LOG_COLUMNS = ("received_at", "orig_from", "recipient", "status", "class", "reason", "diagnostic")


@click.command("log")
@click.option("--recipient", help="Only this address (or @domain).")
@click.option(
    "--sender",
    help="Only reports returned to this return path (bounces@d: also bounces+...@d, as signed "
    "VERP return paths are).",
)
@click.option(
    "--since",
    type=MOMENT,
    help="Only records received at or after this time; e.g. 7d, 1h, 2026-03-02.",
)
@click.option(
    "--until", type=MOMENT, help="Only records received before this time; e.g. 7d, 1h, 2026-03-02."
)
@click.option("--class", "bounce_class", type=click.Choice(["hard", "soft", "none"]))
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@store_options
def log_cmd(
    recipient: str | None,
    sender: str | None,
    since: str | None,
    until: str | None,
    bounce_class: str | None,
    limit: int,
    as_json: bool,
    config,
    db_path: str,
) -> None:  # noqa: ANN001
    """Show per-recipient bounce records, newest first."""
    from bouncer.store import records

    rows = records.search(
        open_store(db_path),
        recipient=recipient,
        sender=sender,
        since=since,
        until=until,
        bounce_class=bounce_class,
        limit=limit + 1,
    )
    rows = shown(rows, limit, "newest records", "--limit or --since")
    if as_json:
        print_json_lines(rows)
    else:
        print_table(rows, LOG_COLUMNS)


@click.command("reprocess")
@click.option("--kind", help="Only messages last parsed as this kind (e.g. unknown).")
@click.option("--failed", is_flag=True, help="Only messages whose processing failed.")
@click.option(
    "--since",
    type=MOMENT,
    help="Only messages received at or after this time; e.g. 7d, 1h, 2026-03-02.",
)
@click.option(
    "--until", type=MOMENT, help="Only messages received before this time; e.g. 7d, 1h, 2026-03-02."
)
@store_options
def reprocess_cmd(
    kind: str | None, failed: bool, since: str | None, until: str | None, config, db_path: str
) -> None:  # noqa: ANN001
    """Re-classify stored raw messages with the current rules and update records."""
    from bouncer.app.reprocess import reprocess
    from bouncer.clock import utcnow
    from bouncer.store.inbox import count_for_reprocess

    log_to_stderr(config)
    db = open_store(db_path)
    chosen = {
        "kind": kind,
        "failed_only": failed,
        "since": since,
        "until": until,
    }
    with progress_bar(lambda: count_for_reprocess(db, **chosen), "reprocessing") as advance:
        summary = reprocess(db, config, utcnow, progress=advance, **chosen)
    click.echo(" ".join(f"{key}={value}" for key, value in summary.items()))

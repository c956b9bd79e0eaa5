"""`bouncer suppression ...`: list, show, add and remove suppressed addresses (export and
import: bouncer.cli.suppression_io)."""

from __future__ import annotations

import sys

import click

from bouncer.cli.common import (
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
from bouncer.cli.tables import print_table

COLUMNS = ("address", "reason", "class", "source", "last_seen", "count", "expires_at", "status")


@click.group("suppression")
def suppression() -> None:
    """Query and edit the suppression list."""


@suppression.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@store_options
def list_cmd(as_json: bool, limit: int | None, config, db_path: str) -> None:  # noqa: ANN001
    """List active suppressions, most recently seen first."""
    from bouncer.store import suppressions

    db = open_store(db_path)
    rows = suppressions.list_active(db, command_now(), None if limit is None else limit + 1)
    rows = shown(rows, limit, "most recently seen entries")
    if as_json:
        print_json_lines(rows)
    else:
        print_table(rows, COLUMNS)


@suppression.command("show")
@click.argument("address")
@click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON.")
@store_options
def show_cmd(address: str, as_json: bool, config, db_path: str) -> None:  # noqa: ANN001
    """Show an address's suppression: exit 0 when suppressed, 1 when not.

    The address is found as the one a report was about or as its final recipient, compared
    without regard to case (unless the database keeps the local part's case). Operators'
    changes to the address are listed too.
    """
    from bouncer.clock import utcnow
    from bouncer.store import changes, suppressions

    db = open_store(db_path)
    row = suppressions.get(db, address, utcnow())
    history = changes.history(db, row["address"] if row else address)
    if as_json:
        entry = row or {"address": address}
        print_json_lines([{**entry, "suppressed": row is not None, "changes": history}])
    else:
        _print_entry(address, row, history)
    if row is None:
        sys.exit(1)


def _print_entry(address: str, row: dict | None, history: list[dict]) -> None:
    """Print one suppression entry and the operators' changes as text."""
    if row is None:
        click.echo(f"{address}: not suppressed")
    for key, value in (row or {}).items():
        if value is not None:
            click.echo(f"{key + ':':<16} {value}")
    for change in history:
        click.echo(
            f"{change['action'] + ':':<16} {change['at']} by {change['by']}"
            f"{': ' + change['reason'] if change['reason'] else ''}"
        )


@suppression.command("add")
@click.argument("address")
@click.option("--reason", required=True, help="Why the address is suppressed.")
@click.option(
    "--class",
    "bounce_class",
    type=click.Choice(["hard", "soft"]),
    default="hard",
    show_default=True,
    help="Class recorded with the entry.",
)
@click.option(
    "--expires",
    type=Moment(ahead=True),
    default=None,
    help="Expire after a duration such as 14d or 12h, or at an ISO 8601 time.",
)
@by_option
@store_options
def add_cmd(
    address: str,
    reason: str,
    bounce_class: str,
    expires: str | None,
    by: str | None,
    config,  # noqa: ANN001
    db_path: str,
) -> None:
    """Suppress an address by hand (recorded with who and why)."""
    from bouncer.app.editing import add_manual
    from bouncer.clock import from_iso
    from bouncer.core.addresses import looks_like_address

    if not looks_like_address(address.strip()):
        raise click.BadParameter(f"{address!r} is not an email address", param_hint="ADDRESS")
    log_to_stderr(config)
    now = command_now()
    expires_at = from_iso(expires)
    if expires_at is not None and expires_at <= now:
        raise click.BadParameter(f"{expires} is not in the future", param_hint="'--expires'")
    db = open_store(db_path, create=True, config=config)
    added = add_manual(db, address, reason, bounce_class, expires_at, now, by or operator())
    click.echo(f"{address}: {'suppressed' if added else 'already suppressed, updated'}")


@suppression.command("remove")
@click.argument("address")
@click.option("--reason", required=True, help="Why the address may get mail again.")
@click.option(
    "--force",
    is_flag=True,
    help="Remove it even when a complaint set it (the recipient asked for no mail).",
)
@by_option
@store_options
def remove_cmd(
    address: str,
    reason: str,
    force: bool,
    by: str | None,
    config,  # noqa: ANN001
    db_path: str,
) -> None:
    """Remove an address from the suppression list (exit 1 if it was not there).

    Only reports received after the removal may suppress the address again: a reprocess or a
    late copy of an old report does not undo it.
    """
    from bouncer.app.editing import ComplaintEntry, remove_manual
    from bouncer.clock import utcnow

    log_to_stderr(config)
    db, by = open_store(db_path), by or operator()
    try:
        removed = remove_manual(db, address, utcnow(), by, reason, force=force)
    except ComplaintEntry as exc:
        raise click.UsageError(
            f"{exc.entry['address']} was suppressed by a complaint (the recipient asked for no "
            "mail); to remove it anyway, repeat with --force"
        ) from None
    if not removed:
        click.echo(f"{address}: not suppressed")
        sys.exit(1)
    click.echo(f"{address}: removed")


def _add_file_commands() -> None:
    """Attach `export` and `import` (bouncer.cli.suppression_io) to the group."""
    from bouncer.cli.suppression_io import export_cmd, import_cmd

    suppression.add_command(export_cmd)
    suppression.add_command(import_cmd)


_add_file_commands()

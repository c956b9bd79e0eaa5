"""`bouncer suppression ...`: list, show, add and remove suppressed addresses."""

from __future__ import annotations

import sys

import click

from bouncer.commands.common import (
    log_to_stderr,
    open_store,
    print_json_lines,
    print_table,
    store_options,
)

COLUMNS = ("address", "reason", "class", "source", "last_seen", "count", "expires_at", "status")
WIDTHS = (36, 16, 5, 10, 24, 5, 24, 0)


@click.group("suppression")
def suppression() -> None:
    """Query and edit the suppression list."""


@suppression.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@click.option("--limit", type=int, default=None, help="At most this many entries.")
@store_options
def list_cmd(as_json: bool, limit: int | None, config, db_path: str) -> None:  # noqa: ANN001
    """List active suppressions, most recently seen first."""
    from bouncer.clock import utcnow
    from bouncer.store import suppressions

    rows = suppressions.list_active(open_store(db_path), utcnow(), limit)
    if as_json:
        print_json_lines(rows)
    else:
        print_table(rows, COLUMNS, WIDTHS)


@suppression.command("show")
@click.argument("address")
@click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON.")
@store_options
def show_cmd(address: str, as_json: bool, config, db_path: str) -> None:  # noqa: ANN001
    """Show an address's suppression: exit 0 when suppressed, 1 when not."""
    from bouncer.clock import utcnow
    from bouncer.store import suppressions

    row = suppressions.get(open_store(db_path), address, utcnow())
    if row is None:
        if as_json:
            print_json_lines([{"address": address, "suppressed": False}])
        else:
            click.echo(f"{address}: not suppressed")
        sys.exit(1)
    if as_json:
        print_json_lines([{**row, "suppressed": True}])
        return
    for key, value in row.items():
        if value is not None:
            click.echo(f"{key + ':':<12} {value}")


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
@click.option("--expires", default=None, help="Expire after a duration such as 14d or 12h.")
@store_options
def add_cmd(
    address: str, reason: str, bounce_class: str, expires: str | None, config, db_path: str
) -> None:  # noqa: ANN001
    """Suppress an address by hand."""
    from bouncer.clock import utcnow
    from bouncer.config import ConfigError, parse_duration
    from bouncer.editing import add_manual

    log_to_stderr(config)
    now = utcnow()
    try:
        expires_at = now + parse_duration(expires, "--expires") if expires else None
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from exc
    added = add_manual(
        open_store(db_path, create=True), address, reason, bounce_class, expires_at, now
    )
    click.echo(f"{address}: {'suppressed' if added else 'already suppressed, updated'}")


@suppression.command("remove")
@click.argument("address")
@store_options
def remove_cmd(address: str, config, db_path: str) -> None:  # noqa: ANN001
    """Remove an address from the suppression list (exit 1 if it was not there)."""
    from bouncer.clock import utcnow
    from bouncer.editing import remove_manual

    log_to_stderr(config)
    if not remove_manual(open_store(db_path), address, utcnow()):
        click.echo(f"{address}: not suppressed")
        sys.exit(1)
    click.echo(f"{address}: removed")

"""`bouncer db`: back up, check, prune and vacuum the database, with the daemon running."""

from __future__ import annotations

import json
import sqlite3

import click

from bouncer.cli.common import Unavailable, open_store, store_options


@click.group("db")
def db_group() -> None:
    """Back up, check, prune and vacuum the database (safe while the daemon runs)."""


@db_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@store_options
def backup_cmd(path: str, config, db_path: str) -> None:  # noqa: ANN001
    """Write a consistent copy of the database to PATH (a new file, mode 0600).

    Uses SQLite's online backup: the daemon keeps receiving meanwhile.
    """
    from bouncer.store.maintenance import backup

    try:
        facts = backup(db_path, path)
    except (OSError, sqlite3.Error) as exc:
        raise Unavailable(f"backup failed: {exc}") from exc
    rows = ", ".join(f"{facts[name]} {name}" for name in ("messages", "suppressions", "events"))
    click.echo(f"backed up {db_path} to {facts['path']}: {_megabytes(facts['bytes'])}, {rows}")


@db_group.command("check")
@click.option("--quick", is_flag=True, help="PRAGMA quick_check instead of integrity_check.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@store_options
def check_cmd(quick: bool, as_json: bool, config, db_path: str) -> None:  # noqa: ANN001
    """Check integrity, foreign keys and schema version; print sizes and row counts.

    Exit status 0 when healthy, 1 when a problem was found, 3 when there is no database.
    """
    from bouncer.store.maintenance import check

    try:
        report = check(db_path, full=not quick)
    except (OSError, sqlite3.Error) as exc:
        raise Unavailable(str(exc)) from exc
    if as_json:
        click.echo(
            json.dumps({"ok": not report.problems, "problems": report.problems, **report.facts})
        )
    else:
        for name, value in report.facts.items():
            click.echo(f"{name}: {value}")
        for problem in report.problems:
            click.echo(f"problem: {problem}")
        click.echo("ok" if not report.problems else f"{len(report.problems)} problem(s)")
    raise SystemExit(1 if report.problems else 0)


@db_group.command("prune")
@store_options
def prune_cmd(config, db_path: str) -> None:  # noqa: ANN001
    """Drop everything past the store's keep periods now (the daemon does it a batch per sweep)."""
    from bouncer.clock import utcnow
    from bouncer.store.retention import Pruned, Retention, prune_once

    db = open_store(db_path, config=config)
    retention = Retention(config.keep_raw, config.keep_records, config.keep_events)
    now = utcnow()
    totals: dict[str, int] = dict.fromkeys(vars(Pruned()), 0)
    while True:
        pruned = prune_once(db, now, retention)
        for name, count in vars(pruned).items():
            totals[name] += count
        if not (
            pruned.raw or pruned.messages or pruned.deferrals or pruned.events or pruned.alerts
        ):
            break
    click.echo(", ".join(f"{count} {name}" for name, count in totals.items()) + " pruned")


@db_group.command("vacuum")
@store_options
def vacuum_cmd(config, db_path: str) -> None:  # noqa: ANN001
    """Rebuild the file to its smallest size and switch it to incremental vacuum.

    Needed once for databases created before retention existed. It holds the write lock
    throughout: stop the daemon first, or accept 451 replies (senders retry) meanwhile.
    """
    from bouncer.store.maintenance import vacuum

    try:
        before, after = vacuum(db_path)
    except (OSError, sqlite3.Error) as exc:
        raise Unavailable(f"vacuum failed: {exc}") from exc
    click.echo(f"vacuumed {db_path}: {_megabytes(before)} -> {_megabytes(after)}")


def _megabytes(size: object) -> str:
    """Write a byte count in MB with one decimal."""
    return f"{int(size) / 1e6:.1f} MB"  # type: ignore[call-overload]

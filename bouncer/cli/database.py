"""`bouncer db`: the schema's status and migration (SQLite or PostgreSQL); copy a store into
another (either backend); back up, check, prune and vacuum the database, with the daemon
running (backup, check and vacuum: SQLite)."""

from __future__ import annotations

import json
import sqlite3

import click

from bouncer.cli.common import Unavailable, open_store, store_options


@click.group("db")
def db_group() -> None:
    """Schema status and migration; copy a store to another backend; back up, check, prune
    and vacuum (safe while the daemon runs)."""


@db_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@store_options
def status_cmd(as_json: bool, config, db_path: str) -> None:  # noqa: ANN001
    """Show the store's backend, schema version and address rule, without changing it; on
    PostgreSQL also this host's spool (store.spool) and the messages waiting in it.

    Exit status 0 when the schema is this bouncer's, 1 when `bouncer db migrate` (or the
    daemon's start) has work to do, 3 when the store cannot be read.
    """
    from bouncer.store import StoreError
    from bouncer.store.status import schema_status

    try:
        status = schema_status(db_path)
    except StoreError as exc:
        raise Unavailable(str(exc)) from exc
    facts = {
        "backend": status.backend,
        "location": status.location,
        "schema_version": status.version,
        "latest_version": status.latest,
        "identity": status.identity,
        "current": status.current,
    }
    if status.backend == "postgresql":  # this host's local spool: messages waiting in it
        facts["spool"] = config.spool_path
        facts["spooled"] = _spooled(config.spool_path)
    if as_json:
        click.echo(json.dumps(facts))
    else:
        for name, value in facts.items():
            click.echo(f"{name}: {'(none)' if value is None else value}")
    raise SystemExit(0 if status.current else 1)


def _spooled(path: str) -> int | None:
    """Count the messages waiting in a spool file (None: there is none yet)."""
    from pathlib import Path

    from bouncer.store import StoreError, open_reader, spool

    if not Path(path).exists():
        return None
    try:
        db = open_reader(path)
        try:
            return spool.waiting(db)
        finally:
            db.close()
    except StoreError as exc:
        raise Unavailable(str(exc)) from exc


@db_group.command("migrate")
@store_options
def migrate_cmd(config, db_path: str) -> None:  # noqa: ANN001
    """Create the store's tables, or bring them to this bouncer's schema version.

    The daemon does the same when it starts; this does it ahead of time (before starting
    several hosts on one PostgreSQL database, say). A new store gets the config's address
    rule (store.case_sensitive_local_part).
    """
    from bouncer.store.status import schema_status

    before = schema_status(db_path) if _readable(db_path) else None
    open_store(db_path, create=True, config=config).close()
    after = schema_status(db_path)
    was = "new" if before is None or before.version is None else f"version {before.version}"
    click.echo(f"{after.location}: schema version {after.version} (was {was})")


@db_group.command("copy")
@click.option("--from", "source", required=True, metavar="PATH|URL", help="The store to copy.")
@click.option(
    "--to", "target", required=True, metavar="PATH|URL", help="A new or empty store to fill."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
def copy_cmd(source: str, target: str, as_json: bool) -> None:
    """Copy every table of a store into a new or empty one, of either backend (a SQLite
    file to PostgreSQL, say), keeping every id, raw message and the address rule.

    The source is read as one consistent state while its daemon runs; rows it stores after
    that are not copied: stop the daemon before copying to move for good. Both stores are
    at this bouncer's schema version; a target holding rows is refused (exit status 3).
    Prints the rows copied per table; --json: {"from", "to", "rows", "tables": {name: rows}}.
    """
    from bouncer.cli.progress import progress_bar
    from bouncer.store import StoreError, shown_location
    from bouncer.store.copy import copy_store, count_rows, open_stores

    try:
        reader, writer = open_stores(source, target)
    except StoreError as exc:
        raise Unavailable(str(exc)) from exc
    try:
        with progress_bar(lambda: count_rows(reader), "copying") as advance:
            copied = copy_store(reader, writer, advance)
    except StoreError as exc:
        raise Unavailable(str(exc)) from exc
    finally:
        reader.close()
        writer.close()
    shown = {"from": shown_location(source), "to": shown_location(target)}
    if as_json:
        click.echo(json.dumps({**shown, "rows": sum(copied.values()), "tables": copied}))
        return
    counts = ", ".join(f"{count} {name}" for name, count in copied.items())
    click.echo(f"copied {shown['from']} to {shown['to']}: {counts}")


def _readable(db_path: str) -> bool:
    """True when the store's status can be read now (else migrate says why it cannot open)."""
    from bouncer.store import StoreError
    from bouncer.store.status import schema_status

    try:
        schema_status(db_path)
    except StoreError:
        return False
    return True


def _sqlite_file(db_path: str, command: str) -> str:
    """Return the SQLite file of a store location; a PostgreSQL store gets one line saying
    what to use instead."""
    from bouncer.store import locate

    backend, target = locate(db_path)
    if backend != "sqlite":
        raise Unavailable(f"db {command} works on a SQLite file; for PostgreSQL use {_PG[command]}")
    return target


_PG = {
    "backup": "pg_dump (or the server's own backups)",
    "check": "amcheck (pg_amcheck) and `bouncer db status`",
    "vacuum": "PostgreSQL's autovacuum (VACUUM FULL to shrink a table)",
}


@db_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@store_options
def backup_cmd(path: str, config, db_path: str) -> None:  # noqa: ANN001
    """Write a consistent copy of the database to PATH (a new file, mode 0600).

    Uses SQLite's online backup: the daemon keeps receiving meanwhile.
    """
    from bouncer.store.maintenance import backup

    db_path = _sqlite_file(db_path, "backup")
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

    db_path = _sqlite_file(db_path, "check")
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

    db_path = _sqlite_file(db_path, "vacuum")
    try:
        before, after = vacuum(db_path)
    except (OSError, sqlite3.Error) as exc:
        raise Unavailable(f"vacuum failed: {exc}") from exc
    click.echo(f"vacuumed {db_path}: {_megabytes(before)} -> {_megabytes(after)}")


def _megabytes(size: object) -> str:
    """Write a byte count in MB with one decimal."""
    return f"{int(size) / 1e6:.1f} MB"  # type: ignore[call-overload]

"""Database upkeep while the daemon runs: online backup, integrity check, full vacuum.

Backups use SQLite's online backup API (sqlite3.Connection.backup): in WAL mode it reads one
consistent snapshot while the daemon keeps writing, so no message is half in a backup.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from bouncer.store.schema import MIGRATIONS

BUSY_SECONDS = 30.0
_COUNTED = ("messages", "raw_messages", "bounces", "suppressions", "deferrals", "events")
_VACUUM_MODES = {0: "none", 1: "full", 2: "incremental"}


@dataclass
class Report:
    """What `check` found: problems (empty: healthy) and facts about the file."""

    problems: list[str] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)


def _connect(path: str | Path) -> sqlite3.Connection:
    """Open an existing database file for upkeep (never creates one).

    Raises FileNotFoundError when there is no such file, sqlite3.Error when it cannot be read.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such database")
    return sqlite3.connect(str(file), timeout=BUSY_SECONDS, isolation_level=None)


def backup(source: str | Path, target: str | Path) -> dict[str, object]:
    """Copy the database at `source` to the new file `target` (mode 0600) while it is in use.

    The copy is written beside the target and renamed into place once complete and checked,
    so a failed backup never leaves a partial file under the target's name. Returns facts
    about the copy (bytes, rows per table). Raises FileExistsError when target exists,
    FileNotFoundError when source does not, sqlite3.Error when the copy fails its check.
    """
    goal = Path(target)
    if goal.exists():
        raise FileExistsError(f"{goal}: already exists (a backup never overwrites)")
    partial = goal.with_name(goal.name + ".partial")
    src = _connect(source)
    try:
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        dst = sqlite3.connect(str(partial), isolation_level=None)
        try:
            src.backup(dst)  # all pages in one step: one snapshot, readers never block writers
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"the copy fails its check: {verdict}")
            counts = _counts(dst)
        finally:
            dst.close()
        os.replace(partial, goal)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    return {"path": str(goal), "bytes": goal.stat().st_size, **counts}


def check(path: str | Path, *, full: bool = True) -> Report:
    """Check a database: integrity (PRAGMA integrity_check, or quick_check when not `full`),
    foreign keys, schema version against this code. Returns a Report; raises
    FileNotFoundError when there is no such file."""
    report = Report()
    conn = _connect(path)
    try:
        pragma = "integrity_check" if full else "quick_check"
        verdicts = [row[0] for row in conn.execute(f"PRAGMA {pragma}(20)")]
        if verdicts != ["ok"]:
            report.problems.extend(f"integrity: {line}" for line in verdicts)
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchmany(20):
            report.problems.append(f"foreign key: {table} row {rowid} names a missing {parent}")
        report.facts.update(_facts(conn))
        version = report.facts["schema_version"]
        if version != len(MIGRATIONS):
            report.problems.append(
                f"schema version {version}, this bouncer's is {len(MIGRATIONS)}"
                + (" (start the daemon to migrate)" if version < len(MIGRATIONS) else "")
            )
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"unreadable: {exc}")
    finally:
        conn.close()
    return report


def vacuum(path: str | Path) -> tuple[int, int]:
    """Rebuild the file with VACUUM, switching it to incremental auto-vacuum; return its size
    in bytes before and after. Takes the write lock for the whole run (intake answers 451
    meanwhile) and needs free disk space about the size of the file."""
    file = Path(path)
    conn = _connect(file)
    try:
        before = _size(file)
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return before, _size(file)


def _size(file: Path) -> int:
    """Bytes of the database with its write-ahead log."""
    wal = file.with_name(file.name + "-wal")
    return file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _facts(conn: sqlite3.Connection) -> dict[str, object]:
    """Schema version, address rule, vacuum mode, pages, rows per table."""
    pragma = {
        name: conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("user_version", "page_size", "page_count", "freelist_count", "auto_vacuum")
    }
    facts: dict[str, object] = {
        "schema_version": pragma["user_version"],
        "bytes": pragma["page_size"] * pragma["page_count"],
        "free_bytes": pragma["page_size"] * pragma["freelist_count"],
        "auto_vacuum": _VACUUM_MODES.get(pragma["auto_vacuum"], "?"),
    }
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE name = 'identity'").fetchone()
        facts["identity"] = row[0] if row else None
    facts.update(_counts(conn, tables))
    return facts


def _counts(conn: sqlite3.Connection, tables: set[str] | None = None) -> dict[str, int]:
    """Rows in each of bouncer's main tables that exist."""
    if tables is None:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {
        name: conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]  # noqa: S608 - fixed names
        for name in _COUNTED
        if name in tables
    }


def writable(db: Database) -> None:
    """Take the write lock and write one row, then roll back: raise sqlite3.Error when the
    database cannot be written (read-only file or directory, locked past the busy timeout)."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        db.conn.execute("UPDATE meta SET value = value WHERE name = 'identity'")
    finally:
        db.conn.execute("ROLLBACK")

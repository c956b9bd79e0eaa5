"""Copy a whole store into an empty one, of either backend (`bouncer db copy`): a single-host
SQLite install moved to PostgreSQL without losing its history, or back.

The source is read in one read transaction (one consistent state while its daemon keeps
writing), each table in primary-key order a page at a time; each page is written to the target
in one transaction, keeping every id, so the references between tables (bounces.message_id,
deliveries.event_seq, the webhook cursors' last_seq) stay right. Tables, columns and keys come
from the source's catalog (`bouncer.store.catalog`), so a new table or column is copied
without a change here. On PostgreSQL each identity sequence is then set past the largest id
copied, so new rows take new ids.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sqlite_utils import Database

from bouncer.core.addresses import Identity
from bouncer.store import StoreError, catalog, locate, open_db, open_reader, shown_location
from bouncer.store.catalog import Table
from bouncer.store.dialect import POSTGRESQL, SNAPSHOT
from bouncer.store.status import schema_status

PAGE_ROWS = 1000  # rows read, and written in one target transaction, at most
PAGE_BYTES = 16_000_000  # a page of raw messages is cut down to about this many bytes
_SCHEMES = ("sqlite", "postgresql", "postgres")


def open_stores(source: str, target: str) -> tuple[Database, Database]:
    """Open the store to copy from (read only, not migrated) and the one to copy into
    (created or migrated to this code's schema version, with the source's address rule).

    Raises StoreError (one line) for a location that is not a store's, the same location
    twice, a source without bouncer's tables or at another schema version than this code's,
    and whatever keeps either store from opening (unreachable server, another address rule).
    """
    for location in (source, target):
        _check_location(location)
        if locate(location)[0] == POSTGRESQL:
            _server_database(location)  # refuses a URL libpq cannot read
    if _same_store(source, target):
        raise StoreError(f"{shown_location(target)}: the source and the target are one store")
    status = schema_status(source)
    if status.version is None:
        raise StoreError(f"{status.location}: no bouncer store to copy", "open")
    if status.version != status.latest:
        raise StoreError(
            f"{status.location}: schema version {status.version}, this bouncer's is "
            f"{status.latest}: run `bouncer db migrate` on the source first"
        )
    reader = open_reader(source)
    try:
        return reader, _open_target(target, reader.identity)
    except BaseException:
        reader.close()
        raise


def _open_target(target: str, identity: Identity) -> Database:
    """Open (create, migrate) the target with the source's address rule; a target created
    with the other rule is refused in the copy's words."""
    try:
        return open_db(target, create=True, identity=identity)
    except StoreError as exc:
        if exc.kind != "config":
            raise
        raise StoreError(
            f"{shown_location(target)}: compares addresses by another rule than the source "
            f"({identity.name!r}): copy into a new store",
            "config",
        ) from exc


def _check_location(location: str) -> None:
    """Refuse a location that is empty or names an unknown scheme (mysql://, http://)."""
    scheme, sep, _ = location.partition("://")
    if not location.strip() or (sep and scheme.lower() not in _SCHEMES):
        raise StoreError(
            f"{shown_location(location)!r}: not a store location (a file path, "
            f"sqlite:///PATH or postgresql://USER@HOST/DB)",
            "config",
        )


def _same_store(source: str, target: str) -> bool:
    """Say whether two locations name one store: one file, or one database on one server."""
    (kind, first), (other, second) = locate(source), locate(target)
    if kind != other:
        return False
    if kind != POSTGRESQL:
        return Path(first).resolve() == Path(second).resolve()
    return _server_database(first) == _server_database(second)


def _server_database(url: str) -> tuple[str, ...]:
    """Return what names a PostgreSQL database in a URL: host, port, database, options."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from bouncer.store.pg import describe

    try:
        info = conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise StoreError(
            f"{shown_location(url)}: not a PostgreSQL URL ({describe(exc)})", "config"
        ) from exc
    parts = ("host", "hostaddr", "port", "dbname", "options")
    defaults = {"port": "5432", "dbname": str(info.get("user", ""))}
    return tuple(str(info.get(part) or defaults.get(part, "")) for part in parts)


def count_rows(db: Database) -> int:
    """Return how many rows the store's tables hold (a progress bar's total)."""
    return sum(
        db.conn.execute(
            f'SELECT COUNT(*) FROM "{table.name}" /* scan: a copy\'s total, counted once */'
        ).fetchone()[0]
        for table in catalog.tables(db)
    )


def copy_store(
    source: Database, target: Database, advance: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Copy every row of every table of `source` into the empty store `target`; return the
    rows copied per table (in copy order). `advance(n)` is called after each page written.

    Raises StoreError when the target's tables differ from the source's or already hold
    rows (a copy never merges into a used store), and when either database fails midway
    (the target is then left partly filled: the message says so).
    """
    layout = catalog.tables(source)
    _check_target(target, layout)
    copied: dict[str, int] = {}
    try:
        _copy_tables(source, target, layout, copied, advance)
        _reset_sequences(target)
    except Exception as exc:
        if not _database_error(exc):
            raise
        raise StoreError(
            f"copy failed after {sum(copied.values())} rows ({_one_line(exc)}); the target "
            f"is partly filled: drop it (or delete its file) before copying again"
        ) from exc
    return copied


def _copy_tables(
    source: Database,
    target: Database,
    layout: Sequence[Table],
    copied: dict[str, int],
    advance: Callable[[int], None] | None,
) -> None:
    """Copy the tables in order within one read transaction on the source, counting the
    rows written per table into `copied` as they are."""
    source.conn.execute(SNAPSHOT[source.dialect])
    try:
        for table in layout:
            copied[table.name] = 0
            for rows in _pages(source, table):
                _write(target, table, rows)
                copied[table.name] += len(rows)
                if advance is not None:
                    advance(len(rows))
    finally:
        source.conn.rollback()


def _database_error(error: BaseException) -> bool:
    """Say whether an exception is a database's (sqlite3's or psycopg's), not a bug."""
    return isinstance(error, sqlite3.Error) or type(error).__module__.startswith("psycopg")


def _one_line(error: BaseException) -> str:
    """Return an error's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__


def _check_target(target: Database, layout: Sequence[Table]) -> None:
    """Refuse a target whose tables or columns differ from the source's, or hold rows."""
    where = shown_location(getattr(target, "url", None) or _file_of(target))
    theirs = {table.name: set(table.columns) for table in catalog.tables(target)}
    for table in layout:
        if theirs.get(table.name) != set(table.columns):
            raise StoreError(f"{where}: table {table.name} differs from the source's")
    for table in sorted(layout, key=lambda table: table.name != "messages"):  # messages first
        found = target.conn.execute(f'SELECT 1 FROM "{table.name}" LIMIT 1').fetchone()
        if found is not None:
            raise StoreError(
                f"{where}: already holds {table.name}; copy only into a new or empty store"
            )


def _file_of(db: Database) -> str:
    """Return the file of a SQLite store."""
    return db.conn.execute("PRAGMA database_list").fetchone()[2]


def _pages(db: Database, table: Table) -> Iterator[list[tuple]]:
    """Yield a table's rows in primary-key order, PAGE_ROWS rows at a time or fewer: a page
    after one of raw messages is cut to about PAGE_BYTES (memory stays flat)."""
    columns = ", ".join(f'"{column}"' for column in table.columns)
    start = f'SELECT {columns} FROM "{table.name}" ORDER BY "{table.key}" LIMIT ?'
    after = (
        f'SELECT {columns} FROM "{table.name}" WHERE "{table.key}" > ? '
        f'ORDER BY "{table.key}" LIMIT ?'
    )
    key = table.columns.index(table.key)
    most, budget = PAGE_ROWS, PAGE_BYTES  # read now: a test may set them low
    limit = most
    rows = db.conn.execute(start, (limit,)).fetchall()
    while rows:
        yield rows
        if len(rows) < limit:
            return
        if table.holds_bytes:
            size = sum(len(value) for row in rows for value in row if isinstance(value, bytes))
            limit = max(1, min(most, budget * len(rows) // max(size, 1)))
        rows = db.conn.execute(after, (rows[-1][key], limit)).fetchall()


def _write(db: Database, table: Table, rows: list[tuple]) -> None:
    """Insert one page of rows, ids as they are, in one transaction (on PostgreSQL with
    COPY FROM STDIN, in one round trip rather than one statement a row)."""
    columns = ", ".join(f'"{column}"' for column in table.columns)
    with db.atomic():
        if db.dialect == POSTGRESQL:
            cursor = db.conn.raw.cursor()
            with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(table.columns))
        db.conn.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', rows)


def _reset_sequences(db: Database) -> None:
    """Set each identity sequence of a PostgreSQL store past its column's largest value."""
    for table, column in catalog.identity_columns(db):
        db.conn.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), "
            f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)',
            (table, column),
        )

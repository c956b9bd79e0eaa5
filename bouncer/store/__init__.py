"""The store: open, migrate, and one transaction per unit of work, on SQLite (WAL, through
sqlite-utils; the embedded default) or PostgreSQL (psycopg 3; `bouncer.store.pg`).

All SQL lives in this package: `inbox` (raw messages), `records` (bounce records),
`suppressions`, `events`; each function takes the database it works on, a `BouncerDatabase`
or a `PgDatabase` (same methods; `db.dialect` says which). `open_db` takes a location: a
postgresql:// URL, a sqlite:// URL, or a plain file path.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from bouncer.core.addresses import Identity
from bouncer.store.dialect import POSTGRESQL, SQLITE
from bouncer.store.schema import migrate

if TYPE_CHECKING:  # psycopg is imported only when a PostgreSQL store is opened
    from bouncer.store.pg import PgDatabase

BUSY_TIMEOUT_SECONDS = 10.0


class BouncerDatabase(Database):
    """sqlite-utils' Database whose outermost atomic() takes the write lock at once.

    `identity` is the rule the database compares addresses by (fixed when it was created), so
    the daemon and every command key addresses the same way: `db.identity.key(address)`.

    A deferred BEGIN that reads first and writes later fails at once with "database is locked"
    when another connection (the intake writer, the CLI) committed in between (WAL snapshot
    upgrade); BEGIN IMMEDIATE waits for the lock (busy timeout) instead. Nested blocks stay
    savepoints.
    """

    dialect = SQLITE

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        """Run the block in one write transaction (a savepoint when nested)."""
        if self.conn.in_transaction:
            with super().atomic() as nested:
                yield nested
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.rollback()
            raise


class StoreError(RuntimeError):
    """The database cannot be opened or is not a bouncer database.

    `kind`: "open" (the file cannot be created, opened or written: missing, permissions),
    "data" (not a bouncer database, corrupt, or newer than this code), "config" (it keeps
    addresses by another rule than the configuration asks for).
    """

    def __init__(self, message: str, kind: str = "data") -> None:
        super().__init__(message)
        self.kind = kind


def locate(location: str | Path) -> tuple[str, str]:
    """Return (dialect, target) for a store location: ("postgresql", the URL) for a
    postgresql:// or postgres:// URL; ("sqlite", the file path) for sqlite:///PATH (an
    absolute path; sqlite://PATH a relative one) or a plain path."""
    text = str(location)
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return POSTGRESQL, text
    if sep and scheme.lower() == "sqlite":
        return SQLITE, rest
    return SQLITE, text


def shown_location(location: str | Path) -> str:
    """Return a store location fit for logs and messages: a URL's password replaced by ***."""
    from urllib.parse import urlsplit, urlunsplit

    text = str(location)
    if locate(text)[0] != POSTGRESQL:
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))


def open_db(
    path: str | Path,
    *,
    create: bool = True,
    identity: Identity | None = None,
    checkpoint_on_commit: bool = True,
) -> BouncerDatabase | PgDatabase:
    """Open (and migrate) the store at a location (`locate`): a SQLite file in WAL mode with
    synchronous=FULL, or a PostgreSQL database (`bouncer.store.pg`).

    `checkpoint_on_commit=False` leaves copying the write-ahead log back into the file to
    someone else (`wal_checkpoint`, run by the daemon's checkpointer): SQLite would otherwise
    do it inside whichever commit crosses 1,000 log pages, on the write path.

    `identity`: the address rule the configuration asks for; a new database is created with it,
    an existing one must have been created with it. Raises StoreError (one line) when the file
    is missing (create=False), is not a bouncer database, is newer than this code, or keeps
    addresses by another rule.
    """
    dialect, target = locate(path)
    if dialect == POSTGRESQL:
        return _open_postgresql(target, create=create, identity=identity)
    file = Path(target)
    if not create and not file.exists():
        raise StoreError(f"{file}: no such database (start `bouncer serve` or give --db)", "open")
    if create:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{file.parent}: cannot create: {exc.strerror}", "open") from exc
    try:
        # isolation_level=None: no implicit transactions. A statement outside atomic() commits
        # on its own, so a stray write can never leave a transaction open on a long-lived
        # connection (which would turn every later atomic() into an uncommitted savepoint).
        conn = sqlite3.connect(
            str(file),
            timeout=BUSY_TIMEOUT_SECONDS,
            check_same_thread=False,
            isolation_level=None,
        )
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:  # a new file
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # see bouncer.store.retention
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        if not checkpoint_on_commit:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        stored = migrate(conn, identity)
    except sqlite3.OperationalError as exc:
        kind = "open" if "unable to open" in str(exc) or "readonly" in str(exc) else "data"
        raise StoreError(f"{file}: {exc}", kind) from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{file}: {exc}", "data") from exc
    if identity is not None and identity != stored:
        conn.close()
        raise _identity_error(str(file), stored, identity)
    db = BouncerDatabase(conn, execute_plugins=False, recursive_triggers=False)
    db.identity = stored
    return db


def _identity_error(where: str, stored: Identity, asked: Identity) -> StoreError:
    """Say that a database keys addresses by another rule than the configuration asks."""
    return StoreError(
        f"{where}: this database compares addresses {_RULES[stored.name]} (fixed when it "
        f"was created), but store.case_sensitive_local_part = "
        f"{str(asked.keep_local_case).lower()} asks to compare them "
        f"{_RULES[asked.name]}",
        "config",
    )


def _open_postgresql(
    url: str, *, create: bool, identity: Identity | None, read_only: bool = False
) -> PgDatabase:
    """Open a PostgreSQL store, its failures worded as StoreError (one line, password left
    out)."""
    import psycopg

    from bouncer.store.pg import describe, open_pg

    where = shown_location(url)
    try:
        db = open_pg(url, identity, create=create, read_only=read_only)
    except psycopg.OperationalError as exc:
        raise StoreError(f"{where}: cannot connect: {describe(exc)}", "open") from exc
    except psycopg.Error as exc:
        raise StoreError(f"{where}: {describe(exc)}", "data") from exc
    except ValueError as exc:
        raise StoreError(f"{where}: {exc}", "data") from exc
    if identity is not None and identity != db.identity:
        db.close()
        raise _identity_error(where, db.identity, identity)
    return db


def open_reader(path: str | Path) -> BouncerDatabase | PgDatabase:
    """Open an existing, migrated database for reading only (PRAGMA query_only), with its
    address rule; for the HTTP API's reader threads, beside the daemon's writers (WAL: readers
    never wait for them). On PostgreSQL, a session whose transactions are read-only. Raises
    StoreError when the file is missing or not a bouncer database.
    """
    dialect, target = locate(path)
    if dialect == POSTGRESQL:
        return _open_postgresql(target, create=False, identity=None, read_only=True)
    file = Path(target)
    if not file.exists():
        raise StoreError(f"{file}: no such database", "open")
    try:
        conn = sqlite3.connect(
            str(file), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False, isolation_level=None
        )
        conn.execute("PRAGMA query_only=ON")
        row = conn.execute("SELECT value FROM meta WHERE name = 'identity'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{file}: {exc}", "data") from exc
    db = BouncerDatabase(conn, execute_plugins=False, recursive_triggers=False)
    db.identity = Identity.named(row[0])
    return db


_RULES = {"caseless": "without regard to case", "local-case": "with their local part's case"}


def wal_checkpoint(db: Database) -> tuple[int, int]:
    """Copy what the write-ahead log holds back into the database file, without waiting for
    readers or blocking writers (SQLite's PASSIVE checkpoint, sqlite.org/wal.html#ckpt).

    Returns (pages in the log, pages copied so far); both are -1 when the database is not in
    WAL mode (or not SQLite).
    """
    if db.dialect != SQLITE:
        return -1, -1
    _busy, logged, copied = db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return logged, copied

"""The store: open, migrate, and one transaction per unit of work, on SQLite (WAL, through
sqlite-utils; the embedded default) or PostgreSQL (psycopg 3; `bouncer.store.pg`).

All SQL lives in this package: `inbox` (raw messages), `records` (bounce records),
`suppressions`, `events`; each function takes the database it works on, a `BouncerDatabase`
or a `PgDatabase` (same methods; `db.dialect` says which). `open_db` takes a location: a
postgresql:// URL, a sqlite:// URL, or a plain file path.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlite_utils import Database

from bouncer.core.addresses import Identity
from bouncer.store.dialect import POSTGRESQL, SQLITE
from bouncer.store.schema import migrate

if TYPE_CHECKING:  # psycopg is imported only when a PostgreSQL store is opened
    from bouncer.store.pg import PgDatabase

BUSY_TIMEOUT_SECONDS = 10.0
# A RESTART checkpoint holds the writers back while it waits for readers: at most this long.
RESTART_WAIT_SECONDS = 0.25


class BouncerDatabase(Database):
    """sqlite-utils' Database whose outermost atomic() takes the write lock at once.

    `identity` is the rule the database compares addresses by (fixed when it was created), so
    the daemon and every command key addresses the same way: `db.identity.key(address)`.

    A deferred BEGIN that reads first and writes later fails at once with "database is locked"
    when another connection (the intake writer, the CLI) committed in between (WAL snapshot
    upgrade); BEGIN IMMEDIATE waits for the lock (busy timeout) instead. Nested blocks stay
    savepoints.

    SQLite's busy timeout waits by sleeping 1, 2, 5, 10 ms and more between tries, so writers
    that often want the lock at once (the daemon's intake and processing, in one process or
    several) lose time asleep while it is free. Connections opened with `take_turns` first
    take an exclusive lock on the file `<database>-writers` (flock(2): a waiter wakes as soon
    as it is released), so they queue for each other instead.
    """

    dialect = SQLITE
    turns: int | None = None  # the writers' lock file (open_db's take_turns), else None

    @contextlib.contextmanager
    def atomic(self, *, alone: bool = True) -> Iterator[Database]:
        """Run the block in one write transaction (a savepoint when nested). SQLite has one
        writer at a time whatever `alone` says (see PgDatabase.atomic)."""
        if self.conn.in_transaction:
            with super().atomic() as nested:
                yield nested
            return
        with self._turn():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.rollback()
                raise

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the writers' lock for the block (nothing without take_turns)."""
        if self.turns is None:
            yield
            return
        fcntl.flock(self.turns, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self.turns, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the connection (and the writers' lock file)."""
        super().close()
        if self.turns is not None:
            os.close(self.turns)
            self.turns = None


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
    try:
        parts = urlsplit(text)
    except ValueError:  # not a URL (a stray "["): hide whatever stands between ':' and '@'
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", text)
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
    take_turns: bool = False,
    cache_kib: int | None = None,
    connect_timeout: int | None = None,
) -> BouncerDatabase | PgDatabase:
    """Open (and migrate) the store at a location (`locate`): a SQLite file in WAL mode with
    synchronous=FULL, or a PostgreSQL database (`bouncer.store.pg`).

    `checkpoint_on_commit=False` leaves copying the write-ahead log back into the file to
    someone else (`wal_checkpoint`, run by the daemon's checkpointer): SQLite would otherwise
    do it inside whichever commit crosses 1,000 log pages, on the write path.

    `take_turns`: write transactions queue on the file `<database>-writers` with the other
    connections opened so (see BouncerDatabase). `connect_timeout`: seconds PostgreSQL's
    connection may take (default `bouncer.store.pg.CONNECT_SECONDS`; at least 2).

    `cache_kib`: the connection's page cache in KiB (SQLite's default is 2,000 KiB), for a
    writer whose transactions touch more pages than that (processing: a batch of reports
    changes some forty pages each, many at random places in the history's indexes).

    `identity`: the address rule the configuration asks for; a new database is created with it,
    an existing one must have been created with it. Raises StoreError (one line) when the file
    is missing (create=False), is not a bouncer database, is newer than this code, or keeps
    addresses by another rule.
    """
    dialect, target = locate(path)
    if dialect == POSTGRESQL:  # writers queue on its advisory lock: no turns to take
        return _open_postgresql(
            target, create=create, identity=identity, connect_timeout=connect_timeout
        )
    db = _open_sqlite(Path(target), create, identity, checkpoint_on_commit, take_turns)
    if cache_kib is not None:
        db.conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    return db


def _open_sqlite(
    file: Path,
    create: bool,
    identity: Identity | None,
    checkpoint_on_commit: bool,
    take_turns: bool,
) -> BouncerDatabase:
    """Open (and migrate) a SQLite file as open_db says."""
    if not create and not file.exists():
        raise StoreError(
            f"{file}: no such database (give --db; `bouncer serve` or `bouncer db migrate` "
            "creates it)",
            "open",
        )
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
    if take_turns:
        try:
            db.turns = os.open(f"{file}-writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            conn.close()
            raise StoreError(f"{file}-writers: cannot open: {exc.strerror}", "open") from exc
    return db


def close_quietly(db: object) -> None:
    """Close a connection being thrown away (after a failure), whatever closing raises;
    return None, for `self._db = close_quietly(self._db)`. None is left alone."""
    if db is not None:
        with contextlib.suppress(Exception):
            db.close()  # type: ignore[attr-defined]


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
    url: str,
    *,
    create: bool,
    identity: Identity | None,
    read_only: bool = False,
    connect_timeout: int | None = None,
) -> PgDatabase:
    """Open a PostgreSQL store, its failures worded as StoreError (one line, password left
    out)."""
    import psycopg

    from bouncer.store.pg import CONNECT_SECONDS, describe, open_pg

    where = shown_location(url)
    timeout = connect_timeout or CONNECT_SECONDS
    try:
        db = open_pg(url, identity, create=create, read_only=read_only, connect_timeout=timeout)
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


class WalState(NamedTuple):
    """What a checkpoint found: pages in the write-ahead log, pages copied back into the file
    so far (both -1 when the database is not in WAL mode), and whether it was `busy`: a
    RESTART or TRUNCATE that readers or writers kept from finishing (tried again later)."""

    logged: int
    copied: int
    busy: bool


def wal_checkpoint(db: Database, *, restart: bool = False, truncate: bool = False) -> WalState:
    """Copy what the write-ahead log holds back into the database file, without waiting for
    readers or blocking writers (SQLite's PASSIVE checkpoint, sqlite.org/wal.html#ckpt).

    With `restart`, SQLite's RESTART checkpoint: it waits for the writers (as a writer does:
    in turn on the writers' lock when the connection takes turns) and the readers, copies
    everything, and makes the next writer start the log over. A PASSIVE checkpoint alone never
    lets the log start over while writes keep coming (each finds new pages behind it), so under
    a steady flood the log file would grow without end. It waits at most RESTART_WAIT_SECONDS
    for readers (the writers wait for it meanwhile), then gives up busy.

    With `truncate`, SQLite's TRUNCATE checkpoint: as RESTART, and the log file is cut to
    nothing, which gives its space back to a full file system.

    On PostgreSQL (no write-ahead log of ours to copy) nothing is done: (-1, -1, not busy).
    """
    if db.dialect != SQLITE:
        return WalState(-1, -1, False)
    if not (restart or truncate):
        busy, logged, copied = db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return WalState(logged, copied, bool(busy))
    mode = "TRUNCATE" if truncate else "RESTART"
    with db._turn() if isinstance(db, BouncerDatabase) else contextlib.nullcontext():
        db.conn.execute(f"PRAGMA busy_timeout = {int(RESTART_WAIT_SECONDS * 1000)}")
        try:
            busy, logged, copied = db.conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        finally:
            db.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    return WalState(logged, copied, bool(busy))

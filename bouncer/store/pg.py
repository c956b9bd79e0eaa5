"""The PostgreSQL backend: a psycopg 3 connection that looks, to the store's modules, like the
SQLite `BouncerDatabase` they were written for.

The store's functions use a small part of sqlite-utils' Database: `db.execute(sql, params)`,
`db.conn.execute(...)` / `executemany(...)` returning a cursor (`fetchone`, `fetchall`,
iteration, `rowcount`), `db.conn.in_transaction`, `db.atomic()`, `db.identity`, `db.close()`.
`PgDatabase` and `PgConnection` offer exactly these; each statement is turned into its
PostgreSQL form by `bouncer.store.dialect.to_postgresql` on its way (cached per text).

Transactions: the connection is in autocommit mode, so a statement outside `atomic()` commits
on its own, as on SQLite (isolation_level=None). The outermost `atomic()` opens a transaction
and takes a transaction-level advisory lock (WRITE_LOCK): one writer at a time, as SQLite's
BEGIN IMMEDIATE gives, so a read-then-write unit of work (a suppression's count, a deferral)
sees no other writer between its read and its write, on one node or many; a write outside
`atomic()` takes the same lock for itself. Nested blocks are savepoints. Readers never wait.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import pq

from bouncer.core.addresses import Identity
from bouncer.store import pg_schema
from bouncer.store.dialect import POSTGRESQL, to_postgresql

WRITE_LOCK = 0x626F756E6365_00  # pg_advisory_xact_lock key of the one-writer lock
CONNECT_SECONDS = 10
# A node with a local spool tries the store this briefly (libpq's least): the spool takes the
# mail meanwhile (bouncer.daemon.intake, bouncer.daemon.spool).
STANDBY_CONNECT_SECONDS = 2
LOCK_SECONDS = 10  # the longest wait for a lock, as SQLite's busy timeout (then an error)
# A statement that writes rows (after any leading comments): it takes the write lock
_WRITE = re.compile(r"\s*(?:/\*.*?\*/\s*)*(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE | re.DOTALL)


class PgConnection:
    """The sqlite3.Connection methods the store uses, over one psycopg connection."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor:
        """Run one statement (SQLite spelling); return its cursor (its rows already read).

        "BEGIN IMMEDIATE" (SQLite's write transaction) begins one holding the write lock. A
        write outside a transaction commits on its own holding the write lock, as every
        SQLite write does: no write ever commits while another writer's transaction is open,
        so events commit in `seq` order (the webhook cursors rely on it).
        """
        if sql.strip().upper() == "BEGIN IMMEDIATE":
            self.raw.execute("BEGIN")
            return self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        with self._writing(sql):
            return self.raw.execute(to_postgresql(sql), tuple(params or ()))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor:
        """Run one statement for each row of parameters; the cursor's rowcount is their sum."""
        cursor = self.raw.cursor()
        with self._writing(sql):
            cursor.executemany(to_postgresql(sql), [tuple(row) for row in rows])
        return cursor

    @contextlib.contextmanager
    def _writing(self, sql: str) -> Iterator[None]:
        """Hold the write lock for a write statement outside a transaction (else nothing)."""
        if self.in_transaction or not _WRITE.match(sql):
            yield
            return
        with self.raw.transaction():
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield

    def executescript(self, script: str) -> None:
        """Run several statements as written (PostgreSQL's own SQL, no parameters)."""
        self.raw.execute(script)

    @property
    def in_transaction(self) -> bool:
        """True inside a transaction (as sqlite3.Connection.in_transaction)."""
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection."""
        self.raw.close()


class PgDatabase:
    """A bouncer store on PostgreSQL, used by the store's functions as a BouncerDatabase.

    `dialect` is "postgresql" (BouncerDatabase's is "sqlite"); `identity` the address rule the
    database was created with; `url` where it is.
    """

    dialect = POSTGRESQL

    def __init__(self, conn: psycopg.Connection, identity: Identity, url: str) -> None:
        self.conn = PgConnection(conn)
        self.identity = identity
        self.url = url

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor:
        """Run one statement; return its cursor (as sqlite-utils' Database.execute)."""
        return self.conn.execute(sql, params)

    @contextlib.contextmanager
    def atomic(self, *, alone: bool = True) -> Iterator[PgDatabase]:
        """Run the block in one transaction holding the write lock (a savepoint when nested).

        `alone=False`: a transaction that only adds rows no other writer reads before it
        commits (new messages: processing claims them under the lock), so it need not wait
        for the lock; intake then never waits behind a processing batch.
        """
        raw = self.conn.raw
        if self.conn.in_transaction:
            with raw.transaction():
                yield self
            return
        with raw.transaction():
            if alone:
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield self

    def table_names(self) -> list[str]:
        """Return the names of the tables in the current schema."""
        rows = self.conn.raw.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
        return [row[0] for row in rows]

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def connect(
    url: str, *, read_only: bool = False, connect_timeout: int = CONNECT_SECONDS
) -> psycopg.Connection:
    """Open an autocommit connection to a postgresql:// URL (read-only sessions with
    `read_only`); waiting for a lock (the write lock, a row) fails after LOCK_SECONDS, a
    connection not made within `connect_timeout` seconds (libpq's least: 2) fails.
    Raises psycopg.OperationalError when the server cannot be reached."""
    options = f"-c lock_timeout={LOCK_SECONDS}s"
    if read_only:
        options += " -c default_transaction_read_only=on"
    return psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=connect_timeout,
        application_name="bouncer",
        options=options,
    )


def open_pg(
    url: str,
    identity: Identity | None = None,
    *,
    create: bool = True,
    read_only: bool = False,
    connect_timeout: int = CONNECT_SECONDS,
) -> PgDatabase:
    """Open (and, unless read_only, migrate) the database at a postgresql:// URL; without
    `create`, a database without bouncer's tables is refused rather than set up.

    Raises psycopg.Error (the server cannot be reached, refuses us) and ValueError (not a
    bouncer database, newer than this code); the caller words them (`bouncer.store.open_db`).
    """
    conn = connect(url, read_only=read_only, connect_timeout=connect_timeout)
    try:
        if not (read_only or create):
            _stored_identity(conn)  # refuses a database without bouncer's tables
        stored = _stored_identity(conn) if read_only else migrate(conn, identity)
    except BaseException:
        conn.close()
        raise
    return PgDatabase(conn, stored, url)


def _stored_identity(conn: psycopg.Connection) -> Identity:
    """Return the address rule of a migrated database."""
    if schema_version(conn) is None:
        raise ValueError("not a bouncer database (no bouncer tables: start `bouncer serve`)")
    row = conn.execute("SELECT value FROM meta WHERE name = 'identity'").fetchone()
    return Identity.named(row[0])


def schema_version(conn: psycopg.Connection) -> int | None:
    """Return the database's schema version (None: no bouncer tables). Raises ValueError when
    the database holds tables of something else."""
    tables = {
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    if not tables:
        return None
    if "meta" not in tables:
        raise ValueError("not a bouncer database (it holds tables of something else)")
    row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def migrate(conn: psycopg.Connection, identity: Identity | None = None) -> Identity:
    """Bring the database to this code's schema version; return its address rule.

    A new database is created at the baseline with `identity` (default: caseless), then each
    later migration is applied, all in one transaction under an advisory lock.
    """
    latest = pg_schema.BASELINE_VERSION + len(pg_schema.MIGRATIONS)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (pg_schema.MIGRATE_LOCK,))
        version = schema_version(conn)
        if version is None:
            conn.execute(pg_schema.BASELINE)
            conn.execute(
                "INSERT INTO meta (name, value) VALUES ('identity', %s), ('schema_version', %s)",
                ((identity or Identity()).name, str(pg_schema.BASELINE_VERSION)),
            )
            version = pg_schema.BASELINE_VERSION
        if version > latest:
            raise ValueError(
                f"schema version {version} is newer than this bouncer knows ({latest})"
            )
        for number in range(version + 1, latest + 1):
            conn.execute(pg_schema.MIGRATIONS[number])
            conn.execute("UPDATE meta SET value = %s WHERE name = 'schema_version'", (str(number),))
    return _stored_identity(conn)


# A URL's password as libpq quotes it back in some messages (a URL it cannot parse)
_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s\"]*):[^@\s\"]*@", re.IGNORECASE)


def describe(error: BaseException) -> str:
    """Return a psycopg error's message on one line (libpq's hints joined to it), any URL's
    password in it replaced by ***."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return _PASSWORD.sub(r"\1:***@", " ".join(lines)) or type(error).__name__


def unreachable(error: BaseException | None) -> bool:
    """Say whether an error (or one it was raised from) is psycopg's OperationalError: the
    server cannot be reached, went away, or cannot take the statement now (shutting down,
    out of disk); not an error of the statement itself (a constraint, a syntax error)."""
    while error is not None:
        if isinstance(error, psycopg.OperationalError):
            return True
        error = error.__cause__
    return False

"""Which schema version a store is at, read without changing it (`bouncer db status`), on
either backend."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bouncer.store import StoreError, locate, shown_location
from bouncer.store.dialect import POSTGRESQL
from bouncer.store.schema import MIGRATIONS


@dataclass(frozen=True)
class SchemaStatus:
    """A store's backend, location (a URL's password hidden), schema version (None: not
    created yet), the version this code migrates to, and its address rule (None: not yet)."""

    backend: str
    location: str
    version: int | None
    latest: int
    identity: str | None

    @property
    def current(self) -> bool:
        """True when the store exists at this code's version (nothing to migrate)."""
        return self.version == self.latest


def schema_status(location: str) -> SchemaStatus:
    """Read a store's schema version and address rule without migrating or creating it.

    Raises StoreError (one line) when the store cannot be reached or read, or holds tables
    of something else.
    """
    backend, target = locate(location)
    if backend == POSTGRESQL:
        return _postgresql(target)
    file = Path(target)
    if not file.exists():
        return SchemaStatus(backend, str(file), None, len(MIGRATIONS), None)
    try:
        conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            row = (
                conn.execute("SELECT value FROM meta WHERE name = 'identity'").fetchone()
                if "meta" in tables
                else None
            )
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{file}: {exc}", "data") from exc
    if version == 0 and tables:
        raise StoreError(f"{file}: not a bouncer database (it holds tables of something else)")
    return SchemaStatus(backend, str(file), version or None, len(MIGRATIONS), row and row[0])


def _postgresql(url: str) -> SchemaStatus:
    """Read a PostgreSQL store's status (a read-only session)."""
    import psycopg

    from bouncer.store import pg

    shown = shown_location(url)
    try:
        with pg.connect(url, read_only=True) as conn:
            version = pg.schema_version(conn)
            row = (
                conn.execute("SELECT value FROM meta WHERE name = 'identity'").fetchone()
                if version is not None
                else None
            )
    except psycopg.Error as exc:
        raise StoreError(f"{shown}: cannot read: {pg.describe(exc)}", "open") from exc
    except ValueError as exc:
        raise StoreError(f"{shown}: {exc}") from exc
    return SchemaStatus(POSTGRESQL, shown, version, len(MIGRATIONS), row and row[0])

"""Database schema as numbered migrations, applied in order and tracked in PRAGMA user_version."""

from __future__ import annotations

import sqlite3

from bouncer.core.addresses import Identity, about
from bouncer.store.migrations import MIGRATIONS

__all__ = ["MIGRATIONS", "fingerprint_key", "migrate"]


def migrate(conn: sqlite3.Connection, identity: Identity | None = None) -> Identity:
    """Apply every migration newer than the database's user_version; return its identity rule.

    `identity` is the address rule a new database is created with (default: caseless); an
    existing database keeps the rule stored in its `meta` table.
    """
    rule = identity or Identity()
    conn.create_function("bouncer_identity", 0, lambda: rule.name, deterministic=True)
    conn.create_function("address_key", 1, _key_or_none(rule), deterministic=True)
    conn.create_function("about_address", 2, _about_or_none, deterministic=True)
    conn.create_function("fingerprint_key_of", 1, _fingerprint_key_or_none, deterministic=True)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
        raise sqlite3.DatabaseError("not a bouncer database (it holds tables of something else)")
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"schema version {version} is newer than this bouncer knows ({len(MIGRATIONS)})"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    stored = conn.execute("SELECT value FROM meta WHERE name = 'identity'").fetchone()[0]
    return Identity.named(stored)


def _key_or_none(rule: Identity):  # noqa: ANN202 - an SQL function
    """Return the SQL function address_key(address) for a rule (NULL stays NULL)."""
    return lambda address: None if address is None else rule.key(address)


def _about_or_none(final: str | None, original: str | None) -> str | None:
    """SQL function about_address(final, original): the address a record is about."""
    return None if final is None else about(final, original)


def fingerprint_key(fingerprint_hex: str) -> int:
    """Return the signed 64-bit integer a report's fingerprint (64 hex digits,
    bouncer.core.dsn.fingerprint) is looked up by: its first 16 hex digits, big-endian, two's
    complement, as PostgreSQL's `('x' || substr(f, 1, 16))::bit(64)::bigint` reads them.

    The store indexes this key rather than the whole text, an index a fifth the size; a match
    is confirmed on the whole fingerprint. Raises ValueError on a string that is not hex.
    """
    return int.from_bytes(bytes.fromhex(fingerprint_hex[:16]), "big", signed=True)


def _fingerprint_key_or_none(fingerprint: str | None) -> int | None:
    """SQL function fingerprint_key_of(fingerprint): its lookup key (NULL stays NULL)."""
    return None if fingerprint is None else fingerprint_key(fingerprint)

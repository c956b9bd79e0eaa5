"""What a store's tables are, read from the database's own catalog (SQLite's PRAGMAs,
PostgreSQL's system catalogs) rather than a hand list: their columns, primary key, which
tables reference which, and the identity columns whose sequences hand out new ids.

For `bouncer db copy` (`bouncer.store.copy`), which copies whatever the schema holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from bouncer.store.dialect import SQLITE

# Tables of the store's own bookkeeping, created by migrating, never copied row by row.
BOOKKEEPING = frozenset({"meta"})
_BLOB_TYPES = frozenset({"blob", "bytea"})


@dataclass(frozen=True)
class Table:
    """One table: its name, its columns (in the table's order), its one-column primary
    key, whether any column holds bytes (BLOB / bytea), and the tables it references."""

    name: str
    columns: tuple[str, ...]
    key: str
    holds_bytes: bool
    references: frozenset[str]


def tables(db: Database) -> list[Table]:
    """Return the store's tables (bookkeeping left out), each after the tables it references
    (rows inserted in this order satisfy every foreign key), else by name.

    Raises ValueError for a table without a one-column primary key (not bouncer's).
    """
    names = [name for name in _table_names(db) if name not in BOOKKEEPING]
    found = {name: _describe(db, name) for name in names}
    ordered: list[Table] = []
    placed: set[str] = set()
    while len(ordered) < len(found):
        ready = [
            table
            for name, table in sorted(found.items())
            if name not in placed and (table.references & found.keys()) - {name} <= placed
        ]
        if not ready:
            raise ValueError(f"tables reference each other in a cycle: {sorted(found)}")
        ordered.extend(ready)
        placed.update(table.name for table in ready)
    return ordered


def _table_names(db: Database) -> list[str]:
    """Return the names of the tables (SQLite's own left out)."""
    if db.dialect == SQLITE:
        rows = db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return sorted(row[0] for row in rows)
    return db.table_names()


def _describe(db: Database, name: str) -> Table:
    """Read one table's columns, primary key and references from the catalog."""
    if db.dialect == SQLITE:
        info = db.conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        columns = [(row[1], str(row[2]).lower(), row[5]) for row in info]
        references = {row[2] for row in db.conn.execute(f'PRAGMA foreign_key_list("{name}")')}
    else:
        columns = [
            (column, kind, int(primary))
            for column, kind, primary in db.conn.execute(_PG_COLUMNS, (name,))
        ]
        references = {row[0] for row in db.conn.execute(_PG_REFERENCES, (name,))}
    keys = [column for column, _, primary in columns if primary]
    if len(keys) != 1:
        raise ValueError(f"table {name} has no one-column primary key")
    return Table(
        name,
        tuple(column for column, _, _ in columns),
        keys[0],
        any(kind in _BLOB_TYPES for _, kind, _ in columns),
        frozenset(references),
    )


_PG_COLUMNS = """
    SELECT a.attname, format_type(a.atttypid, NULL),
        EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary
                AND a.attnum = ANY(i.indkey))
    FROM pg_attribute a
    WHERE a.attrelid = to_regclass(quote_ident(?)) AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum
"""
_PG_REFERENCES = """
    SELECT c.confrelid::regclass::text FROM pg_constraint c
    WHERE c.conrelid = to_regclass(quote_ident(?)) AND c.contype = 'f'
"""


def identity_columns(db: Database) -> list[tuple[str, str]]:
    """Return (table, column) of each identity column of a PostgreSQL store (none on SQLite,
    whose INTEGER PRIMARY KEY gives a new row the largest id plus one)."""
    if db.dialect == SQLITE:
        return []
    rows = db.conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY 1, 2"
    )
    return [(table, column) for table, column in rows]

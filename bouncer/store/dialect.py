"""The SQL store statements are written once, in SQL that SQLite and PostgreSQL both accept;
this module turns a statement's SQLite spelling into PostgreSQL's where the two differ only
in form.

Translated here (mechanically, for every statement):
- parameter marks: `?` (sqlite3's qmark style) becomes `%s` (psycopg's), and a literal `%`
  becomes `%%` (psycopg reads `%` as the start of a mark anywhere in the text);
- `INDEXED BY name`, SQLite's index hint, is dropped: PostgreSQL's planner has no hints.

Not translated, because the shared SQL avoids them: `INSERT OR IGNORE` (both accept
`ON CONFLICT DO NOTHING`), `lastrowid` (both accept `RETURNING`), blob literals (passed as
parameters). PostgreSQL lacks SQLite's `instr`; the PostgreSQL schema defines it
(`bouncer.store.pg_schema`), so the domain expressions and their indexes are the same text.
What truly differs is chosen per statement by `db.dialect` in the module that issues it.
"""

from __future__ import annotations

import functools
import re

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

# A read transaction that sees one state throughout: SQLite's in WAL mode does; PostgreSQL's
# default (read committed) takes a new snapshot per statement, repeatable read keeps one.
SNAPSHOT = {SQLITE: "BEGIN", POSTGRESQL: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"}

_HINT = re.compile(r"\bINDEXED\s+BY\s+\w+\s*", re.IGNORECASE)


def among(dialect: str, subquery: str) -> str:
    """Return the condition "is one of the ids this subquery selects", for `id {among(...)}`.

    SQLite: `IN (subquery)`. PostgreSQL plans `IN (SELECT ... LIMIT n)` as a join that reads
    the whole table once the table is large (measured: a hash semi join over 200,000 rows to
    delete 1,000); `= ANY(ARRAY(subquery))` runs the subquery once and looks each id up.
    """
    return f"IN ({subquery})" if dialect == SQLITE else f"= ANY(ARRAY({subquery}))"


@functools.lru_cache(maxsize=1024)
def to_postgresql(sql: str) -> str:
    """Return the PostgreSQL form of a statement written for SQLite (see the module's list).

    `?` marks inside quoted text or comments are left alone; `%` is doubled everywhere.
    """
    return _marks(_HINT.sub("", sql))


def _marks(sql: str) -> str:
    """Turn `?` outside quotes and comments into `%s`, and every `%` into `%%`."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        end = _skip(sql, i)
        if end > i:  # a quoted text or a comment: copied as is (but for %)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
            continue
        out.append("%s" if char == "?" else "%%" if char == "%" else char)
        i += 1
    return "".join(out)


def _skip(sql: str, i: int) -> int:
    """Return where the quoted text or comment starting at i ends (i when none starts)."""
    char = sql[i]
    if char in "'\"":
        end = i + 1
        while True:
            end = sql.find(char, end)
            if end < 0:
                return len(sql)
            if sql.startswith(char * 2, end):  # a doubled quote stays inside
                end += 2
                continue
            return end + 1
    if sql.startswith("/*", i):
        end = sql.find("*/", i + 2)
        return len(sql) if end < 0 else end + 2
    if sql.startswith("--", i):
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end + 1
    return i

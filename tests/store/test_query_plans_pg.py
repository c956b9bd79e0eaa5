"""The same check as test_query_plans.py, on PostgreSQL: the store's workload is run on a real
PostgreSQL database with every statement and its parameters recorded, then each is planned
(EXPLAIN, not run) with sequential scans priced out of reach (`enable_seqscan = off`). A
sequential scan still planned means no index can serve the query: on a growing table that
is a scan whose cost grows with the history. Queries marked `/* scan: reason */` are
deliberate, as on SQLite.
"""

from __future__ import annotations

import json
import re

import pytest

from bouncer.config import WebhookConfig
from bouncer.store import open_db
from bouncer.store.dialect import to_postgresql
from bouncer.store.pg import PgConnection
from tests.store.test_query_plans import GROWING, _queries, _workload


@pytest.fixture(scope="module")
def run(pg_cluster, pg_template):  # noqa: ANN001, ANN201
    """Run the workload once on PostgreSQL, every statement recorded: (db, {sql: params})."""
    name = pg_cluster.new_database(pg_template)
    db = open_db(pg_cluster.url(name))
    seen: dict[str, tuple] = {}
    execute, executemany = PgConnection.execute, PgConnection.executemany

    def recording(self, sql, params=None):  # noqa: ANN001, ANN202
        seen.setdefault(sql, tuple(params or ()))
        return execute(self, sql, params)

    def recording_many(self, sql, rows):  # noqa: ANN001, ANN202
        rows = [tuple(row) for row in rows]
        if rows:
            seen.setdefault(sql, rows[0])
        return executemany(self, sql, rows)

    patch = pytest.MonkeyPatch()
    patch.setattr(PgConnection, "execute", recording)
    patch.setattr(PgConnection, "executemany", recording_many)
    try:
        _workload(db, WebhookConfig(url="http://127.0.0.1:9/hook", secret="s" * 16))
    finally:
        patch.undo()
    yield db, seen
    db.close()
    pg_cluster.drop(name)


def _sequential_scans(db, sql: str, params: tuple) -> list[str]:  # noqa: ANN001
    """Return how the plan of one statement reads a growing table from end to end: a
    sequential scan, or a walk over a whole index (no index condition) that is neither a
    partial index (rows in one state only) nor stopped by a LIMIT (a page filled as it
    walks, filtering on nothing but the index's own columns)."""
    raw = db.conn.raw
    with raw.transaction():
        raw.execute("SET LOCAL enable_seqscan = off")
        (plan,) = raw.execute(f"EXPLAIN (FORMAT JSON) {to_postgresql(sql)}", params).fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    found: list[str] = []
    stack = [(plan[0]["Plan"], False)]
    while stack:
        node, limited = stack.pop()
        limited = limited or node["Node Type"] == "Limit"
        if node.get("Relation Name") in GROWING and _whole(db, node, limited):
            found.append(f"{node['Node Type']} on {node['Relation Name']}")
        stack.extend((child, limited) for child in node.get("Plans", []))
    return found


def _whole(db, node: dict, limited: bool) -> bool:  # noqa: ANN001
    """Say whether a plan node reads its whole table or a whole index of it."""
    if node["Node Type"] == "Seq Scan":
        return True
    if "Index Name" not in node or "Index Cond" in node:
        return False
    (definition,) = db.conn.raw.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = %s", (node["Index Name"],)
    ).fetchone()
    if " WHERE " in definition:
        return False
    return not (limited and _filters_within(db, node))


def _filters_within(db, node: dict) -> bool:  # noqa: ANN001
    """Say whether a node's filter names only columns its index holds."""
    if "Filter" not in node:
        return True
    rows = db.conn.raw.execute(
        "SELECT a.attname, a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum > 0 "
        "WHERE i.indexrelid = %s::regclass",
        (node["Index Name"],),
    ).fetchall()
    columns = {name for name, _ in rows}
    indexed = {name for name, held in rows if held}
    named = set(re.findall(r"\b(\w+)\b", re.sub(r"'[^']*'", "", node["Filter"])))
    return (named & columns) <= indexed


def test_no_query_scans_a_growing_table_on_postgresql(run) -> None:  # noqa: ANN001
    db, seen = run
    queries = _queries(list(seen))
    assert len(queries) > 40  # the workload reached the store
    scans = [
        f"{sql[:300]}\n    reads a whole table or index: {tables}"
        for sql in sorted(queries)
        if (tables := _sequential_scans(db, sql, seen[sql]))
    ]
    assert not scans, "\n".join(scans)

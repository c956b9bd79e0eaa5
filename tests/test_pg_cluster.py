"""The throwaway PostgreSQL cluster the PostgreSQL-backed tests run on."""

from __future__ import annotations

import psycopg
import pytest


def test_a_database_is_created_copied_from_a_template_and_dropped(pg_cluster) -> None:  # noqa: ANN001
    template = pg_cluster.new_database()
    with psycopg.connect(pg_cluster.url(template), autocommit=True) as conn:
        conn.execute("CREATE TABLE marks (n integer)")
        conn.execute("INSERT INTO marks VALUES (7)")
    copy = pg_cluster.new_database(template)
    with psycopg.connect(pg_cluster.url(copy)) as conn:
        assert conn.execute("SELECT n FROM marks").fetchall() == [(7,)]
    pg_cluster.drop(copy)
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(pg_cluster.url(copy)).close()

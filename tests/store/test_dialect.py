"""Statements written once in SQLite's spelling, as PostgreSQL receives them."""

from __future__ import annotations

from bouncer.store import locate
from bouncer.store.dialect import to_postgresql


def test_marks_become_psycopg_marks_outside_quotes_and_comments() -> None:
    sql = "SELECT '?', \"a?b\" /* why? */ FROM t WHERE a = ? AND b IN (?, '<' || ? || '>')"
    assert to_postgresql(sql) == (
        "SELECT '?', \"a?b\" /* why? */ FROM t WHERE a = %s AND b IN (%s, '<' || %s || '>')"
    )


def test_percent_signs_are_doubled_everywhere() -> None:
    sql = "SELECT 1 WHERE s LIKE '50%' AND t LIKE ? /* 100% */ -- 5%\n"
    assert to_postgresql(sql) == ("SELECT 1 WHERE s LIKE '50%%' AND t LIKE %s /* 100%% */ -- 5%%\n")


def test_doubled_quotes_stay_inside_the_text() -> None:
    assert to_postgresql("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', %s"


def test_index_hints_are_dropped() -> None:
    sql = "SELECT * FROM bounces INDEXED BY bounces_listing WHERE received_at >= ?"
    assert to_postgresql(sql) == "SELECT * FROM bounces WHERE received_at >= %s"


def test_a_location_names_its_backend() -> None:
    assert locate("state/bouncer.db") == ("sqlite", "state/bouncer.db")
    assert locate("sqlite:///var/lib/bouncer/b.db") == ("sqlite", "/var/lib/bouncer/b.db")
    assert locate("sqlite://state/b.db") == ("sqlite", "state/b.db")
    url = "postgresql://bouncer:pw@db.example:5432/bouncer"
    assert locate(url) == ("postgresql", url)
    assert locate("postgres://db.example/b") == ("postgresql", "postgres://db.example/b")

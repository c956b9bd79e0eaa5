"""Counts for operators: messages by state, failures by class, reason and domain, open work;
failures per bucket (reason, class, domain, kind or hour) over a time window."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import to_iso


def _pairs(db: Database, sql: str, params: tuple = ()) -> dict[str, int]:
    """Run a two-column GROUP BY query into a dict."""
    return {str(key): count for key, count in db.conn.execute(sql, params)}


def summary(db: Database, since: str, now: datetime, top: int = 10) -> dict:
    """Return counts since an ISO time, plus what is open or active now."""
    window = (since,)
    return {
        "since": since,
        "messages": _pairs(
            db, "SELECT state, COUNT(*) FROM messages WHERE received_at >= ? GROUP BY state", window
        ),
        "kinds": _pairs(
            db,
            "SELECT COALESCE(kind, 'pending'), COUNT(*) FROM messages "
            "WHERE received_at >= ? GROUP BY 1",
            window,
        ),
        "classes": _pairs(
            db, "SELECT class, COUNT(*) FROM bounces WHERE received_at >= ? GROUP BY class", window
        ),
        "reasons": _pairs(
            db,
            "SELECT reason, COUNT(*) AS n FROM bounces INDEXED BY bounces_listing "
            "WHERE received_at >= ? "
            "AND class != 'none' GROUP BY reason ORDER BY n DESC LIMIT ?",
            (since, top),
        ),
        "domains": _pairs(
            db,
            "SELECT substr(recipient_key, instr(recipient_key, '@') + 1) AS d, COUNT(*) AS n "
            "FROM bounces INDEXED BY bounces_listing WHERE received_at >= ? AND class != 'none' "
            "GROUP BY d ORDER BY n DESC LIMIT ?",
            (since, top),
        ),
        "open_deferrals": db.conn.execute(
            "SELECT COUNT(*) FROM deferrals WHERE closed_at IS NULL"
        ).fetchone()[0],
        "active_suppressions": db.conn.execute(
            "/* scan: counts the whole list, on a covering index (~20 ms a million) */ "
            "SELECT COUNT(*) FROM suppressions WHERE expires_at IS NULL OR expires_at > ?",
            (to_iso(now),),
        ).fetchone()[0],
    }


# What `counts` can group failures by: the SQL expression of each bucket.
BUCKETS = {
    "reason": "reason",
    "class": "class",
    "kind": "kind",
    "domain": "substr(recipient_key, instr(recipient_key, '@') + 1)",
    "hour": "substr(received_at, 1, 13) || ':00Z'",
}


def counts(
    db: Database, by: str, since: str, until: str | None = None, limit: int = 1000
) -> list[tuple[str, int]]:
    """Return (bucket, failures) for bounce records received in [since, until), most first
    (by "hour": oldest hour first, each named "YYYY-MM-DDTHH:00Z", hours without failures
    left out). A failure is a record whose class is hard or soft.

    `since` and `until` are ISO 8601 UTC texts as stored (`clock.to_iso`). Raises ValueError
    for a `by` not in BUCKETS.
    """
    if by not in BUCKETS:
        raise ValueError(f"cannot count by {by!r}: one of {', '.join(BUCKETS)}")
    order = "bucket" if by == "hour" else "n DESC, bucket"
    sql = (
        f"SELECT {BUCKETS[by]} AS bucket, COUNT(*) AS n FROM bounces INDEXED BY bounces_listing "
        "WHERE received_at >= ? AND received_at < ? AND class != 'none' "
        f"GROUP BY bucket ORDER BY {order} LIMIT ?"
    )
    rows = db.conn.execute(sql, (since, until or "9999", limit))
    return [(str(bucket), count) for bucket, count in rows]


def gauges(db: Database, now: datetime) -> dict[str, int]:
    """Return what is active or waiting now: active suppressions, open deferrals, webhook
    deliveries not yet made (pending, as the outbox holds them), and open alert episodes as
    "alerts_open:<type>" (failures.spike, sender.blocked; a type with none is left out)."""
    return {
        "suppressions": db.conn.execute(
            "/* scan: counts the whole list, on a covering index (~20 ms a million) */ "
            "SELECT COUNT(*) FROM suppressions WHERE expires_at IS NULL OR expires_at > ?",
            (to_iso(now),),
        ).fetchone()[0],
        "open_deferrals": db.conn.execute(
            "SELECT COUNT(*) FROM deferrals WHERE closed_at IS NULL"
        ).fetchone()[0],
        "pending_deliveries": db.conn.execute(
            "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'"
        ).fetchone()[0],
        **{
            f"alerts_open:{kind}": count
            for kind, count in db.conn.execute(
                "SELECT type, COUNT(*) FROM alerts WHERE ended_at IS NULL GROUP BY type"
            )
        },
    }

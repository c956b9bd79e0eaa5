"""The Overview page: failures per hour over 7 days with the spike threshold, open alerts, top
reasons and receiving domains, and open deferrals by age.

Failures are hard and soft bounce records (stats.counts); the threshold drawn is
`[alerts] threshold` per `[alerts] window`, as failures per hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from sqlite_utils import Database

from bouncer.clock import from_iso, to_iso
from bouncer.console import chart
from bouncer.console.app import backend_of, render, settings_of
from bouncer.core.alerts import scope_fields
from bouncer.store import alerts, deferrals, stats

routes = web.RouteTableDef()
DAYS = 7
TOP = 10
DEFERRALS_READ = 1000  # open deferrals sorted into ages (the most recently seen)
AGES = (
    (timedelta(hours=4), "under 4 hours"),
    (timedelta(days=1), "4 hours to 1 day"),
    (timedelta(days=4), "1 to 4 days"),
    (timedelta.max, "over 4 days"),
)


def _read(db: Database, now: datetime, since: datetime) -> dict:
    """Everything the page shows, read in one go."""
    start = to_iso(since)
    opened = deferrals.listing(db, open_only=True, limit=DEFERRALS_READ)
    return {
        "hours": dict(stats.counts(db, "hour", start)),
        "reasons": stats.counts(db, "reason", start, limit=TOP),
        "domains": stats.counts(db, "domain", start, limit=TOP),
        "episodes": sorted(alerts.open_episodes(db).values(), key=lambda e: e.opened_at),
        "ages": _ages(opened, now),
        "deferrals_cut": len(opened) == DEFERRALS_READ,
    }


def _ages(opened: list[dict], now: datetime) -> list[tuple[str, int]]:
    """Count open deferrals by age (from when the original was first known to be deferred)."""
    counts = [0] * len(AGES)
    for row in opened:
        began = from_iso(row["started_at"] or row["opened_at"])
        age = now - began if began else timedelta(0)
        counts[next(i for i, (limit, _) in enumerate(AGES) if age < limit)] += 1
    return [(label, count) for (_, label), count in zip(AGES, counts, strict=True)]


@routes.get("/overview")
async def overview(request: web.Request) -> web.Response:
    """Render the overview of the last 7 days."""
    service = backend_of(request)
    now = service.clock()
    hours = chart.hours_of(now - timedelta(days=DAYS) + timedelta(hours=1), DAYS * 24)
    read = await service.read(lambda db: _read(db, now, hours[0]))
    policy = settings_of(request).alerts
    per_hour = round(policy.threshold * timedelta(hours=1) / policy.window) if policy.enabled else 0
    context = {
        **read,
        "chart": chart.build(hours, read["hours"], per_hour),
        "total": sum(read["hours"].values()),
        "alerts_enabled": policy.enabled,
        "episodes": [
            {"type": e.type, "opened_at": e.opened_at, "peak": e.peak, **scope_fields(e.scope)}
            for e in read["episodes"]
        ],
        "window": policy.window,
    }
    return render("overview.html", request, context)

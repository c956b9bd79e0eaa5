"""Health, readiness and metrics: /healthz, /readyz, /metrics.

/healthz answers 200 while every loop of the daemon is healthy (as the systemd watchdog sees
it), 503 with the problems otherwise; /readyz also needs SMTP listening, the intake writer
without an unresolved failure and the database writable. A node with a local spool (a
PostgreSQL store) is ready while the shared store is away, as its spool takes the messages:
/readyz then answers 200 with status "spooling" and the spool's state ({"spool": {"messages":
waiting, "store_error": why the shared store cannot take them}}), and 503 only when the spool
cannot store either (intake's failure). Both are open to anyone, as is /metrics unless
`http.metrics_open` is false.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from bouncer.http.app import backend
from bouncer.http.auth import needs
from bouncer.http.errors import reply
from bouncer.http.metrics import CONTENT_TYPE
from bouncer.store import stats

log = structlog.get_logger("bouncer.http")


def _state(problems: list[str]) -> web.Response:
    """Return 200 {"status": "ok"} or 503 {"status": "failing", "problems": [...]}."""
    if problems:
        return reply({"status": "failing", "problems": problems}, 503)
    return reply({"status": "ok", "problems": []})


async def healthz(request: web.Request) -> web.Response:
    """Liveness: every loop of the daemon healthy."""
    return _state(backend(request).problems())


async def readyz(request: web.Request) -> web.Response:
    """Readiness: healthy, SMTP listening, intake storing, the database writable (or the
    spool taking the messages: 200 "spooling")."""
    problems, details = await backend(request).unready()
    if problems:
        return reply({"status": "failing", "problems": problems, **details}, 503)
    spool = details.get("spool")
    spooling = spool is not None and bool(spool["messages"] or spool["store_error"])
    return reply({"status": "spooling" if spooling else "ok", "problems": [], **details})


async def metrics(request: web.Request) -> web.Response:
    """The daemon's metrics in the Prometheus text format."""
    service = backend(request)
    now = service.clock()
    try:
        service.metrics.set_gauges(await service.read(lambda db: stats.gauges(db, now)))
    except Exception as exc:  # noqa: BLE001 - the store away (a node spooling): the rest counts
        log.warning("metrics.gauges_unread", error=str(exc))
    return web.Response(body=service.metrics.render(), headers={"Content-Type": CONTENT_TYPE})


async def metrics_with_token(request: web.Request) -> web.Response:
    """/metrics when `http.metrics_open` is false: a read token needed."""
    return await metrics(request)


needs("read")(metrics_with_token)


def routes(*, metrics_open: bool) -> list[web.RouteDef]:
    """Return the probe routes (metrics open or behind a read token)."""
    return [
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
        web.get("/metrics", metrics if metrics_open else metrics_with_token),
    ]

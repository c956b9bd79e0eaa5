"""The aiohttp application: routes of every module, the error and auth middlewares, and the
`Backend` through which handlers reach the daemon.

Handlers read through `Backend.read` (reader threads, read-only connections) and write through
`Backend.write`, the daemon's processor thread (`Processor.call`), so the API never adds a
writer beside the daemon's own: its changes are serialised with processing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from sqlite_utils import Database

from bouncer.config import HttpConfig
from bouncer.http import auth, errors
from bouncer.http.metrics import Metrics
from bouncer.http.reader import Reader

T = TypeVar("T")
MAX_BODY = 4 * 1024 * 1024  # a check of 10,000 addresses of up to 320 characters fits


@dataclass
class Backend:
    """What the API needs from the running daemon.

    `read(work)` / `write(work)` run work(db) on a reader thread / the processor thread;
    `clock` is the daemon's clock (aware UTC); `problems()` lists why the daemon is unhealthy
    (its loops), `unready()` why it cannot take mail now (also SMTP and the database) and
    what /readyz shows beside (a node with a local spool: {"spool": {...}});
    `class_overrides` is what classifying a stored report again needs.
    """

    reader: Reader
    write: Callable[[Callable[[Database], Any]], Awaitable[Any]]
    clock: Callable[[], datetime]
    problems: Callable[[], list[str]]
    unready: Callable[[], Awaitable[tuple[list[str], dict]]]
    metrics: Metrics
    class_overrides: Mapping[str, str] = field(default_factory=dict)

    async def read(self, work: Callable[[Database], T]) -> T:
        """Run work(db) on a read-only connection, off the event loop."""
        return await self.reader.run(work)


BACKEND = web.AppKey("backend", Backend)


def backend(request: web.Request) -> Backend:
    """Return the Backend of the application serving the request."""
    return request.app[BACKEND]


def make_app(config: HttpConfig, service: Backend) -> web.Application:
    """Build the application: every route, errors as problem details, token auth."""
    from bouncer.http import events, openapi, probes, records, suppressions

    tokens = auth.Tokens(config.tokens)
    app = web.Application(
        middlewares=[errors.errors, auth.middleware(tokens)], client_max_size=MAX_BODY
    )
    app[BACKEND] = service
    app.add_routes(probes.routes(metrics_open=config.metrics_open))
    for module in (suppressions, records, events, openapi):
        app.add_routes(module.routes)
    return app

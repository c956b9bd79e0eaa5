"""Answers in JSON: results, and errors as RFC 9457 problem details.

Every error is `application/problem+json` with `status`, `title` (the status phrase), `detail`
(a sentence a person understands) and, when one input is at fault, `field` naming it (a query
parameter, a body member such as `addresses[17]`, or a path part such as `address`). Errors of
the router (no such path, method not allowed), of aiohttp (body too large) and unexpected
exceptions get the same shape.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from aiohttp import web

log = structlog.get_logger("bouncer.http")
_ENCODE = msgspec.json.Encoder().encode


class ApiError(Exception):
    """An answer other than success: HTTP status, the sentence to show, the field at fault."""

    def __init__(
        self,
        status: int,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.headers = headers


def reply(data: Any, status: int = 200) -> web.Response:
    """Return data (dicts, lists, str, numbers, None) as a JSON response."""
    return web.Response(body=_ENCODE(data), status=status, content_type="application/json")


def problem(
    status: int, detail: str, field: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """Return an RFC 9457 problem details response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    return web.Response(
        body=_ENCODE(body),
        status=status,
        content_type="application/problem+json",
        headers=headers,
    )


@web.middleware
async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn ApiError, aiohttp's HTTP errors and unexpected exceptions into problem details."""
    try:
        return await handler(request)
    except ApiError as exc:
        return problem(exc.status, exc.detail, exc.field, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_aiohttp(request, exc)
    except Exception:  # noqa: BLE001 - a request must never take the server down
        log.exception("http.failed", method=request.method, path=request.path)
        return problem(500, "the request failed inside bouncer; its log has the details")


def _from_aiohttp(request: web.Request, exc: web.HTTPException) -> web.Response:
    """Say in words what aiohttp refused."""
    where = f"{request.method} {request.path}"
    if exc.status == 404:
        detail = f"no such endpoint: {where} (the endpoints: /v1/openapi.json)"
    elif exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        return problem(
            405, f"{where}: method not allowed (allowed: {allowed})", None, {"Allow": allowed}
        )
    elif exc.status == 413:
        detail = f"the request body is too large ({exc.text or 'over the limit'})"
    else:
        detail = exc.text or HTTPStatus(exc.status).phrase
    return problem(exc.status, detail)

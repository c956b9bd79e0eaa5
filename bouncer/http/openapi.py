"""The OpenAPI 3.1 document of the API, served at /v1/openapi.json.

Written by hand beside the routes (pieces in bouncer.http.openapi_parts);
tests/http/test_openapi.py validates it and checks that every route of the application is in
it and that every operation it lists answers (not 404 or 405).
"""

from __future__ import annotations

from aiohttp import web

from bouncer.core.tracker_types import EVENT_TYPES
from bouncer.http.errors import reply
from bouncer.http.openapi_parts import (
    ADDRESS,
    CLASS,
    CURSOR,
    LIMIT,
    MESSAGE,
    OPEN,
    REASON,
    SINCE,
    TEXT,
    UNTIL,
    json_body,
    operation,
    page_of,
    param,
    ref,
    schemas,
)
from bouncer.store import stats

routes = web.RouteTableDef()
KINDS = ["bounce", "delay", "delivered", "autoreply", "complaint", "unknown"]


def _suppression_list() -> dict:
    """GET /v1/suppressions and POST /v1/suppressions/check."""
    addresses = {"type": "array", "items": TEXT, "minItems": 1, "maxItems": 10000}
    checked = {
        "type": "object",
        "properties": {
            "suppressed": {"type": "array", "items": ref("Suppression")},
            "clear": {"type": "array", "items": TEXT},
        },
        "description": "Each suppressed entry has `query`: the address as given.",
    }
    return {
        "/v1/suppressions": {
            "get": operation(
                "Active suppressions, newest first suppressed first (keyset pages).",
                {"200": json_body(page_of("suppressions", ref("Suppression")), "One page.")},
                params=(REASON, CLASS, SINCE, UNTIL, LIMIT, CURSOR),
                problems=(400,),
            )
        },
        "/v1/suppressions/check": {
            "post": operation(
                "Check up to 10,000 addresses in one round trip.",
                {"200": json_body(checked, "Suppressed and clear addresses.")},
                body={
                    "type": "object",
                    "required": ["addresses"],
                    "properties": {"addresses": addresses},
                },
                problems=(400,),
            )
        },
    }


def _suppression_one() -> dict:
    """GET, PUT and DELETE /v1/suppressions/{address}."""
    entry = ref("Suppression")
    manual = {
        "type": "object",
        "required": ["reason"],
        "properties": {
            "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
            "note": {"type": "string", "maxLength": 1000},
            "class": {"enum": ["hard", "soft"], "default": "hard"},
            "expires": {"type": "string", "description": 'A duration such as "14d".'},
        },
    }
    force = param("force", "query", "Also lift a complaint's entry.", {"type": "boolean"})
    reason = {**param("reason", "query", "Why (recorded)."), "required": True}
    removed = {"type": "object", "properties": {"removed": entry}}
    return {
        "/v1/suppressions/{address}": {
            "parameters": [ADDRESS],
            "get": operation(
                "An address's active suppression, with operators' changes.",
                {"200": json_body(entry, "Suppressed.")},
                problems=(400, 404),
            ),
            "put": operation(
                "Suppress by hand (admin token); recorded as made by api:<token name>.",
                {"201": json_body(entry, "Newly suppressed."), "200": json_body(entry, "Updated.")},
                body=manual,
                problems=(400, 403),
            ),
            "delete": operation(
                "Lift a suppression (admin token); a complaint's needs force=true.",
                {"200": json_body(removed, "Removed.")},
                params=(reason, force),
                problems=(400, 403, 404, 409),
            ),
        }
    }


def _log() -> dict:
    """GET /v1/bounces and the stored messages."""
    filters = (
        param("recipient", "query", "An address (or its final recipient), or @domain."),
        param(
            "sender",
            "query",
            "The return path the report came back to, any case. Without a +subaddress "
            "(bounces@shop.example) it also matches that address with any (bounces+...@"
            "shop.example: signed VERP return paths, RFC 5233); with one, that return path only.",
        ),
        param("message_id", "query", "The original's Message-ID (angle brackets optional)."),
        SINCE, UNTIL, CLASS, REASON,
        param("kind", "query", "The report's kind.", {"enum": KINDS}),
        LIMIT, CURSOR,
    )  # fmt: skip
    raw = {"description": "As received.", "content": {"message/rfc822": {"schema": TEXT}}}
    return {
        "/v1/bounces": {
            "get": operation(
                "The bounce log, newest first (keyset pages).",
                {"200": json_body(page_of("bounces", ref("Bounce")), "One page.")},
                params=filters,
                problems=(400,),
            )
        },
        "/v1/messages/{id}": {
            "get": operation(
                "A stored report: envelope, records, the report parsed now; raw (admin token).",
                {"200": json_body({"type": "object"}, "The message.")},
                params=(MESSAGE,),
                problems=(400, 404),
            )
        },
        "/v1/messages/{id}/raw": {
            "get": operation(
                "The stored message as received (admin token).",
                {"200": raw},
                params=(MESSAGE,),
                problems=(400, 403, 404, 410),
            )
        },
    }


def _activity() -> dict:
    """GET /v1/events and /v1/stats."""
    listed = {
        "type": "object",
        "properties": {"events": {"type": "array"}, "next_after": {"type": "integer"}},
    }
    return {
        "/v1/events": {
            "get": operation(
                "Events in commit order after a position, for pollers.",
                {"200": json_body(listed, "Events; pass next_after back as after.")},
                params=(
                    param("after", "query", "An event's seq or id (default: from the first)."),
                    param("type", "query", "Only this event type.", {"enum": list(EVENT_TYPES)}),
                    LIMIT,
                ),
                problems=(400,),
            )
        },
        "/v1/stats": {
            "get": operation(
                "Failures (hard or soft records) per bucket; default the last 24 hours.",
                {"200": json_body({"type": "object"}, "by, since, until, buckets.")},
                params=(
                    param("by", "query", "The bucket.", {"enum": list(stats.BUCKETS)}),
                    SINCE,
                    UNTIL,
                ),
                problems=(400,),
            )
        },
    }


def _probes() -> dict:
    """Health, readiness, metrics and this document."""
    state = {"type": "object", "properties": {"status": {"enum": ["ok", "failing"]}}}
    answers = {"200": json_body(state, "Yes."), "503": json_body(state, "No, and why.")}
    spool = {
        "type": "object",
        "description": "A node with a local spool (PostgreSQL store): what it holds.",
        "properties": {
            "messages": {"type": "integer"},
            "store_error": {"type": ["string", "null"]},
        },
    }
    ready = {
        "type": "object",
        "properties": {"status": {"enum": ["ok", "spooling", "failing"]}, "spool": spool},
    }
    ready_answers = {
        "200": json_body(ready, "Yes (spooling: the shared store away, the spool taking mail)."),
        "503": json_body(ready, "No, and why."),
    }
    text = {"description": "Prometheus text.", "content": {"text/plain": {"schema": TEXT}}}
    metrics = "Prometheus metrics (a read token when http.metrics_open is false)."
    return {
        "/healthz": {"get": operation("Liveness: every loop healthy.", answers, security=OPEN)},
        "/readyz": {
            "get": operation(
                "Readiness: also SMTP, the database writable.", ready_answers, security=OPEN
            )
        },
        "/metrics": {"get": operation(metrics, {"200": text}, security=[{}, {"bearer": []}])},
        "/v1/openapi.json": {
            "get": operation(
                "This document.", {"200": json_body({"type": "object"}, "OpenAPI.")}, security=OPEN
            )
        },
    }


def document() -> dict:
    """Return the OpenAPI 3.1 document."""
    paths = {**_suppression_list(), **_suppression_one(), **_log(), **_activity(), **_probes()}
    bearer = {"type": "http", "scheme": "bearer", "description": "A token of [http] tokens."}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "bouncer",
            "version": "1",
            "description": "Suppressions, the bounce log, stored reports, events and counts.",
        },
        "paths": paths,
        "components": {"schemas": schemas(), "securitySchemes": {"bearer": bearer}},
        "security": [{"bearer": []}],
    }


@routes.get("/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this API."""
    return reply(document())

"""The OpenAPI 3.1 document of the API, served at /v1/openapi.json.

Written by hand from the routes; tests/http/test_openapi.py checks that every route of the
application is documented and that every documented operation answers (not 404 or 405).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bouncer.core.tracker_types import EVENT_TYPES
from bouncer.http.errors import reply
from bouncer.store import stats

routes = web.RouteTableDef()

_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _param(
    name: str, where: str, description: str, schema: dict | None = None, **extra: Any
) -> dict:
    """One parameter object."""
    return {
        "name": name,
        "in": where,
        "description": description,
        "schema": schema or _TEXT,
        **extra,
    }


def _json(schema: dict, description: str) -> dict:
    """A response object with a JSON body."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*statuses: int) -> dict:
    """Problem-details responses for the given statuses (401 always: a token is needed)."""
    words = {
        400: "A parameter or member does not fit; `field` names it.",
        401: "No token, or one bouncer does not know.",
        403: "The token's scope is too narrow (an admin token is needed).",
        404: "Not found.",
        409: "The change needs confirming (`force=true`).",
        410: "Gone (the raw copy was pruned).",
    }
    return {
        str(status): {
            "description": words[status],
            "content": {"application/problem+json": {"schema": _PROBLEM}},
        }
        for status in (*statuses, 401)
    }


_LIMIT = _param(
    "limit",
    "query",
    "Rows per page.",
    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
)
_CURSOR = _param("cursor", "query", "The next_cursor of the previous page (opaque).")
_SINCE = _param("since", "query", "ISO 8601 time, inclusive (a time without zone is UTC).", _TIME)
_UNTIL = _param("until", "query", "ISO 8601 time, exclusive.", _TIME)
_CLASS = _param("class", "query", "hard, soft or none.", {"enum": ["hard", "soft", "none"]})
_REASON = _param("reason", "query", "A reason name (Sisimai's vocabulary), e.g. userunknown.")
_ADDRESS = _param("address", "path", "An email address.", required=True)
_ID = _param(
    "id", "path", "A stored message's number.", {"type": "integer", "minimum": 1}, required=True
)
_READ = [{"bearer": []}]


def _suppressions() -> dict:
    """Paths under /v1/suppressions."""
    entry = {"$ref": "#/components/schemas/Suppression"}
    page = {
        "type": "object",
        "properties": {
            "suppressions": {"type": "array", "items": entry},
            "next_cursor": _NULLABLE_TEXT,
        },
    }
    manual = {
        "type": "object",
        "required": ["reason"],
        "properties": {
            "reason": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1000,
                "description": "Why (recorded).",
            },
            "note": {"type": "string", "maxLength": 1000},
            "class": {"enum": ["hard", "soft"], "default": "hard"},
            "expires": {
                "type": "string",
                "description": 'A duration such as "14d"; none: permanent.',
            },
        },
    }
    check = {
        "type": "object",
        "required": ["addresses"],
        "properties": {
            "addresses": {"type": "array", "items": _TEXT, "minItems": 1, "maxItems": 10000}
        },
    }
    checked = {
        "type": "object",
        "properties": {
            "suppressed": {
                "type": "array",
                "items": entry,
                "description": "Each with `query`: the address as given.",
            },
            "clear": {"type": "array", "items": _TEXT},
        },
    }
    return {
        "/v1/suppressions": {
            "get": {
                "summary": "Active suppressions, newest first suppressed first (keyset pages).",
                "parameters": [_REASON, _CLASS, _SINCE, _UNTIL, _LIMIT, _CURSOR],
                "responses": {"200": _json(page, "One page."), **_problems(400)},
                "security": _READ,
            }
        },
        "/v1/suppressions/check": {
            "post": {
                "summary": "Check up to 10,000 addresses in one round trip.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": check}},
                },
                "responses": {
                    "200": _json(checked, "Suppressed and clear addresses."),
                    **_problems(400),
                },
                "security": _READ,
            }
        },
        "/v1/suppressions/{address}": {
            "parameters": [_ADDRESS],
            "get": {
                "summary": "An address's active suppression, with operators' changes.",
                "responses": {"200": _json(entry, "Suppressed."), **_problems(400, 404)},
                "security": _READ,
            },
            "put": {
                "summary": "Suppress by hand (admin); recorded as api:<token name>.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": manual}},
                },
                "responses": {
                    "201": _json(entry, "Newly suppressed."),
                    "200": _json(entry, "Was suppressed; now the operator's entry."),
                    **_problems(400, 403),
                },
                "security": _READ,
            },
            "delete": {
                "summary": "Lift a suppression (admin); a complaint's needs force=true.",
                "parameters": [
                    _param("reason", "query", "Why (recorded).", required=True),
                    _param(
                        "force",
                        "query",
                        "Also lift a complaint's entry.",
                        {"type": "boolean", "default": False},
                    ),
                ],
                "responses": {
                    "200": _json({"type": "object", "properties": {"removed": entry}}, "Removed."),
                    **_problems(400, 403, 404, 409),
                },
                "security": _READ,
            },
        },
    }


def _records() -> dict:
    """Paths of the bounce log, messages, events and stats."""
    record = {"$ref": "#/components/schemas/Bounce"}
    page = {
        "type": "object",
        "properties": {
            "bounces": {"type": "array", "items": record},
            "next_cursor": _NULLABLE_TEXT,
        },
    }
    kinds = ["bounce", "delay", "delivered", "autoreply", "complaint", "unknown"]
    event = {
        "type": "object",
        "description": "seq, id, type, at, recorded_at, recipient and the event's fields.",
    }
    return {
        "/v1/bounces": {
            "get": {
                "summary": "The bounce log, newest first (keyset pages).",
                "parameters": [
                    _param("recipient", "query", "An address (or the final recipient) or @domain."),
                    _param(
                        "sender",
                        "query",
                        "The return path the report came back to (the original's envelope sender).",
                    ),
                    _param(
                        "message_id",
                        "query",
                        "The original message's Message-ID (angle brackets optional).",
                    ),
                    _SINCE,
                    _UNTIL,
                    _CLASS,
                    _REASON,
                    _param("kind", "query", "The report's kind.", {"enum": kinds}),
                    _LIMIT,
                    _CURSOR,
                ],
                "responses": {"200": _json(page, "One page."), **_problems(400)},
                "security": _READ,
            }
        },
        "/v1/messages/{id}": {
            "get": {
                "summary": "A stored report: envelope, records, the report parsed; raw (admin).",
                "parameters": [_ID],
                "responses": {
                    "200": _json({"type": "object"}, "The message."),
                    **_problems(400, 404),
                },
                "security": _READ,
            }
        },
        "/v1/messages/{id}/raw": {
            "get": {
                "summary": "The stored message as received (admin).",
                "parameters": [_ID],
                "responses": {
                    "200": {
                        "description": "The message.",
                        "content": {"message/rfc822": {"schema": _TEXT}},
                    },
                    **_problems(400, 403, 404, 410),
                },
                "security": _READ,
            }
        },
        "/v1/events": {
            "get": {
                "summary": "Events in commit order after a position, for pollers.",
                "parameters": [
                    _param("after", "query", "An event's seq or id (default: from the first)."),
                    _param("type", "query", "Only this event type.", {"enum": list(EVENT_TYPES)}),
                    _LIMIT,
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "events": {"type": "array", "items": event},
                                "next_after": {"type": "integer"},
                            },
                        },
                        "Events; pass next_after as after to poll on.",
                    ),
                    **_problems(400),
                },
                "security": _READ,
            }
        },
        "/v1/stats": {
            "get": {
                "summary": "Failures (hard or soft records) per bucket; default the last 24 hours.",
                "parameters": [
                    _param(
                        "by",
                        "query",
                        "The bucket.",
                        {"enum": list(stats.BUCKETS), "default": "reason"},
                    ),
                    _SINCE,
                    _UNTIL,
                ],
                "responses": {
                    "200": _json(
                        {"type": "object"}, "by, since, until, buckets [{bucket, count}]."
                    ),
                    **_problems(400),
                },
                "security": _READ,
            }
        },
    }


def _probes() -> dict:
    """Health, readiness, metrics and this document: open to anyone."""
    state = {
        "type": "object",
        "properties": {
            "status": {"enum": ["ok", "failing"]},
            "problems": {"type": "array", "items": _TEXT},
        },
    }
    text = {"description": "Prometheus text format.", "content": {"text/plain": {"schema": _TEXT}}}
    return {
        "/healthz": {
            "get": {
                "summary": "Liveness: every loop healthy.",
                "security": [],
                "responses": {"200": _json(state, "Healthy."), "503": _json(state, "Not.")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: healthy, SMTP accepting, database writable.",
                "security": [],
                "responses": {"200": _json(state, "Ready."), "503": _json(state, "Not.")},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (a read token when http.metrics_open is false).",
                "security": [{}, {"bearer": []}],
                "responses": {"200": text},
            }
        },
        "/v1/openapi.json": {
            "get": {
                "summary": "This document.",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1.")},
            }
        },
    }


def _schemas() -> dict:
    """Components: the entry, the record and the problem."""

    def fields(names: str, nullable: str = "") -> dict:
        return {
            name: (_NULLABLE_TEXT if name in nullable.split() else _TEXT) for name in names.split()
        }

    suppression = fields(
        "address final_recipient reason class source first_seen last_seen status diagnostic "
        "expires_at note",
        "final_recipient status diagnostic expires_at note",
    )
    bounce = fields(
        "received_at kind recipient final_recipient original_recipient action status class reason "
        "diagnostic remote_mta reporting_mta orig_from orig_subject orig_message_id bounce_address "
        "verp_recipient reply_code arrival_date feedback_type",
        "final_recipient original_recipient action status diagnostic remote_mta reporting_mta "
        "orig_from orig_subject orig_message_id bounce_address verp_recipient reply_code "
        "arrival_date feedback_type",
    )
    return {
        "Suppression": {
            "type": "object",
            "properties": {
                **suppression,
                "count": {"type": "integer"},
                "message_id": {"type": ["integer", "null"]},
            },
        },
        "Bounce": {
            "type": "object",
            "properties": {
                **bounce,
                "id": {"type": "integer"},
                "message_id": {"type": "integer"},
                "verified": {"type": ["integer", "null"]},
            },
        },
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "properties": {
                "type": _TEXT,
                "title": _TEXT,
                "status": {"type": "integer"},
                "detail": _TEXT,
                "field": _TEXT,
            },
        },
    }


def document() -> dict:
    """Return the OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "bouncer",
            "version": "1",
            "description": "Suppressions, the bounce log, stored reports, events and counts"
            " of a bouncer daemon.",
        },
        "paths": {**_suppressions(), **_records(), **_probes()},
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from [http] tokens.",
                }
            },
        },
        "security": _READ,
    }


@routes.get("/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this API."""
    return reply(document())

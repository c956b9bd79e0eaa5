"""Pieces of the OpenAPI document (bouncer.http.openapi): parameters, schemas, responses, and
one operation object from a few words."""

from __future__ import annotations

from typing import Any

TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
TOKEN = [{"bearer": []}]
OPEN: list = []
_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_WORDS = {
    400: "A parameter or member does not fit; `field` names it.",
    401: "No token, or one bouncer does not know.",
    403: "The token's scope is too narrow (an admin token is needed).",
    404: "Not found.",
    409: "The change needs confirming (`force=true`).",
    410: "Gone (the raw copy was pruned).",
}


def param(name: str, where: str, description: str, schema: dict | None = None) -> dict:
    """Return a parameter object (a path parameter is required)."""
    found = {"name": name, "in": where, "description": description, "schema": schema or TEXT}
    return {**found, "required": True} if where == "path" else found


def ref(name: str) -> dict:
    """Return a reference to a schema of the components."""
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(name: str, schema: dict) -> dict:
    """Return the schema of a listing page: {name: [items], next_cursor}."""
    items = {"type": "array", "items": schema}
    return {"type": "object", "properties": {name: items, "next_cursor": NULLABLE_TEXT}}


def json_body(schema: dict, description: str) -> dict:
    """Return a response (or request body) object with a JSON body."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operation(
    summary: str,
    ok: dict[str, dict],
    *,
    params: tuple[dict, ...] = (),
    body: dict | None = None,
    problems: tuple[int, ...] = (),
    security: list = TOKEN,
) -> dict:
    """Return an operation object: its successful responses by status, the problem statuses
    it may answer with (401 added when a token is needed), parameters and JSON body."""
    statuses = (*problems, 401) if security is TOKEN else problems
    responses = {
        **ok,
        **{
            str(status): {
                "description": _PROBLEM_WORDS[status],
                "content": {"application/problem+json": {"schema": _PROBLEM}},
            }
            for status in statuses
        },
    }
    found: dict[str, Any] = {"summary": summary, "security": security, "responses": responses}
    if params:
        found["parameters"] = list(params)
    if body is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return found


LIMIT = param(
    "limit",
    "query",
    "Rows per page.",
    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
)
CURSOR = param("cursor", "query", "The next_cursor of the previous page (opaque).")
SINCE = param("since", "query", "ISO 8601 time, inclusive (a time without zone is UTC).", TIME)
UNTIL = param("until", "query", "ISO 8601 time, exclusive.", TIME)
CLASS = param("class", "query", "hard, soft or none.", {"enum": ["hard", "soft", "none"]})
REASON = param("reason", "query", "A reason name (Sisimai's vocabulary), e.g. userunknown.")
ADDRESS = param("address", "path", "An email address.")
MESSAGE = param("id", "path", "A stored message's number.", {"type": "integer", "minimum": 1})


def _fields(names: str, nullable: str) -> dict:
    """Return text properties by name, those in `nullable` also null."""
    optional = set(nullable.split())
    return {name: NULLABLE_TEXT if name in optional else TEXT for name in names.split()}


def schemas() -> dict:
    """Return the component schemas: Suppression, Bounce, Problem."""
    suppression = _fields(
        "address final_recipient reason class source first_seen last_seen status diagnostic"
        " expires_at note",
        "final_recipient status diagnostic expires_at note",
    )
    bounce = _fields(
        "received_at kind recipient final_recipient original_recipient action status class reason"
        " diagnostic remote_mta reporting_mta orig_from orig_subject orig_message_id"
        " bounce_address verp_recipient reply_code arrival_date feedback_type",
        "final_recipient original_recipient action status diagnostic remote_mta reporting_mta"
        " orig_from orig_subject orig_message_id bounce_address verp_recipient reply_code"
        " arrival_date feedback_type",
    )
    number, maybe_number = {"type": "integer"}, {"type": ["integer", "null"]}
    problem = {"type": TEXT, "title": TEXT, "status": number, "detail": TEXT, "field": TEXT}
    return {
        "Suppression": {
            "type": "object",
            "properties": {**suppression, "count": number, "message_id": maybe_number},
        },
        "Bounce": {
            "type": "object",
            "properties": {**bounce, "id": number, "message_id": number, "verified": maybe_number},
        },
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "properties": problem,
        },
    }

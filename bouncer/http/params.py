"""Query strings and JSON bodies turned into typed values (msgspec Structs), and page cursors.

Each endpoint declares what it takes as a Struct whose field types carry, in their metadata,
the words for what they allow; a value that does not fit becomes a 400 naming the field, what
it allows and what was given ("limit: must be a whole number from 1 to 1000 (got "0")"). An
unknown parameter is refused too (a typo would otherwise silently widen a listing).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, TypeVar, get_args, get_origin, get_type_hints

import msgspec
from aiohttp import web
from msgspec import Meta

from bouncer.clock import from_iso, to_iso
from bouncer.http.errors import ApiError

S = TypeVar("S", bound=msgspec.Struct)


def allows(description: str, **constraints: Any) -> Meta:
    """Return msgspec constraints with the words an error gives for what they allow."""
    return Meta(description=description, **constraints)


Time = Annotated[str, allows("an ISO 8601 time such as 2026-03-02T09:00:00Z")]
Class = Annotated[str, allows('"hard", "soft" or "none"', pattern=r"^(hard|soft|none)$")]
Reason = Annotated[str, allows("a reason name such as userunknown", pattern=r"^[a-z]{1,40}$")]
Cursor = Annotated[str, allows("the next_cursor of the previous page", max_length=400)]
Limit = Annotated[int, allows("a whole number from 1 to 1000", ge=1, le=1000)]
ReturnPath = Annotated[
    str,
    allows(
        "a return path (local@domain; in a URL write + as %2B)",
        pattern=r"^[^@\s]+@[^@\s]+$",
        max_length=320,
    ),
]
Address = Annotated[
    str, allows("an email address (local@domain)", pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
]


def query(request: web.Request, kind: type[S]) -> S:
    """Return the request's query string as a `kind` Struct; raise ApiError (400) naming the
    parameter that is unknown, repeated or does not fit."""
    values: dict[str, str] = {}
    for name in request.query:
        given = request.query.getall(name)
        if len(given) > 1:
            raise ApiError(400, f"{name}: given {len(given)} times; give it once", name)
        values[name] = given[0]
    return _convert(values, kind, strict=False, what="parameter")


async def body(request: web.Request, kind: type[S]) -> S:
    """Return the request's JSON body as a `kind` Struct; raise ApiError (400) naming the
    member at fault, or `body` when it is not a JSON object."""
    raw = await request.read()
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"the body is not JSON ({exc})", "body") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object", "body")
    return _convert(data, kind, strict=True, what="member")


def _convert(data: dict[str, Any], kind: type[S], *, strict: bool, what: str) -> S:
    """msgspec.convert with its error message put in the API's words."""
    try:
        return msgspec.convert(data, kind, strict=strict)
    except msgspec.ValidationError as exc:
        raise _explain(str(exc), kind, data, what) from exc


_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _explain(message: str, kind: type, data: dict[str, Any], what: str) -> ApiError:
    """Turn one msgspec ValidationError message into a 400 naming the field."""
    problem, _, where = message.partition(" - at `")
    names = ", ".join(_encoded(kind))
    unknown = re.fullmatch(r"Object contains unknown field `(.*)`", problem)
    if unknown:
        name = unknown.group(1)
        return ApiError(400, f"{name}: unknown {what}; the {what}s here are {names}", name)
    missing = re.fullmatch(r"Object missing required field `(.*)`", problem)
    if missing:
        name = missing.group(1)
        return ApiError(400, f"{name}: missing; it must be {_describe(_type_of(kind, name))}", name)
    field, field_kind, value = "", kind, data
    for name, index in _STEP.findall(where.rstrip("`").removeprefix("$")):
        if name:
            field_kind = _type_of(_bare(field_kind), name)
            value = value.get(name) if isinstance(value, dict) else None
            field = f"{field}.{name}" if field else name
        else:
            field_kind = get_args(_bare(field_kind))[0]
            value = value[int(index)] if isinstance(value, list) else None
            field = f"{field}[{index}]"
    return ApiError(400, f"{field}: must be {_describe(field_kind)} (got {_shown(value)})", field)


def _encoded(kind: type) -> dict[str, str]:
    """Return a Struct's field names as given in requests ("class") -> attribute names."""
    return {info.encode_name: info.name for info in msgspec.structs.fields(kind)}


def _type_of(kind: type, encoded: str) -> Any:
    """Return the annotated type of a Struct's field by the name requests give it."""
    return get_type_hints(kind, include_extras=True)[_encoded(kind)[encoded]]


def _bare(kind: Any) -> Any:
    """Strip Annotated and Optional from a type: the Struct or list below."""
    if get_origin(kind) is Annotated:
        return _bare(get_args(kind)[0])
    members = [m for m in get_args(kind) if m is not type(None)]
    if members and get_origin(kind) is not list and len(members) == 1:
        return _bare(members[0])
    return kind


def _describe(kind: Any) -> str:
    """Say in words what a field's type allows."""
    if get_origin(kind) is Annotated:
        for meta in kind.__metadata__:
            if getattr(meta, "description", None):
                return meta.description
        return _describe(get_args(kind)[0])
    members = [m for m in get_args(kind) if m is not type(None)]
    if len(members) == 1 and get_origin(kind) is not list:
        return _describe(members[0])
    if get_origin(kind) is list:
        return f"a list of {_describe(get_args(kind)[0])}"
    return {bool: "true or false", int: "a whole number", str: "text"}.get(kind, "a value")


def _shown(value: Any) -> str:
    """Write a given value for an error message, on one line and short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def iso(value: str | None, field: str) -> str | None:
    """Return an ISO 8601 time in the stored form (UTC, milliseconds, Z); 400 naming the field
    when it is not one. A time without a zone is taken as UTC."""
    if value is None:
        return None
    try:
        return to_iso(from_iso(value))
    except ValueError:
        raise ApiError(
            400,
            f"{field}: must be an ISO 8601 time such as 2026-03-02T09:00:00Z (got {_shown(value)})",
            field,
        ) from None


def encode_cursor(position: tuple) -> str:
    """Return the opaque cursor of a page's last row (base64url of its position)."""
    text = json.dumps(list(position), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: tuple[type, ...]) -> tuple | None:
    """Return the position a cursor holds, checked against the types in `shape`; 400 naming
    `cursor` when it is not one this API gave."""
    if cursor is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        position = None
    if not (
        isinstance(position, list)
        and len(position) == len(shape)
        and all(type(part) is kind for part, kind in zip(position, shape, strict=True))
    ):
        raise ApiError(
            400,
            "cursor: not a cursor from this listing; pass the next_cursor of the previous page"
            " as it came",
            "cursor",
        )
    return tuple(position)

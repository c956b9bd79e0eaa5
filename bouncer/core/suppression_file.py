"""The suppression list as a file: CSV with a header line, or JSON Lines (one object a line).

`bouncer suppression export` writes FIELDS (every column of an entry but the local message id);
`import` reads any subset of them that has `address` and `reason`. A field left out is "not
given" (a new entry gets its default, a stored one keeps its value); an empty CSV cell or a JSON
null is given as "no value". Rows are checked by a msgspec schema, so each error names its line
and field; times are ISO 8601 (`bouncer.core.timespec.parse_iso`). Pure: reads lines of text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

from bouncer.core.timespec import parse_iso

FIELDS = (
    "address",
    "final_recipient",
    "reason",
    "class",
    "source",
    "first_seen",
    "last_seen",
    "count",
    "status",
    "diagnostic",
    "expires_at",
    "note",
)
TIME_FIELDS = ("first_seen", "last_seen", "expires_at")
FORMATS = ("csv", "json")
# An address as reports and operators write it, without brackets or spaces: local@domain. Not
# an RFC 5321 validator on purpose: what the list holds came from real reports, odd forms too.
_ADDRESS = r"^[^\s<>\x00-\x1f\x7f]+@[^\s<>@\x00-\x1f\x7f]+$"
Address = Annotated[str, Meta(pattern=_ADDRESS, max_length=320)]
Text = Annotated[str, Meta(max_length=65536)]
_ADDRESS_WORDS = "an address such as user@example.com (no spaces, no angle brackets)"
_TEXT_WORDS = "text of at most 65536 characters"
# What each field allows, in the words an error gives.
ALLOWED = {
    "address": _ADDRESS_WORDS,
    "final_recipient": _ADDRESS_WORDS,
    "reason": "a reason (1 to 1000 characters)",
    "class": '"hard" or "soft"',
    "source": '"manual", "bounce", "complaint" or "escalation"',
    "first_seen": "an ISO 8601 time",
    "last_seen": "an ISO 8601 time",
    "count": "a whole number, at least 1",
    "status": "a status such as 5.1.1 (at most 32 characters)",
    "diagnostic": _TEXT_WORDS,
    "expires_at": "an ISO 8601 time, or empty",
    "note": _TEXT_WORDS,
}


class Row(Struct, forbid_unknown_fields=True):
    """One line of an import file, as given (UNSET: the field was left out)."""

    address: Address
    reason: Annotated[str, Meta(min_length=1, max_length=1000)]
    final_recipient: Address | None | UnsetType = UNSET
    bounce_class: Literal["hard", "soft"] | UnsetType = field(default=UNSET, name="class")
    source: Literal["manual", "bounce", "complaint", "escalation"] | UnsetType = UNSET
    first_seen: str | UnsetType = UNSET
    last_seen: str | UnsetType = UNSET
    count: Annotated[int, Meta(ge=1)] | UnsetType = UNSET
    status: Annotated[str, Meta(max_length=32)] | None | UnsetType = UNSET
    diagnostic: Text | None | UnsetType = UNSET
    expires_at: str | None | UnsetType = UNSET
    note: Text | None | UnsetType = UNSET


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one line of a file: `line` numbered from 1, `field` or None."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Entry:
    """A checked row: its line and the fields given, times as aware datetimes (or None)."""

    line: int
    values: dict[str, Any]


def read(lines: Iterable[str], fmt: str) -> tuple[list[Entry], list[RowError]]:
    """Read a whole file given as lines: every good row, and every bad one's error.

    `fmt` is "csv" (a header line naming the fields, then one entry a line) or "json" (JSON
    Lines; blank lines are skipped). Raises ValueError for another format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    entries, errors = [], []
    rows = _csv_rows(lines) if fmt == "csv" else _json_rows(lines)
    for line, given in rows:
        try:
            entries.append(Entry(line, _checked(given)))
        except _Bad as bad:
            errors.append(RowError(line, bad.field, bad.message))
    return entries, errors


def guess_format(first_line: str) -> str:
    """Return "json" for a file whose first line opens an object, else "csv"."""
    return "json" if first_line.lstrip().startswith("{") else "csv"


class _Bad(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        self.field, self.message = field, message


def _csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """Yield (line, dict of the given cells; empty cells None), or (line, _Bad) for a bad one."""
    reader = csv.reader(iter(lines))
    header = next(reader, None)
    if header is None:
        return
    names = [name.strip() for name in header]
    problem = _header_problem(names)
    if problem:
        yield 1, _Bad(None, f"the header names fields of {', '.join(FIELDS)}: {problem}")
        return
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            yield start, _Bad(None, f"{len(cells)} cells, the header names {len(names)}")
            continue
        yield (
            start,
            {name: (cell if cell != "" else None) for name, cell in zip(names, cells, strict=True)},
        )


def _header_problem(names: list[str]) -> str | None:
    """Say what is wrong with a CSV header line, or None."""
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        return f"{unknown[0]!r} is not one"
    if len(set(names)) != len(names):
        return "one of them twice"
    missing = [name for name in ("address", "reason") if name not in names]
    return f"{missing[0]} is missing" if missing else None


def _json_rows(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """Yield (line, decoded object) for each non-blank line, or (line, _Bad)."""
    decoder = msgspec.json.Decoder()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            yield number, decoder.decode(text)
        except msgspec.DecodeError as exc:
            yield number, _Bad(None, f"not JSON: {exc}")


def _checked(given: Any) -> dict[str, Any]:
    """Check one row against the schema; return the fields given, times parsed."""
    if isinstance(given, _Bad):
        raise given
    try:
        row = msgspec.convert(given, Row, strict=False)
    except msgspec.ValidationError as exc:
        raise _explained(str(exc), given) from None
    values = {name: getattr(row, _attribute(name)) for name in FIELDS}
    values = {name: value for name, value in values.items() if value is not UNSET}
    for name in TIME_FIELDS:
        if values.get(name) is not None:
            values[name] = _time(name, values[name])
    return values


def _attribute(name: str) -> str:
    return "bounce_class" if name == "class" else name


def _time(name: str, text: str) -> datetime:
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise _Bad(name, str(exc)) from None


def _explained(message: str, given: Any) -> _Bad:
    """Turn msgspec's message into one naming the field, what it allows and what it got."""
    where = re.search(r" - at `\$\.(\w+)`$", message)
    missing = re.search(r"missing required field `(\w+)`", message)
    unknown = re.search(r"unknown field `([^`]*)`", message)
    if unknown:
        return _Bad(unknown.group(1), f"not a field; the fields are {', '.join(FIELDS)}")
    if missing:
        name = missing.group(1)
        return _Bad(name, f"missing: {ALLOWED[name]} is needed")
    if where and isinstance(given, dict) and where.group(1) in ALLOWED:
        name, value = where.group(1), given.get(where.group(1))
        return _Bad(name, f"{'empty' if value is None else repr(value)}: {ALLOWED[name]} is needed")
    return _Bad(None, re.sub(r"^Expected `object`", "Expected a JSON object", message))


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    """Yield the header line, then one CSV line per entry (FIELDS; None as an empty cell)."""
    buffer = _LineBuffer()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    yield buffer.take()
    for row in rows:
        writer.writerow(["" if row.get(name) is None else row[name] for name in FIELDS])
        yield buffer.take()


def json_lines(rows: Iterable[dict]) -> Iterator[str]:
    """Yield one JSON object per entry (FIELDS, None as null), each ending in a newline."""
    encoder = msgspec.json.Encoder()
    for row in rows:
        yield encoder.encode({name: row.get(name) for name in FIELDS}).decode() + "\n"


class _LineBuffer:
    """A file-like sink for csv.writer that hands back what was written since the last take."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text

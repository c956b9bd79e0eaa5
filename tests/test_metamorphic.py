"""Metamorphic tests: a verdict must not hang on details that do not change a message's meaning.

Each transformation below rewrites a raw message (bytes -> bytes) in a way a relay, a mail
client or another sample of the same MTA could: other names, other line width, other line
endings, other header order, other letter case, RFC 822 folding. The report kind and, for each
recipient (matched through the renaming), the class, reason and status must stay the same. A
rule that only fires on the exact text of one sample fails here.

Inputs are the hand-written fixtures in tests/data/bounces (always) and the labelled dev corpus
next to the repository (when present; its cases are skipped otherwise).

The transformations walk the MIME structure themselves (they do not use bouncer's walker): a
base64 or quoted-printable text part is decoded, transformed and encoded again; parts that are
not text (attachments) are left alone; boundary lines are never touched.
"""

from __future__ import annotations

import base64
import binascii
import email
import functools
import hashlib
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from pathlib import Path

import pytest

from bouncer.core.analyse import analyse_bytes
from bouncer.core.rules.providers import BY_DOMAIN, BY_HOST

FIXTURES = Path(__file__).resolve().parent / "data" / "bounces"
# /work/main/tests -> /work/main -> /work; the corpus is not part of the repository.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev" / "emails"

MAX_DEPTH = 10
MIME_FIELDS = ("content-type", "content-transfer-encoding", "mime-version")
MESSAGE_TYPES = ("message/rfc822", "message/global")
HEADER_TYPES = ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers")
STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_PARAM = re.compile(r';\s*([A-Za-z0-9_.*\-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')

TextHook = Callable[[str], str]


def _same(text: str) -> str:
    """Return the text unchanged (the default hook)."""
    return text


def _same_fields(fields: list[bytes]) -> list[bytes]:
    """Return header fields unchanged (the default hook)."""
    return fields


@dataclass(frozen=True)
class Hooks:
    """What a transformation changes in each kind of content (identity by default)."""

    top_fields: Callable[[list[bytes]], list[bytes]] = _same_fields  # top-level header fields
    field: TextHook = _same  # any header field but the MIME ones, one field at a time
    plain: TextHook = _same  # text/plain bodies
    other_text: TextHook = _same  # other text/* bodies (HTML ...)
    status: TextHook = _same  # message/delivery-status bodies
    feedback: TextHook = _same  # message/feedback-report bodies
    loose: TextHook = _same  # multipart preamble and epilogue


# --- 3. line endings ---------------------------------------------------------------------------


def to_lf(raw: bytes) -> bytes:
    """Switch every line ending to LF: CRLF -> LF and a bare CR (old Mac files) -> LF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def to_crlf(raw: bytes) -> bytes:
    """Switch every line ending to CRLF (LF -> CRLF, CR -> CRLF), as sent on the wire."""
    return to_lf(raw).replace(b"\n", b"\r\n")


def _newline_of(raw: bytes) -> bytes:
    """Return the message's dominant line ending: CRLF, a bare CR or LF."""
    crlf = raw.count(b"\r\n")
    bare_cr = raw.count(b"\r") - crlf
    bare_lf = raw.count(b"\n") - crlf
    if crlf and crlf >= max(bare_cr, bare_lf):
        return b"\r\n"
    return b"\r" if bare_cr > bare_lf else b"\n"


# --- a small MIME rewriter (over LF-normalised bytes) -----------------------------------------


def rewrite(raw: bytes, hooks: Hooks) -> bytes:
    """Apply hooks to the parts of a message; keep its own line endings and everything else."""
    newline = _newline_of(raw)
    data = to_lf(raw)
    body = data.lstrip(b"\n")
    result = data[: len(data) - len(body)] + _entity(body, hooks, 0)
    return result if newline == b"\n" else result.replace(b"\n", newline)


def _split_entity(data: bytes) -> tuple[bytes, bytes, bytes]:
    """Split an entity into header block, separator and body (no headers if it starts empty)."""
    if data.startswith(b"\n"):
        return b"", b"\n", data[1:]
    cut = data.find(b"\n\n")
    if cut < 0:
        return data, b"", b""
    return data[: cut + 1], b"\n", data[cut + 2 :]


def header_fields(head: bytes) -> list[bytes]:
    """Split a header block into fields, each with its continuation lines and newlines."""
    fields: list[bytes] = []
    for line in head.split(b"\n")[:-1] if head.endswith(b"\n") else head.split(b"\n"):
        # A line that is no field but holds "name=value" continues the previous one (a common
        # mistake: "Content-Type: multipart/alternative;" then "boundary=..." unindented).
        continues = line[:1] in (b" ", b"\t") or (not field_name(line) and b"=" in line)
        if fields and continues:
            fields[-1] += b"\n" + line
        else:
            fields.append(line)
    ends = [b"\n"] * len(fields)
    if fields and not head.endswith(b"\n"):
        ends[-1] = b""
    return [field + end for field, end in zip(fields, ends, strict=True)]


def field_name(field: bytes) -> str:
    """Return a header field's lower-case name ('' for a line that is not a field)."""
    name, colon, _ = field.partition(b":")
    if not colon or not name.strip() or b" " in name.strip():
        return ""
    return name.strip().decode("ascii", "replace").lower()


def _field_value(fields: list[bytes], name: str) -> str | None:
    """Return the unfolded value of the first field of that name."""
    for field in fields:
        if field_name(field) == name:
            value = field.partition(b":")[2].decode("utf-8", "surrogateescape")
            return " ".join(value.split())
    return None


def _content_type(fields: list[bytes]) -> tuple[str, dict[str, str]]:
    """Return the lower-case media type and parameters of an entity (text/plain by default)."""
    value = _field_value(fields, "content-type")
    if not value:
        return "text/plain", {}
    params: dict[str, str] = {}
    for name, raw_value in _PARAM.findall(value):
        params.setdefault(name.lower().rstrip("*"), raw_value.strip('"'))
    return value.split(";", 1)[0].strip().lower() or "text/plain", params


def _entity(data: bytes, hooks: Hooks, depth: int) -> bytes:
    """Rewrite one entity: its header fields, then its body by media type."""
    head, separator, body = _split_entity(data)
    fields = header_fields(head)
    media, params = _content_type(fields)
    encoding = (_field_value(fields, "content-transfer-encoding") or "").lower()
    if depth == 0:
        fields = hooks.top_fields(fields)
    fields = [_map_field(field, hooks.field) for field in fields]
    return b"".join(fields) + separator + _body(body, media, params, encoding, hooks, depth)


def _map_field(field: bytes, hook: TextHook) -> bytes:
    """Apply a hook to one header field, never to the MIME fields (boundaries live there)."""
    if field_name(field) in MIME_FIELDS:
        return field
    return hook(field.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def _body(
    body: bytes, media: str, params: dict[str, str], encoding: str, hooks: Hooks, depth: int
) -> bytes:
    """Rewrite a body: recurse into multiparts and messages, map text and report parts."""
    if depth >= MAX_DEPTH:
        return body
    if media.startswith("multipart/") and params.get("boundary"):
        return _multipart(body, params["boundary"], hooks, depth)
    if media in MESSAGE_TYPES or media in HEADER_TYPES:
        return _recode(body, encoding, lambda data: _entity(data, hooks, depth + 1))
    hook = _text_hook(media, hooks)
    if hook is None:
        return body
    return _recode(body, encoding, lambda data: _map_text(data, params.get("charset"), hook))


def _text_hook(media: str, hooks: Hooks) -> TextHook | None:
    """Return the hook for a leaf part's media type (None: leave the part alone)."""
    if media in STATUS_TYPES:
        return hooks.status
    if media == "message/feedback-report":
        return hooks.feedback
    if media == "text/plain":
        return hooks.plain
    if media.startswith("text/"):
        return hooks.other_text
    return None


def _multipart(body: bytes, boundary: str, hooks: Hooks, depth: int) -> bytes:
    """Rewrite each part of a multipart body; delimiter lines stay byte for byte."""
    marker = b"--" + boundary.encode("utf-8", "surrogateescape")
    chunks: list[list[bytes]] = [[]]
    delimiters: list[bytes] = []
    closed = False
    for line in body.split(b"\n"):
        if not closed and line.startswith(marker):
            delimiters.append(line)
            closed = line[len(marker) :].startswith(b"--")
            chunks.append([])
        else:
            chunks[-1].append(line)
    out: list[bytes] = []
    for index, chunk in enumerate(chunks):
        if index:
            out.append(delimiters[index - 1])
        if not chunk:
            continue
        joined = b"\n".join(chunk)
        is_part = 0 < index < len(chunks) - 1 or (index and not closed)
        if is_part:
            new = _entity(joined, hooks, depth + 1)
        else:
            new = _map_text(joined, "utf-8", hooks.loose)
        out.extend(new.split(b"\n"))
    return b"\n".join(out)


def _recode(body: bytes, encoding: str, change: Callable[[bytes], bytes]) -> bytes:
    """Undo a transfer encoding, change the content, and encode it the same way again."""
    decoded = _decode(body, encoding)
    if decoded is None:
        return body
    changed = change(decoded)
    if changed == decoded:
        return body
    if encoding == "base64":
        encoded = base64.encodebytes(changed)
    elif encoding == "quoted-printable":
        encoded = quopri.encodestring(changed)
    else:
        return changed
    return encoded if body.endswith(b"\n") else encoded.rstrip(b"\n")


def _decode(body: bytes, encoding: str) -> bytes | None:
    """Return a body with its transfer encoding undone (None when it cannot be decoded)."""
    if encoding == "base64":
        compact = re.sub(rb"[^A-Za-z0-9+/=]", b"", body).rstrip(b"=")
        try:
            return base64.b64decode(compact + b"=" * (-len(compact) % 4))
        except (binascii.Error, ValueError):
            return None
    if encoding == "quoted-printable":
        return quopri.decodestring(body)
    return body


def _map_text(data: bytes, charset: str | None, hook: TextHook) -> bytes:
    """Decode text with its charset (Latin-1 when that fails: lossless), apply a hook, encode."""
    codec = (charset or "utf-8").strip().strip('"').lower() or "utf-8"
    try:
        text = data.decode(codec)
    except (LookupError, UnicodeDecodeError):
        codec, text = "latin-1", data.decode("latin-1")
    changed = hook(text)
    if changed == text:
        return data
    try:
        return changed.encode(codec)
    except UnicodeEncodeError:
        return data


# --- 1. renaming addresses and host names ---------------------------------------------------

# Local parts that name a role, not a person (RFC 2142 and MTA senders): they keep their name.
ROLE_LOCALS = frozenset(
    {
        "postmaster", "post_master", "mailer-daemon", "mailer_daemon", "maildaemon", "root",
        "abuse", "noreply", "no-reply", "hostmaster", "webmaster", "daemon", "double-bounce",
    }
)  # fmt: skip
# Services whose names say who sent a report (the provider tables, and Amazon SES notices).
SERVICE_SUFFIXES = frozenset(BY_DOMAIN) | frozenset(BY_HOST) | {"amazonses.com"}
# Top-level domains a bare host name is recognised by (words like "in" or "it" left out).
_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|jp|jpn|de|fr|uk|cn|au|ru|ua|pt|eu|nl|es|ch|se|pl|cz"
    "|kr|tw|hk|br|ca|mx|nz|ie|za|fi|dk|gbl|local|localdomain|lan|example|test|invalid"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
_NAMES = re.compile(
    r"(?P<url>(?:https?|ftp)://[^\s<>\"']+)"
    r"|(?P<local>[^\s<>()\"',;:\[\]@.][^\s<>()\"',;:\[\]@]*)@(?P<domain>"
    + _LABEL
    + r"(?:\."
    + _LABEL
    + r")*)"
    r"|(?<![\w@.\-])(?P<host>(?:" + _LABEL + r"\.)+(?:" + _TLDS + r"))(?![\w\-]|\.[A-Za-z0-9])",
    re.IGNORECASE,
)
_SECOND_LEVEL = frozenset({"co", "ne", "or", "ac", "go", "ad", "ed", "gr", "lg", "com", "net"})


def _is_service(name: str) -> bool:
    """Tell whether a host or domain belongs to a known service (kept: rules rely on it)."""
    labels = name.lower().rstrip(".").split(".")
    return any(".".join(labels[start:]) in SERVICE_SUFFIXES for start in range(len(labels) - 1))


def _base_domain(name: str) -> str:
    """Return the registered domain of a host name (example.co.jp, example.com ...)."""
    labels = name.split(".")
    size = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-size:])


class Renamer:
    """A consistent renaming: each domain -> dN.example, each host -> hN.dM.example, each local
    part -> uN. Role mailboxes, known services and the report's own service sender are kept."""

    def __init__(self, kept_addresses: set[str]) -> None:
        """Start an empty renaming that leaves the given (lower-case) addresses alone."""
        self.kept = kept_addresses
        self.locals: dict[str, str] = {}
        self.domains: dict[str, str] = {}
        self.hosts: dict[str, str] = {}

    def local(self, name: str) -> str:
        """Return the new local part for a local part."""
        if name.lower() in ROLE_LOCALS:
            return name
        return self.locals.setdefault(name.lower(), f"u{len(self.locals) + 1}")

    def domain(self, name: str) -> str:
        """Return the new name of a domain or host name."""
        key = name.lower()
        if _is_service(key) or key in ("localhost", "localdomain") or key.endswith(".invalid"):
            return name
        base = self.domains.setdefault(_base_domain(key), f"d{len(self.domains) + 1}.example")
        if key == _base_domain(key):
            return base
        return self.hosts.setdefault(key, f"h{len(self.hosts) + 1}.{base}")

    def address(self, local: str, domain: str) -> str:
        """Return the new address for local@domain."""
        if f"{local}@{domain}".lower() in self.kept or domain.lower().endswith(".invalid"):
            return f"{local}@{domain}"
        return f"{self.local(local)}@{self.domain(domain)}"

    def text(self, text: str) -> str:
        """Rename every address and host name in a text (URLs are left as they are)."""
        return _NAMES.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        """Return the replacement of one address, host name or URL."""
        if match.group("url"):
            return match.group(0)
        if match.group("host"):
            return self.domain(match.group("host"))
        return self.address(match.group("local"), match.group("domain"))


def _service_senders(raw: bytes) -> set[str]:
    """Return the top-level From/Sender addresses of known services (their identity stays)."""
    head = _split_entity(to_lf(raw).lstrip(b"\n"))[0]
    fields = header_fields(head)
    found = set()
    for name in ("from", "sender"):
        value = _field_value(fields, name) or ""
        for match in _NAMES.finditer(value):
            if match.group("domain") and _is_service(match.group("domain")):
                found.add(f"{match.group('local')}@{match.group('domain')}".lower())
    return found


def renamed(raw: bytes) -> tuple[bytes, Renamer]:
    """Return the message with every address and host name renamed, and the renaming."""
    renamer = Renamer(_service_senders(raw))
    hook = renamer.text
    hooks = Hooks(field=hook, plain=hook, other_text=hook, status=hook, feedback=hook, loose=hook)
    return rewrite(raw, hooks), renamer


def rename_names(raw: bytes) -> bytes:
    """Rename every address and host name consistently (d1.example, h1.d1.example, u1 ...), in
    headers, DSN fields and text parts (base64/quoted-printable ones decoded and re-encoded)."""
    return renamed(raw)[0]


# --- 2. re-wrapping plain text ----------------------------------------------------------------

_HEADER_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9\-]*:[ \t]")
_LABEL_LINE = re.compile(r"^[ \t]+[A-Za-z][A-Za-z0-9\-]*:[ \t]")  # "  From: a@b.example"
# Lines of data, not prose: base64, and JSON (an SES notification in a text/plain body).
_DATA_LINE = re.compile(r'^\s*(?:\{|\[\s*[{"]|"[^"]*"\s*:)|^\s*[A-Za-z0-9+/]{40,}={0,2}\s*$')


def is_data_line(line: str) -> bool:
    """Tell whether a line holds data (base64 or JSON) whose case and layout matter."""
    return bool(_DATA_LINE.match(line))


_TOKENS = re.compile(r"\S+|\s+")


def wrap_text(text: str, width: int) -> str:
    """Split lines longer than `width` at spaces (words stay whole, indentation is repeated);
    header-like and "  Label: value" lines, header continuations, quoted lines and data lines
    are left alone."""
    out: list[str] = []
    in_header = False
    for line in text.split("\n"):
        if _HEADER_LIKE.match(line) or (in_header and line[:1] in (" ", "\t")):
            in_header = True
            out.append(line)
            continue
        in_header = False
        if (
            len(line) <= width
            or _LABEL_LINE.match(line)
            or line.lstrip().startswith(">")
            or is_data_line(line)
        ):
            out.append(line)
        else:
            out.extend(_split_line(line, width))
    return "\n".join(out)


def _split_line(line: str, width: int) -> list[str]:
    """Break one line at whitespace into lines of at most `width` (unless a word is longer)."""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    lines: list[str] = []
    current, pending = indent, ""
    for token in _TOKENS.findall(line[len(indent) :]):
        if token.isspace():
            pending = token
            continue
        if current.strip() and len(current) + len(pending) + len(token) > width:
            lines.append(current)
            current, pending = indent, ""
        current += pending + token
        pending = ""
    lines.append(current + pending)
    return lines


def wrap_60(raw: bytes) -> bytes:
    """Re-wrap the plain-text parts at 60 columns."""
    return rewrite(raw, Hooks(plain=functools.partial(wrap_text, width=60)))


def wrap_100(raw: bytes) -> bytes:
    """Re-wrap the plain-text parts at 100 columns."""
    return rewrite(raw, Hooks(plain=functools.partial(wrap_text, width=100)))


# --- 4. re-ordering top-level headers ---------------------------------------------------------

# Trace and signature fields keep their place (their order means something), as do MIME ones.
_FIXED_FIELDS = ("received", "return-path", "x-received", "delivered-to", "dkim-signature")


def _movable(field: bytes) -> bool:
    """Tell whether a top-level field may change place."""
    name = field_name(field)
    fixed = name in _FIXED_FIELDS or name in MIME_FIELDS or name.startswith(("arc-", "resent-"))
    return bool(name) and not fixed and field.endswith(b"\n")


def shuffle_fields(fields: list[bytes]) -> list[bytes]:
    """Reorder the movable fields by a hash of their name (same-name fields keep their order);
    trace, MIME and non-field lines stay where they are."""
    slots = [index for index, field in enumerate(fields) if _movable(field)]
    movable = [fields[index] for index in slots]

    def key(pair: tuple[int, bytes]) -> str:
        return hashlib.sha1(field_name(pair[1]).encode()).hexdigest()

    order = [field for _, field in sorted(enumerate(movable), key=key)]
    if order == movable:
        order = [field for _, field in sorted(enumerate(movable), key=key, reverse=True)]
        order = _keep_same_name_order(order, movable)
    result = list(fields)
    for slot, field in zip(slots, order, strict=True):
        result[slot] = field
    return result


def _keep_same_name_order(order: list[bytes], original: list[bytes]) -> list[bytes]:
    """Put fields of the same name back in their original relative order."""
    queues: dict[str, list[bytes]] = {}
    for field in original:
        queues.setdefault(field_name(field), []).append(field)
    return [queues[field_name(field)].pop(0) for field in order]


def reorder_headers(raw: bytes) -> bytes:
    """Shuffle the top-level Date, Message-ID, Subject, From, To, X-* ... fields
    deterministically, keeping Received/Return-Path and the MIME fields in place."""
    return rewrite(raw, Hooks(top_fields=shuffle_fields))


# --- 5. changing the case of keywords ---------------------------------------------------------

KEYWORDS = (
    "user unknown", "unknown user", "no such user", "unknown recipient", "recipient not found",
    "address rejected", "does not exist", "mailbox unavailable", "mailbox not found",
    "mailbox full", "mailbox is full", "quota exceeded", "over quota", "host unknown",
    "host not found", "relay access denied", "relaying denied", "access denied",
    "try again later", "could not be delivered", "undeliverable", "not found", "rejected",
    "blocked", "spam", "denied", "invalid", "unknown", "disabled", "inactive", "suspended",
    "expired", "timed out", "temporarily", "permanent", "failed", "failure", "mailbox",
    "recipient", "user", "address", "message", "delivery", "error",
)  # fmt: skip
_KEYWORD = re.compile(
    r"(?<![\w@.\-/+=])(?:"
    + "|".join(re.escape(word) for word in sorted(KEYWORDS, key=len, reverse=True))
    + r")(?![\w@\-/+=]|\.\w)",
    re.IGNORECASE,
)


def change_case(text: str, change: Callable[[str], str]) -> str:
    """Apply a case change to the keywords of a text, skipping data lines (base64, JSON)."""
    lines = text.split("\n")
    return "\n".join(
        line if is_data_line(line) else _KEYWORD.sub(lambda m: change(m[0]), line) for line in lines
    )


def _map_diagnostic_fields(text: str, change: TextHook) -> str:
    """Apply a change to the value (with its continuation lines) of each Diagnostic-Code."""
    out: list[str] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.lower().startswith("diagnostic-code:"):
            out.append(line)
            continue
        block = [line]
        while index < len(lines) and lines[index][:1] in (" ", "\t"):
            block.append(lines[index])
            index += 1
        name, _, value = "\n".join(block).partition(":")
        out.append(f"{name}:{change(value)}")
    return "\n".join(out)


def _case_hooks(change: Callable[[str], str]) -> Hooks:
    """Return hooks changing keyword case in text parts and Diagnostic-Code values."""
    in_text = functools.partial(change_case, change=change)
    return Hooks(
        plain=in_text,
        other_text=in_text,
        status=functools.partial(_map_diagnostic_fields, change=in_text),
    )


def title_case_keywords(raw: bytes) -> bytes:
    """Write diagnostic and body keywords in title case ('user unknown' -> 'User Unknown')."""
    return rewrite(raw, _case_hooks(str.title))


def upper_case_keywords(raw: bytes) -> bytes:
    """Write diagnostic and body keywords in upper case ('user unknown' -> 'USER UNKNOWN')."""
    return rewrite(raw, _case_hooks(str.upper))


# --- 6. folding delivery-status fields --------------------------------------------------------


def fold_value(value: str, first_width: int, width: int = 40) -> str:
    """Fold a field value (RFC 822: a newline before existing whitespace) into short lines;
    unfolding (removing the newlines) gives the value back."""
    unfolded = value.replace("\n", "")
    out, length = "", first_width
    for token in _TOKENS.findall(unfolded):
        if token.isspace():
            out += token
            length += len(token)
            continue
        if length + len(token) > width and out.strip() and out[-1:].isspace():
            spaces = out[len(out.rstrip()) :]
            out = out.rstrip() + "\n" + spaces
            length = len(spaces)
        out += token
        length += len(token)
    return out


def fold_diagnostics(raw: bytes) -> bytes:
    """Fold every Diagnostic-Code of the delivery-status parts onto 40-column continuation
    lines."""

    def fold(value: str) -> str:
        return fold_value(value, len("Diagnostic-Code:"))

    return rewrite(raw, Hooks(status=functools.partial(_map_diagnostic_fields, change=fold)))


# --- the tests --------------------------------------------------------------------------------

TRANSFORMS: dict[str, Callable[[bytes], bytes]] = {
    "rename": rename_names,
    "wrap60": wrap_60,
    "wrap100": wrap_100,
    "crlf": to_crlf,
    "lf": to_lf,
    "reorder": reorder_headers,
    "titlecase": title_case_keywords,
    "uppercase": upper_case_keywords,
    "fold": fold_diagnostics,
}
Outcome = tuple[str, dict[str, list[tuple[str, str, str | None]]]]


def _fixture_files() -> list[Path]:
    """Return the committed fixture messages."""
    return sorted(FIXTURES.glob("*.eml"))


def _corpus_files() -> list[Path]:
    """Return the dev corpus messages (none when the corpus is absent)."""
    return sorted(CORPUS.rglob("*.eml")) if CORPUS.is_dir() else []


def _cases() -> list:
    """Return one parameter per (message, transformation), the corpus ones skipped if absent."""
    cases = [
        pytest.param(path, name, id=f"fixture/{path.name}-{name}")
        for path in _fixture_files()
        for name in TRANSFORMS
    ]
    corpus = _corpus_files()
    cases += [
        pytest.param(path, name, id=f"corpus/{path.relative_to(CORPUS)}-{name}")
        for path in corpus
        for name in TRANSFORMS
    ]
    if not corpus:
        reason = f"dev corpus not found at {CORPUS} (it is not in the repository)"
        cases.append(pytest.param(None, None, id="corpus", marks=pytest.mark.skip(reason=reason)))
    return cases


def outcome(raw: bytes, rename: Callable[[str], str] = str) -> Outcome:
    """Return the kind and, per (renamed, lower-case) address, the class/reason/status list."""
    result = analyse_bytes(raw).as_dict()
    recipients: dict[str, list[tuple[str, str, str | None]]] = {}
    for found in result["recipients"]:
        key = rename(found["address"] or "").lower()
        recipients.setdefault(key, []).append((found["class"], found["reason"], found["status"]))
    return result["kind"], recipients


@functools.cache
def _raw(path: Path) -> bytes:
    """Return a message's bytes (read once)."""
    return path.read_bytes()


def mime_shape(raw: bytes) -> list[str]:
    """Return the media types of a message's parts, depth first, as the stdlib sees them."""
    message = email.message_from_bytes(to_lf(raw), policy=policy.compat32)
    return [part.get_content_type() for part in message.walk()]


@pytest.mark.parametrize(("path", "transform"), _cases())
def test_verdict_survives_transformation(path: Path, transform: str) -> None:
    raw = _raw(path)
    if transform == "rename":
        changed, renamer = renamed(raw)
        expected = outcome(raw, renamer.text)
    else:
        changed = TRANSFORMS[transform](raw)
        expected = outcome(raw)
    assert mime_shape(changed) == mime_shape(raw), "the transformation broke the MIME structure"
    after = outcome(changed)
    assert after == expected, f"{transform} changed the verdict: {expected} -> {after}"


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda path: path.name)
def test_fixture_is_read_as_a_report(path: Path) -> None:
    kind, recipients = outcome(_raw(path))
    assert kind != "unknown"
    assert recipients


def test_transformations_change_what_they_should() -> None:
    raw = _raw(FIXTURES / "12-base64-delivery-status.eml")
    changed, renamer = renamed(raw)
    encoded = changed.split(b"base64\n\n", 1)[1].split(b"\n--", 1)[0]
    status = base64.b64decode(encoded)
    assert b"leo.martin" not in status
    assert renamer.text("leo.martin@example.org").encode() in status
    assert b"h1.d1.example" in changed  # out2.example.net, the first host name seen
    assert b"User Unknown" in title_case_keywords(_raw(FIXTURES / "01-postfix-dsn-5.1.1.eml"))
    qp = upper_case_keywords(_raw(FIXTURES / "11-quoted-printable-text-bounce.eml"))
    assert b"USER UNKNOWN" in quopri.decodestring(qp)
    value = " smtp; 550 5.1.1 <a@b.example>: no such user here, sorry about that"
    folded = fold_value(value, len("Diagnostic-Code:"))
    assert "\n " in folded
    assert folded.replace("\n", "") == value
    assert all(len(line) <= 60 for line in wrap_text("word " * 40, 60).split("\n"))

"""A light MIME walker over bytes: headers, boundaries, transfer and charset decoding."""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bouncer.core.rules.regex_cache import pattern

MAX_DEPTH = 8
MAX_PARTS = 200
ENCAPSULATED = (
    "message/rfc822",
    "message/global",
    "message/partial",
    "message/rfc822-headers",
    "text/rfc822-headers",
    "message/global-headers",
)
_PARAM = pattern(r';\s*([A-Za-z0-9_\-\*\.]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "latin-1",
    "unknown-8bit": "latin-1",
    "x-user-defined": "latin-1",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
}


# Encodings a text labelled with one of these charsets turns out to be written in.
_JAPANESE = ("iso2022_jp_2", "euc-jp", "cp932")
_SIBLINGS = {
    "iso-2022-jp": _JAPANESE,
    "euc-jp": _JAPANESE,
    "cp932": _JAPANESE,
    "gb18030": ("big5",),
    "big5": ("gb18030",),
}


@dataclass(slots=True)
class Part:
    """One MIME entity: its headers, raw body and child parts.

    Header lookups go through an index of the headers by name, made on the first one (the
    headers are not changed after that), so a message with many header fields costs one pass.
    """

    headers: list[tuple[str, str]]
    body: bytes
    ctype: str = "text/plain"
    params: dict[str, str] = field(default_factory=dict)
    children: list[Part] = field(default_factory=list)
    _index: dict[str, list[str]] | None = field(default=None, init=False, repr=False, compare=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of a header (name is case-insensitive)."""
        values = self._by_name().get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """Return every value of a header, in order."""
        return list(self._by_name().get(name.lower(), ()))

    def decoded(self, name: str) -> str | None:
        """Return decode_words of the first value of a header (decoded once)."""
        return self.remembered(("decoded", name.lower()), lambda: decode_words(self.get(name)))

    def remembered(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return compute(), computed once per key for this part (what is read from its
        headers more than once: a long header costs its length once)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _by_name(self) -> dict[str, list[str]]:
        """Return the header values by name (indexed on first use)."""
        if self._index is None:
            index: dict[str, list[str]] = {}
            for key, value in self.headers:
                index.setdefault(key, []).append(value)
            self._index = index
        return self._index

    def walk(self):
        """Yield this part and every descendant, depth first."""
        stack = [self]
        while stack:
            part = stack.pop()
            yield part
            stack.extend(reversed(part.children))


def normalise_newlines(raw: bytes) -> bytes:
    """Return the bytes with CRLF and bare CR line endings turned into LF."""
    if b"\r" not in raw:
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """Split an entity into its header block and body at the first empty line."""
    if data.startswith(b"\n"):
        return b"", data[1:]
    cut = data.find(b"\n\n")
    if cut < 0:
        return data, b""
    return data[: cut + 1], data[cut + 2 :]


def parse_headers(head: bytes) -> list[tuple[str, str]]:
    """Parse a header block into (lower-case name, unfolded value) pairs.

    Continuation lines (and unindented `name=value` parameter lines some mailers write) are
    gathered and joined once per field, so a field folded over many lines costs time linear
    in its size.
    """
    pairs: list[tuple[str, str]] = []
    name: str | None = None
    current = ""
    parts: list[str] | None = None  # only for a field that is folded
    for line in to_text(head, "utf-8").split("\n"):
        if not line:
            continue
        if line[0] not in " \t":
            field, colon, value = line.partition(":")
            if colon and field and " " not in field.strip():
                if name is not None:
                    pairs.append((name, current if parts is None else " ".join(parts)))
                name, current, parts = field.strip().lower(), value.strip(), None
                continue
            if "=" not in line:
                continue
        if name is not None:
            parts = parts or [current]
            parts.append(line.strip())
    if name is not None:
        pairs.append((name, current if parts is None else " ".join(parts)))
    return pairs


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """Return the lower-case media type and its parameters from a Content-Type value."""
    if not value:
        return "text/plain", {}
    media = value.split(";", 1)[0].strip().lower()
    params = {}
    for name, raw_value in _PARAM.findall(value):
        if raw_value.startswith('"'):
            raw_value = raw_value[1:-1].replace('\\"', '"')
        params.setdefault(name.lower().rstrip("*"), raw_value)
    return media or "text/plain", params


def parse_entity(data: bytes, depth: int = 0, budget: list[int] | None = None) -> Part:
    """Parse one entity (already LF-normalised) into a Part tree (MAX_PARTS parts at most,
    MAX_DEPTH levels deep)."""
    budget = budget if budget is not None else [MAX_PARTS]
    head, body = split_head(data)
    if head.startswith(b"From "):
        head = head.split(b"\n", 1)[1] if b"\n" in head else b""
    headers = parse_headers(head)
    part = Part(headers, body)
    part.ctype, part.params = content_type(part.get("content-type"))
    budget[0] -= 1
    if depth >= MAX_DEPTH or budget[0] <= 0:
        return part
    if part.ctype.startswith("multipart/") and part.params.get("boundary"):
        for chunk in split_multipart(body, part.params["boundary"]):
            if budget[0] <= 0:
                break  # the parts after the first MAX_PARTS are not read
            part.children.append(parse_entity(chunk, depth + 1, budget))
    elif part.ctype in ENCAPSULATED:
        part.children = [parse_entity(decoded_bytes(part), depth + 1, budget)]
    return part


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """Return the bodies between the boundary lines of a multipart body."""
    marker = b"--" + boundary.encode("utf-8", "replace")
    chunks = []
    pieces = (b"\n" + body).split(b"\n" + marker)
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        newline = piece.find(b"\n")
        if newline < 0:
            continue
        chunks.append(piece[newline + 1 :])
    return chunks


def decoded_bytes(part: Part) -> bytes:
    """Return the body with its Content-Transfer-Encoding undone (raw on failure)."""
    encoding = (part.get("content-transfer-encoding") or "").strip().lower()
    if encoding == "base64":
        try:
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", part.body) + b"==")
        except (binascii.Error, ValueError):
            return part.body
    if encoding == "quoted-printable":
        return quopri.decodestring(part.body)
    return part.body


def to_text(data: bytes, charset: str | None) -> str:
    """Decode bytes with a charset, falling back to UTF-8, the charset's mislabelled siblings
    (Japanese mail labelled ISO-2022-JP is often EUC-JP or Shift_JIS), then Latin-1."""
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    for candidate in (name, "utf-8", *_SIBLINGS.get(name, ())):
        try:
            return data.decode(candidate)
        except (LookupError, ValueError):  # unknown name, bad bytes, or a NUL in the name
            continue
    return data.decode("latin-1")


def part_text(part: Part) -> str:
    """Return the decoded text of a part's body."""
    return to_text(decoded_bytes(part), part.params.get("charset"))


def parse_message(raw: bytes) -> Part:
    """Parse a raw message (any line endings, optional mbox 'From ' line) into a Part tree."""
    return parse_entity(normalise_newlines(raw).lstrip(b"\n"))


_ENCODED_WORD = pattern(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")
_BETWEEN_WORDS = pattern(r"(\?=)\s+(=\?)")


def decode_words(value: str | None) -> str | None:
    """Decode RFC 2047 encoded words in a header value (left as-is when malformed)."""
    if not value or "=?" not in value:
        return value
    joined = _BETWEEN_WORDS.sub(r"\1\2", value)
    return _ENCODED_WORD.sub(_decode_word, joined)


def _decode_word(match: re.Match[str]) -> str:
    """Return the text of one encoded word (short ones are remembered: a header repeats them)."""
    word = match.group(0)
    return _decoded_word(word) if len(word) <= 256 else _decoded_word.__wrapped__(word)


@lru_cache(maxsize=1024)
def _decoded_word(word: str) -> str:
    """Return the text of one encoded word (the word itself when it cannot be decoded)."""
    charset, encoding, payload = _ENCODED_WORD.fullmatch(word).groups()
    charset = charset.split("*", 1)[0]
    try:
        if encoding in "Bb":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4))
        else:
            data = quopri.decodestring(payload.replace("_", " ").encode("ascii"), header=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return word
    return to_text(data, charset)

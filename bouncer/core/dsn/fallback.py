"""Last resort for recipients: flufl.bounce's detectors over a compat32 message."""

from __future__ import annotations

import email
from email import policy
from itertools import islice

from bouncer.core.dsn.mime import normalise_newlines
from bouncer.core.rules.regex_cache import pattern

# flufl.bounce (and the standard library's parser under it) read every line of every part with
# dozens of patterns, and check each line against every boundary of the enclosing parts
# (quadratic in the nesting): seconds per megabyte, or per few hundred nested parts. It is given
# the message's first bytes only, where a bounce states its recipients (the rest of a long
# bounce is the returned message); it is the last resort, after the text rules.
FLUFL_LIMIT = 16 * 1024
_LINE_END = pattern(rb"\r\n|\r|\n")


def flufl_recipients(raw: bytes, excluded: set[str]) -> list[str]:
    """Return the failed addresses flufl.bounce finds in the message's first lines (see
    _head), minus excluded ones (never raises)."""
    import logging

    from flufl.bounce import all_failures  # imported lazily: only a few messages need it

    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)  # we fall back ourselves

    try:
        message = email.message_from_bytes(_head(raw), policy=policy.compat32)
        permanent, temporary = all_failures(message)
    except Exception:  # noqa: BLE001 - third-party detectors may fail on junk
        return []
    found = []
    for value in sorted(permanent | temporary):
        address = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if "@" in address and address.lower() not in excluded:
            found.append(address)
    return found


def _head(raw: bytes) -> bytes:
    """Return the message's first whole lines, FLUFL_LIMIT bytes of them with LF line endings
    (the same lines whatever the message's line endings), or the whole message if shorter."""
    normalised = normalise_newlines(raw)
    if len(normalised) <= FLUFL_LIMIT:
        return raw
    lines = normalised.count(b"\n", 0, FLUFL_LIMIT)
    if not lines:
        return raw[:FLUFL_LIMIT]  # no line ending in that stretch, whatever the kind
    ends = _LINE_END.finditer(raw)
    return raw[: next(islice(ends, lines - 1, None)).end()]

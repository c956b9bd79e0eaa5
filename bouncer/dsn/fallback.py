"""Last resort for recipients: flufl.bounce's detectors over a compat32 message."""

from __future__ import annotations

import email
from email import policy


def flufl_recipients(raw: bytes, excluded: set[str]) -> list[str]:
    """Return the failed addresses flufl.bounce finds, minus excluded ones (never raises)."""
    import logging

    from flufl.bounce import all_failures  # imported lazily: only a few messages need it

    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)  # we fall back ourselves

    try:
        message = email.message_from_bytes(raw, policy=policy.compat32)
        permanent, temporary = all_failures(message)
    except Exception:  # noqa: BLE001 - third-party detectors may fail on junk
        return []
    found = []
    for value in sorted(permanent | temporary):
        address = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if "@" in address and address.lower() not in excluded:
            found.append(address)
    return found

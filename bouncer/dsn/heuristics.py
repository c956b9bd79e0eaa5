"""Non-standard bounces: per-format readers, then generic text rules, then flufl.bounce."""

from __future__ import annotations

from bouncer.dsn.mime import Part
from bouncer.model import Report


def bounce_report(root: Part, texts: list[str]) -> Report | None:
    """Return the bounce Report of a non-standard bounce message, if it is one."""
    return None

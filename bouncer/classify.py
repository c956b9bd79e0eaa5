"""Classify an entry into hard/soft/none and a reason (placeholder until the rules land)."""

from collections.abc import Mapping

from bouncer.model import Entry, Verdict


def verdict(entry: Entry, kind: str, class_overrides: Mapping[str, str] | None = None) -> Verdict:
    """Return the Verdict for one entry of a report of the given kind."""
    return Verdict("soft", "undefined", entry.status)

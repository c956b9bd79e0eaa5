"""Parse a raw message into a Report: DSNs, complaints, auto-replies, non-standard bounces."""

from bouncer.core.dsn.report import read
from bouncer.core.model import Report


def parse(raw: bytes) -> Report:
    """Return the Report for a raw message; never raises (unknown on failure)."""
    try:
        return read(raw)
    except Exception:  # noqa: BLE001 - the contract is to never raise on hostile input
        return Report(kind="unknown")

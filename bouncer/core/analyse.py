"""Parse and classify one raw message: the pure pipeline shared by the CLI and the processor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bouncer.core.classify import verdict
from bouncer.core.dsn import parse
from bouncer.core.model import Entry, Report, Verdict


@dataclass(frozen=True, slots=True)
class Analysis:
    """A parsed report with a verdict for each of its entries."""

    report: Report
    verdicts: tuple[tuple[Entry, Verdict], ...]

    def as_dict(self) -> dict:
        """Return the `bouncer classify --json` shape (without the file name)."""
        return {
            "kind": self.report.kind,
            "recipients": [
                {
                    "address": entry.address,
                    "status": found.status,
                    "action": entry.action,
                    "class": found.bounce_class,
                    "reason": found.reason,
                    "diagnostic": entry.diagnostic,
                    "command": entry.command,
                }
                for entry, found in self.verdicts
            ],
        }

    def as_text(self, name: str) -> str:
        """Return a short human-readable summary, one line per recipient."""
        lines = [f"{name}: {self.report.kind}"]
        for entry, found in self.verdicts:
            lines.append(
                f"  {entry.address}  {found.status or '-'}  {found.bounce_class}"
                f"  {found.reason}  {entry.command or '-'}  {(entry.diagnostic or '')[:100]}"
            )
        return "\n".join(lines)


def analyse(report: Report, class_overrides: Mapping[str, str] | None = None) -> Analysis:
    """Classify every entry of a parsed report.

    Entries that differ only in their local part (the common case in a report naming
    thousands of recipients) share one verdict, so classification costs one pass per distinct
    failure, not per recipient.
    """
    found: dict[tuple, Verdict] = {}
    pairs = []
    for entry in report.entries:
        key = _verdict_key(entry)
        if key not in found:
            found[key] = verdict(
                entry, report.kind, class_overrides, reporting_mta=report.reporting_mta
            )
        pairs.append((entry, found[key]))
    return Analysis(report, tuple(pairs))


def _verdict_key(entry: Entry) -> tuple:
    """Return what a verdict reads of an entry: every field but the local part and dates."""
    return (
        entry.address.rpartition("@")[2],  # the recipient domain names a provider's rules
        entry.action,
        entry.status,
        entry.reply_code,
        entry.diagnostic,
        entry.diagnostic_type,
        entry.remote_mta,
        entry.hint,
        entry.command,
    )


def analyse_bytes(raw: bytes, class_overrides: Mapping[str, str] | None = None) -> Analysis:
    """Parse and classify a raw message; never raises on bad input."""
    return analyse(parse(raw), class_overrides)

"""Why a message was classified as it was: the part that was read and every rule that spoke.

`explain_bytes(raw)` parses and classifies like `analyse_bytes`, keeping the decisions: which
part of the message the report came from, and per recipient the fields read (address, action,
status, reply code, command, the remote server's text) and the rules that named the reason
and the class, in the order they spoke. Pure; `bouncer explain FILE` prints it.
"""

from __future__ import annotations

from collections.abc import Mapping

from bouncer.core.classify import verdict
from bouncer.core.dsn import parse
from bouncer.core.model import Entry, Report

_FIELDS = ("action", "status", "reply_code", "command", "diagnostic_type", "remote_mta")


def explain_bytes(raw: bytes, class_overrides: Mapping[str, str] | None = None) -> dict:
    """Return the explanation of one raw message as a JSON-ready dict.

    Shape: {"kind", "source", "reporting_mta", "recipients": [{"address",
    "original_recipient", "action", "status", "reply_code", "command", "diagnostic_type",
    "remote_mta", "diagnostic", "class", "reason", "effective_status", "steps": [{"rule",
    "says", "read", ...}]}]}.
    """
    report = parse(raw)
    return {
        "kind": report.kind,
        "source": report.source or "nothing recognisable",
        "reporting_mta": report.reporting_mta,
        "recipients": [_recipient(report, entry, class_overrides) for entry in report.entries],
    }


def _recipient(report: Report, entry: Entry, overrides: Mapping[str, str] | None) -> dict:
    """Return one entry's fields, its verdict and the steps that led to it."""
    steps: list[dict] = []
    found = verdict(entry, report.kind, overrides, reporting_mta=report.reporting_mta, steps=steps)
    fields = {name: getattr(entry, name) for name in _FIELDS}
    return {
        "address": entry.address,
        "original_recipient": entry.original_recipient,
        **fields,
        "diagnostic": entry.diagnostic,
        "class": found.bounce_class,
        "reason": found.reason,
        "effective_status": found.status,
        "steps": [_shown(step) for step in steps],
    }


def _shown(step: dict) -> dict:
    """Drop empty values from a step."""
    return {key: value for key, value in step.items() if value not in (None, "")}


def as_text(name: str, explained: dict) -> str:
    """Return an explanation as indented lines for a terminal."""
    lines = [f"{name}: {explained['kind']}, read from {explained['source']}"]
    if explained["reporting_mta"]:
        lines.append(f"  reported by {explained['reporting_mta']}")
    if not explained["recipients"]:
        lines.append("  no recipient named")
    for recipient in explained["recipients"]:
        lines.extend(_recipient_lines(recipient))
    return "\n".join(lines)


def _recipient_lines(recipient: dict) -> list[str]:
    """Return the lines for one recipient: fields read, steps, verdict."""
    sent_to = recipient["original_recipient"]
    head = f"  {recipient['address']}"
    if sent_to and sent_to.lower() != recipient["address"].lower():
        head += f" (sent to {sent_to})"
    read = [f"{name} {recipient[name]}" for name in _FIELDS if recipient[name]]
    lines = [head, f"    read: {', '.join(read) or 'no fields'}"]
    if recipient["diagnostic"]:
        lines.append(f"    text: {recipient['diagnostic'][:300]}")
    for step in recipient["steps"]:
        lines.append("    " + _step_line(step))
    verdict_line = f"    => {recipient['class']} {recipient['reason']}"
    lines.append(verdict_line + f" {recipient['effective_status'] or '(no status code)'}")
    return lines


def _step_line(step: dict) -> str:
    """Return one step as 'rule: read -> says (why)'."""
    read = f" {step['read']!r}" if "read" in step else ""
    says = step.get("says") or "nothing"
    why = f" ({step['why']})" if "why" in step else ""
    return f"{step['rule']}{read} -> {says}{why}"

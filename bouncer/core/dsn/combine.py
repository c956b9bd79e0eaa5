"""Fill the gaps of delivery-status entries from the report's human-readable text."""

from __future__ import annotations

from dataclasses import replace

from bouncer.core.dsn import textscan
from bouncer.core.dsn.command import Commands
from bouncer.core.dsn.fields import find_reply_code, find_status, preferred_status
from bouncer.core.dsn.phrasescan import phrase_failures
from bouncer.core.dsn.textscan import Failure
from bouncer.core.model import Entry
from bouncer.core.rules.regex_cache import pattern

_LETTERS = pattern(r"[^\W\d_]{3,}")


def needs_text(entry: Entry) -> bool:
    """Tell whether an entry lacks a usable address or diagnostic text."""
    return _bad_address(entry.address) or not _LETTERS.search(entry.diagnostic or "")


def fill_from_text(
    entries: tuple[Entry, ...], texts: list[str], excluded: set[str]
) -> tuple[Entry, ...]:
    """Return the entries with missing addresses and diagnostics taken from the text."""
    if not any(needs_text(entry) for entry in entries):
        return entries
    region = textscan.bounce_region("\n\n".join(texts))
    envelope = textscan.envelope_senders(region)
    failures = textscan.scan_failures(region, excluded, envelope) or phrase_failures(
        region, excluded, envelope
    )
    if not failures and len(entries) == 1:
        lines = region.split("\n")
        text = textscan.reply_paragraph(lines) or textscan.region_summary(region)
        failures = [Failure(entries[0].address, text)]
    by_address = {failure.address.lower(): failure for failure in failures}
    single = failures[0] if len(failures) == 1 and len(entries) == 1 else None
    return tuple(
        _filled(entry, by_address.get(entry.address.lower()) or single) for entry in entries
    )


def _filled(entry: Entry, failure: Failure | None) -> Entry:
    """Return an entry completed with a failure's address and text where it lacks them."""
    if failure is None or not needs_text(entry):
        return entry
    address = failure.address if _bad_address(entry.address) else entry.address
    diagnostic = entry.diagnostic
    if failure.diagnostic and not _LETTERS.search(diagnostic or ""):
        diagnostic = failure.diagnostic
    return replace(
        entry,
        address=address,
        diagnostic=diagnostic,
        status=preferred_status(entry.status, find_status(diagnostic)),
        reply_code=entry.reply_code or find_reply_code(diagnostic),
    )


def _bad_address(address: str) -> bool:
    """Tell whether an address has no local part or no domain."""
    local, at, domain = address.rpartition("@")
    return not (at and local and domain)


def add_commands(entries: tuple[Entry, ...], texts: list[str]) -> tuple[Entry, ...]:
    """Return the entries with the SMTP command each failure answered, where the text says
    (the bounce region is cut out only when a diagnostic and transcript do not tell)."""
    text = "\n\n".join(texts)
    commands = Commands(text, lambda: textscan.bounce_region(text))
    return tuple(entry if entry.command else _with_command(entry, commands) for entry in entries)


def _with_command(entry: Entry, commands: Commands) -> Entry:
    """Return the entry with the command its failure answered (itself when none is found)."""
    command = commands.command_for(entry.address, entry.diagnostic)
    return entry if command is None and entry.command is None else replace(entry, command=command)

"""The shape of a provider's documented replies: rules of phrases and codes, matched in order.

A provider's table says what its own replies mean. A `Rule` names a reason for lower-case
phrases (substrings of the normalised diagnostic text), optionally only under given status
codes or after a given SMTP command. A provider may also print its own error codes ("IB212",
"AUP#CXBL", "LPN007_416"): a pattern finds the code and a mapping names its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

NO_CODES: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class Rule:
    """A reason for any of some phrases, under a status code and a command when given."""

    reason: str
    phrases: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # exact codes, or prefixes ending in "." ("5.", "5.7.")
    command: str | None = None

    def applies(self, lowered_text: str, status: str | None, command: str | None) -> bool:
        """Tell whether the rule's phrase, status and command conditions hold for a reply."""
        if self.command is not None and command != self.command:
            return False
        if self.statuses and not _status_within(status or "", self.statuses):
            return False
        return not self.phrases or any(phrase in lowered_text for phrase in self.phrases)


def _status_within(status: str, accepted: tuple[str, ...]) -> bool:
    """Tell whether a status code equals one accepted code or starts with an accepted prefix."""
    for code in accepted:
        if status == code or (code.endswith(".") and status.startswith(code)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider: recipient domains, host suffixes, coded errors and phrase rules."""

    name: str
    domains: tuple[str, ...]  # recipient domains (and their subdomains) it hosts
    hosts: tuple[str, ...]  # host name suffixes of its MTAs
    rules: tuple[Rule, ...] = ()
    code_pattern: re.Pattern[str] | None = None  # group 1 is the code, in lower case
    codes: Mapping[str, str] = field(default_factory=lambda: NO_CODES)

    def reason_for(self, lowered_text: str, status: str | None, command: str | None) -> str | None:
        """Return the reason this provider documents for a reply, or None."""
        if self.code_pattern is not None:
            for found in self.code_pattern.finditer(lowered_text):
                reason = self.codes.get(found.group(1))
                if reason:
                    return reason
        for rule in self.rules:
            if rule.applies(lowered_text, status, command):
                return rule.reason
        return None


def rules(table: Iterable[tuple[str, tuple[str, ...]]]) -> tuple[Rule, ...]:
    """Return plain phrase rules from (reason, phrases) rows, in order."""
    return tuple(Rule(reason, phrases) for reason, phrases in table)


def code_range(first: int, last: int, reason: str, width: int = 4) -> dict[str, str]:
    """Return a code mapping for a documented range of numeric codes, both ends included."""
    return {str(number).zfill(width): reason for number in range(first, last + 1)}

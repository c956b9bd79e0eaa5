"""E-mail address helpers: the written form, the key form addresses are compared by, and which
address a report is about.

Identity rule (README, "Identity"): a record is about the address the application sent to, the
report's Original-Recipient when it gives a real one, else its Final-Recipient (RFC 3464 §2.3.1:
ORCPT is the address as the sender gave it; Final-Recipient may be an internal alias). Addresses
compare as a whole without regard to case by default, as large senders' suppression lists do
(RFC 5321 §2.4 lets a host treat local parts case-sensitively, but hardly any does); the written
form is kept for display.
"""

from __future__ import annotations

from dataclasses import dataclass

IDENTITY_NAMES = ("caseless", "local-case")


def bare(address: str) -> str:
    """Return an address as written, with surrounding spaces and angle brackets removed."""
    return address.strip().strip("<>").strip()


MAX_ADDRESS = 320  # octets: 64 for the local part, "@", 255 for the domain (RFC 5321 §4.5.3.1)


def looks_like_address(text: str) -> bool:
    """Tell whether text has the shape of an email address (local@domain, no white space, at
    most MAX_ADDRESS characters): what an operator may put on the list by hand."""
    local, at, domain = text.rpartition("@")
    too_long = len(text) > MAX_ADDRESS
    return bool(at and local and domain) and not too_long and not any(c.isspace() for c in text)


def normalize(address: str) -> str:
    """Return the address with its domain lower-cased (the local part as written)."""
    local, at, domain = bare(address).rpartition("@")
    if not at:
        return bare(address)
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True, slots=True)
class Identity:
    """How addresses are compared: whole address caseless (default), or local part as written.

    `name` is "caseless" or "local-case" (IDENTITY_NAMES); a database keeps the rule it was
    created with, so every process compares addresses the same way.
    """

    keep_local_case: bool = False

    @property
    def name(self) -> str:
        """Return the rule's stored name."""
        return IDENTITY_NAMES[int(self.keep_local_case)]

    @classmethod
    def named(cls, name: str) -> Identity:
        """Return the rule stored under `name`; raise ValueError for an unknown one."""
        if name not in IDENTITY_NAMES:
            raise ValueError(f"unknown address identity rule {name!r}")
        return cls(keep_local_case=name == "local-case")

    def key(self, address: str) -> str:
        """Return the form an address is stored and compared by, e.g. 'gone.mixed@dest.test'."""
        normal = normalize(address)
        return normal if self.keep_local_case else normal.lower()

    def keys(self, address: str | None, final: str | None) -> tuple[str | None, str | None]:
        """Return the keys of an address and of its final recipient; the final key only when
        it differs (stored that way, the final-key indexes hold those rows alone)."""
        key = self.key(address) if address else None
        final_key = self.key(final) if final else None
        return key, final_key if final_key != key else None


def about(final: str, original: str | None) -> str:
    """Return the address a report entry is about: a real Original-Recipient, else the final one.

    An ORCPT without a domain, or a placeholder one, is not a real address.
    """
    if original and "@" in original and not is_placeholder(original):
        return bare(original)
    return bare(final)


def is_placeholder(address: str) -> bool:
    """Say whether an address stands for nobody: no domain, or a reserved .invalid one."""
    domain = domain_of(address).rstrip(".")
    return not domain or domain == "invalid" or domain.endswith(".invalid")


def domain_of(address: str) -> str:
    """Return the lower-cased domain part of an address ('' when there is none)."""
    return address.strip().strip("<>").rpartition("@")[2].lower()

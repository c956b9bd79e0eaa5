"""E-mail address helpers: extraction and the normal form used as a key."""

from __future__ import annotations


def normalize(address: str) -> str:
    """Return the key form of an address: brackets and spaces stripped, domain lower-cased."""
    bare = address.strip().strip("<>").strip()
    local, at, domain = bare.rpartition("@")
    if not at:
        return bare
    return f"{local}@{domain.lower()}"


def is_placeholder(address: str) -> bool:
    """Say whether an address stands for nobody: no domain, or a reserved .invalid one."""
    domain = domain_of(address).rstrip(".")
    return not domain or domain == "invalid" or domain.endswith(".invalid")


def domain_of(address: str) -> str:
    """Return the lower-cased domain part of an address ('' when there is none)."""
    return address.strip().strip("<>").rpartition("@")[2].lower()

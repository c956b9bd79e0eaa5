"""Replies that large mailbox providers document, keyed by the hosts that send them.

A provider's own documentation says what its replies mean even where the same words are
ambiguous elsewhere: KDDI (au) answers "550 <addr>: User unknown" for an address that does not
exist and "550 : User unknown" when the recipient's own filter refused the sender; Yahoo says
"dd This user doesn't have a yahoo.com account" (even after DATA) for a missing account and
"... is no longer valid" for a closed one. A provider is recognised by the recipient's domain
or by the remote MTA's host name. Phrases are lower-case substrings of the diagnostic text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider: the domains and host suffixes it answers for and its documented replies."""

    name: str
    hosts: tuple[str, ...]
    replies: tuple[tuple[str, tuple[str, ...]], ...]  # (reason, phrases), checked in order


# fmt: off
PROVIDERS: tuple[Provider, ...] = (
    # https://www.au.com/support/service/internet/trouble/mail/01/
    Provider("kddi", ("ezweb.ne.jp", "au.com"), (
        ("filtered", ("550 : user unknown",)),
        ("userunknown", (">: user unknown",)),
    )),
    # https://senders.yahooinc.com/smtp-error-codes
    Provider("yahoo", ("yahoodns.net",), (
        ("userunknown", ("dd this user doesn't have a ", "mailbox not found")),
        ("suspend", (" is no longer valid.", "this mailbox is disabled")),
        ("authfailure", ("yahoo requires all senders to authenticate with either spf or dkim",)),
        ("policyviolation", ("not accepted for policy reasons",)),
        ("speeding", ("user is receiving mail too quickly",)),
        ("rejected", ("temporarily deferred due to unexpected volume or user complaints",
                      " will be permanently deferred")),
    )),
)
# fmt: on


def provider_for(recipient: str, remote_mta: str | None) -> Provider | None:
    """Return the provider that answers for the recipient's domain or the remote host, if any."""
    domain = recipient.rpartition("@")[2].lower()
    host = (remote_mta or "").lower().rstrip(".")
    for provider in PROVIDERS:
        for suffix in provider.hosts:
            if _within(domain, suffix) or _within(host, suffix):
                return provider
    return None


def _within(name: str, suffix: str) -> bool:
    """Tell whether a host or domain name is the suffix itself or lies beneath it."""
    return name == suffix or name.endswith("." + suffix)


def provider_reason(recipient: str, remote_mta: str | None, lowered_text: str) -> str | None:
    """Return the reason a provider documents for a reply, or None."""
    provider = provider_for(recipient, remote_mta)
    if provider is None or not lowered_text:
        return None
    for reason, phrases in provider.replies:
        if any(phrase in lowered_text for phrase in phrases):
            return reason
    return None

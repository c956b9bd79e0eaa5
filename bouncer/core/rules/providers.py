"""Replies that large mailbox providers document, found by who answered.

A provider's own documentation says what its replies mean even where the same words are
ambiguous elsewhere. A provider is recognised by the recipient's domain, then by the remote
MTA's host name, then by the reporting MTA's (a gateway such as MessageLabs reports for its
customers). Each provider recognised, in that order, is asked until one names a reason.
The tables live in the `providers_*` modules; `provider_model` has their shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bouncer.core.rules.provider_model import Provider
from bouncer.core.rules.providers_coded import COX, FACEBOOK, GODADDY, IUA, ORANGE, SPECTRUM
from bouncer.core.rules.providers_gateway import MESSAGELABS, MIMECAST
from bouncer.core.rules.providers_google import GOOGLE, WORKSPACE
from bouncer.core.rules.providers_isp import (
    AOL,
    APPLE,
    CLOUDFLARE,
    DOCOMO,
    KDDI,
    MAILRU,
    TENCENT,
    YAHOO,
    ZOHO,
)
from bouncer.core.rules.providers_microsoft import MICROSOFT, OUTLOOK

PROVIDERS: tuple[Provider, ...] = (
    GOOGLE, WORKSPACE, MICROSOFT, OUTLOOK, APPLE, AOL, YAHOO, ZOHO, TENCENT, CLOUDFLARE, KDDI,
    DOCOMO, COX, SPECTRUM, ORANGE, GODADDY, IUA, FACEBOOK, MESSAGELABS, MIMECAST, MAILRU,
)  # fmt: skip


def _index(names_of: Callable[[Provider], tuple[str, ...]]) -> dict[str, Provider]:
    """Return a map from each domain or host suffix to the provider that owns it."""
    return {name: provider for provider in PROVIDERS for name in names_of(provider)}


BY_DOMAIN = _index(lambda provider: provider.domains)
BY_HOST = _index(lambda provider: provider.hosts)


def _owner(name: str | None, index: dict[str, Provider]) -> Provider | None:
    """Return the provider owning a domain or host name (the name or a parent domain of it)."""
    if not name:
        return None
    labels = name.lower().rstrip(".").split(".")
    for start in range(len(labels) - 1):
        found = index.get(".".join(labels[start:]))
        if found is not None:
            return found
    return None


def providers_for(
    recipient: str, remote_mta: str | None, reporting_mta: str | None = None
) -> Iterator[Provider]:
    """Yield each provider recognised: by recipient domain, remote host, then reporting host."""
    seen: list[Provider] = []
    candidates = (
        _owner(recipient.rpartition("@")[2], BY_DOMAIN),
        _owner(remote_mta, BY_HOST),
        _owner(reporting_mta, BY_HOST),
    )
    for provider in candidates:
        if provider is not None and provider not in seen:
            seen.append(provider)
            yield provider


def provider_for(recipient: str, remote_mta: str | None) -> Provider | None:
    """Return the first provider recognised for a recipient and remote host, if any."""
    return next(providers_for(recipient, remote_mta), None)


def provider_reason(
    recipient: str,
    remote_mta: str | None,
    lowered_text: str,
    *,
    status: str | None = None,
    command: str | None = None,
    reporting_mta: str | None = None,
    steps: list[dict] | None = None,
) -> str | None:
    """Return the reason a recognised provider documents for a reply, or None.

    With `steps`, the provider that named the reason is noted there (for `bouncer explain`).
    """
    if not lowered_text:
        return None
    for provider in providers_for(recipient, remote_mta, reporting_mta):
        reason = provider.reason_for(lowered_text, status, command)
        if reason:
            if steps is not None:
                steps.append({"rule": "provider", "says": reason, "read": provider.name})
            return reason
    return None

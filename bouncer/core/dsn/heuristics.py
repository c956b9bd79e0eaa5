"""Non-standard bounces: pasted DSN fields, text rules, then flufl.bounce as a last resort."""

from __future__ import annotations

import re

from bouncer.core.dsn import fallback, standard, textscan
from bouncer.core.dsn.caseless import Caseless
from bouncer.core.dsn.command import Commands
from bouncer.core.dsn.fields import (
    address_keys,
    field_blocks,
    find_addresses,
    find_reply_code,
    find_status,
)
from bouncer.core.dsn.limits import MAX_RECIPIENTS
from bouncer.core.dsn.mime import Part
from bouncer.core.dsn.phrasescan import phrase_failures
from bouncer.core.dsn.textscan import Failure
from bouncer.core.model import Entry, Report
from bouncer.core.rules.regex_cache import pattern

_DAEMON = Caseless(
    r"mailer-daemon|mailer_daemon|postmaster|post_master|mail delivery|mmdf|\bndr\b|"
    r"delivery[ -]?(?:subsystem|system|notification)|mail ?administrator|daemon@",
)
_BOUNCE_SUBJECT = Caseless(
    r"undeliver|undelivered|deliver(?:y|ing)? (?:fail|status|notification|error|problem)"
    r"|returned mail|return(?:ed|ing) (?:message|to sender)|failure notice|mail failure"
    r"|delivery has failed|could not be delivered|not delivered|non[- ]?(?:remis|recapitabile)"
    r"|unzustellbar|no se pudo entregar|mail system error|rejected|bounce|error|failed"
    r"|delivery report|warning|delayed|異常|エラー|不達|未送達|退信|系统退信",
)
_FAILURE_TEXT = Caseless(
    r"could not be delivered|couldn't be delivered|not be delivered|delivery (?:has )?failed"
    r"|undeliverable|permanent(?:ly)? (?:error|fatal|failure)|unable to deliver"
    r"|error (?:occurred )?(?:while )?delivering|delivery to the following|failed"
    r"|was not delivered|wasn't delivered|did not reach|rejected|user unknown|no such user",
)
# A delay notice says the sending system is still trying (RFC 3464 `delayed`): "will retry",
# "will continue to try", "delivery attempts will continue", "still trying", "has not yet been
# delivered", "this is a warning message only". (Each alternative starts with its own letter, so
# that `re` skips ahead to those letters instead of trying every phrase at every character.)
_RETRY = r"(?:continue to |keep |be )?(?:(?:re-?)?try|re-?tried|trying|attempt)"
_KEEP_TRYING = r"(?:continue|keep) (?:trying|retrying|attempting)"
_WILL_CONTINUE = r"attempts? will (?:continue|be made)"
_DELAY_TEXT = Caseless(
    rf"w(?:arning message only|ill {_RETRY}|ill {_KEEP_TRYING})"
    rf"|s(?:hall {_RETRY}|hall {_KEEP_TRYING}|till (?:be )?(?:trying|retrying))"
    rf"|'ll {_RETRY}|{_WILL_CONTINUE}"
    rf"|d(?:elivery {_WILL_CONTINUE}|elivery (?:has been|is) delayed"
    rf"|elayed? (?:delivery )?(?:notification|warning))"
    r"|ha(?:s been delayed|s not yet been delivered|ve not yet been delivered)|is being delayed",
)
OWN_HEADERS = ("to", "from", "return-path", "reply-to", "sender", "delivered-to", "cc")
SENDER_HEADERS = ("from", "return-path", "sender")
# Whom the bounce goes back to (the original's sender, or a bounce address): a failed
# recipient only when the text names no other ("A message sent by <x> could not be
# delivered to <y>" names y; a message someone sent to themselves names x alone).
RETURN_HEADERS = ("to", "delivered-to")
_LETTERS = pattern(r"[^\W\d_]{3,}")
_GROUPS_HELP = "groups.google.com/support"
_BULLET = pattern(r"^[ \t]*\*[ \t]+\S", re.M)
_PASTED_FIELD = Caseless(r"^[ \t>]*final-recipient:", re.M)


def looks_like_bounce(root: Part, region: str) -> bool:
    """Tell whether the sender, subject or text marks the message as a delivery failure."""
    if root.get("x-failed-recipients"):
        return True
    sender = root.decoded("from") or root.get("return-path") or ""
    subject = root.decoded("subject") or ""
    if _DAEMON.search(sender) or _BOUNCE_SUBJECT.search(subject):
        return True
    return bool(_FAILURE_TEXT.search(region))


def own_addresses(root: Part, names: tuple[str, ...] = OWN_HEADERS) -> set[str]:
    """Return the addresses in the bounce's own headers of the given names."""
    found: set[str] = set()
    for name in names:
        found.update(root.remembered(("addresses", name), lambda name=name: _addresses(root, name)))
    return found


def _addresses(root: Part, name: str) -> frozenset[str]:
    """Return the lower-cased addresses in every value of one header of the bounce."""
    return frozenset().union(*(address_keys(value) for value in root.get_all(name)))


def bounce_report(root: Part, texts: list[str], raw: bytes = b"") -> Report | None:
    """Return the bounce Report of a non-standard bounce message, if it is one."""
    full_text = "\n\n".join(texts)
    pasted = _pasted_status(full_text)
    if pasted is not None:
        return pasted
    region = textscan.bounce_region(full_text)
    if not looks_like_bounce(root, region):
        return None
    failures = _failures(root, region)
    source = "the body text of a bounce without a delivery-status part"
    if not failures and raw:
        excluded = own_addresses(root)
        failures = [Failure(a, None) for a in fallback.flufl_recipients(raw, excluded)]
        source = "flufl.bounce's detectors (no text rule named a recipient)"
    if not failures:
        daemon = _DAEMON.search(root.get("from") or "")
        return Report(kind="bounce", source="the sender and subject only") if daemon else None
    if len(failures) == 1:
        failures = [_with_reply_line(failures[0], region)]
    delayed = bool(_DELAY_TEXT.search(region))
    summary = textscan.region_summary(region)
    if is_group_refusal(region):
        entries = tuple(_group_entry(f, summary) for f in failures)
        return Report(kind="bounce", entries=entries, source="a Google Groups refusal notice")
    commands = Commands(full_text, lambda: region)
    entries = tuple(_entry(_with_text(failure, summary), delayed, commands) for failure in failures)
    return Report(kind="delay" if delayed else "bounce", entries=entries, source=source)


def is_group_refusal(region: str) -> bool:
    """Tell whether the text is Google Groups' notice that a post was refused (any language):
    its help-centre link and its bulleted list of causes (no such group, or no permission)."""
    return _GROUPS_HELP in region and len(_BULLET.findall(region)) >= 3


def _group_entry(failure: Failure, summary: str | None) -> Entry:
    """Build the entry of a group that refused a post: the sender was not accepted."""
    return Entry(address=failure.address, action="failed", diagnostic=summary, hint="rejected")


def _failures(root: Part, region: str) -> list[Failure]:
    """Return the failed recipients: text rules (the addresses as sent), X-Failed-Recipients,
    phrases, then flufl.bounce."""
    senders = own_addresses(root, SENDER_HEADERS)
    envelope = textscan.envelope_senders(region)  # found once for every scan below
    returned = senders | own_addresses(root, RETURN_HEADERS)
    found = textscan.scan_failures(region, returned, envelope)
    found = found or textscan.scan_failures(region, senders, envelope)
    if found:
        return found
    listed = _header_failures(root, region, envelope)
    if listed:
        return listed
    excluded = own_addresses(root)
    found = phrase_failures(region, excluded, envelope)
    if found:
        return found
    return []


def _header_failures(root: Part, region: str, envelope: set[str]) -> list[Failure]:
    """Return the recipients an X-Failed-Recipients header lists, with their text (`envelope`:
    the text's envelope senders)."""
    listed = [a for v in root.get_all("x-failed-recipients") for a in find_addresses(v)]
    if not listed:
        return []
    listed = listed[:MAX_RECIPIENTS]
    scanned = {f.address.lower(): f for f in textscan.scan_failures(region, set(), envelope)}
    unread = any(address.lower() not in scanned for address in listed)
    reply = textscan.reply_paragraph(region.split("\n")) if unread else None  # read once
    return [scanned.get(address.lower()) or Failure(address, reply) for address in listed]


def _with_reply_line(failure: Failure, region: str) -> Failure:
    """Return the only failure with the text's server reply line put first, when its own text
    carries no reply code (the reply is often printed above the recipient's line)."""
    if textscan.has_code(failure.diagnostic):
        return failure
    reply = textscan.reply_paragraph(region.split("\n"))
    return Failure(failure.address, _join(reply, failure.diagnostic)) if reply else failure


def _with_text(failure: Failure, summary: str | None) -> Failure:
    """Return the failure with the whole bounce text as diagnostic when it has none."""
    if failure.diagnostic and _LETTERS.search(failure.diagnostic):
        return failure
    return Failure(failure.address, _join(failure.diagnostic, summary))


def _join(first_text: str | None, second_text: str | None) -> str | None:
    """Join two optional texts with a space (None when both are empty)."""
    return " ".join(part for part in (first_text, second_text) if part) or None


def _entry(failure: Failure, delayed: bool, commands: Commands) -> Entry:
    """Build an Entry from a failure read out of a text (the commands its text reports)."""
    return Entry(
        address=failure.address,
        action="delayed" if delayed else "failed",
        status=find_status(failure.diagnostic),
        reply_code=find_reply_code(failure.diagnostic),
        diagnostic=failure.diagnostic,
        command=commands.command_for(failure.address, failure.diagnostic),
        remote_mta=remote_host(failure.diagnostic),
    )


# The remote host a text bounce names for a reply: Postfix "host mx.example.com[192.0.2.1]
# said:", Exim "host mx.example.com [192.0.2.1]:".
# (`h(?<!\wh)` is `\bh`, written so that `re` can skip ahead to an "h".)
_REMOTE_HOST = pattern(
    r"h(?<!\wh)ost ([A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,})[ \t]*\[[0-9a-fA-F.:]+\]"
)


def remote_host(diagnostic: str | None) -> str | None:
    """Return the remote host name an error text names, if any (for providers' tables)."""
    found = _REMOTE_HOST.search(diagnostic) if diagnostic else None
    return found.group(1).lower() if found else None


def _pasted_status(text: str) -> Report | None:
    """Return the Report of delivery-status fields pasted into a text body, if any."""
    if next(_PASTED_FIELD.line_matches(text), None) is None:
        return None
    dequoted = re.sub(r"^(?:[ \t]*>)+ ?", "", text, flags=re.M)
    entries = []
    for block in field_blocks(dequoted):
        entry = standard.entry_from_block(block)
        if entry is not None:
            entries.append(entry)
    if not entries:
        return None
    kind = standard.kind_of_entries(tuple(entries))
    source = "delivery-status fields pasted into the body text"
    return Report(kind=kind, entries=tuple(entries), source=source)

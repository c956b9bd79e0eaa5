"""Amazon SES notifications (JSON in the body, optionally wrapped by SNS)."""

from __future__ import annotations

import json

from bouncer.core.dsn.fields import find_reply_code, find_status, fold
from bouncer.core.model import Entry, Report

_MARK = '"notificationType"'


SOURCE = "the Amazon SES notification (JSON)"


def ses_report(texts: list[str]) -> Report | None:
    """Return the Report of an SES bounce, complaint or delivery notification, if any."""
    for text in texts:
        if _MARK not in text and '\\"notificationType\\"' not in text:
            continue
        notification = _load(text)
        if notification is not None:
            return _report(notification)
    return None


def _load(text: str) -> dict | None:
    """Return the notification object from a body holding JSON (None if unreadable)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    chunk = text[start : end + 1]
    for candidate in (chunk, chunk.replace("\n", "")):
        try:
            loaded = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(loaded, dict) and isinstance(loaded.get("Message"), str):
            return _load(loaded["Message"])
        return loaded if isinstance(loaded, dict) else None
    return None


def _report(notification: dict) -> Report | None:
    """Build a Report from a decoded SES notification."""
    kind = str(notification.get("notificationType") or notification.get("eventType") or "")
    body = notification.get(kind.lower()) or {}
    if kind == "Bounce":
        entries = tuple(_bounced(item) for item in body.get("bouncedRecipients", []))
        return Report(
            kind="bounce", entries=entries, reporting_mta=body.get("reportingMTA"), source=SOURCE
        )
    if kind == "Complaint":
        feedback = body.get("complaintFeedbackType") or "abuse"
        entries = tuple(
            Entry(address=item.get("emailAddress", ""), feedback_type=feedback, hint="feedback")
            for item in body.get("complainedRecipients", [])
        )
        return Report(kind="complaint", entries=entries, source=SOURCE)
    if kind == "Delivery":
        response = fold(body.get("smtpResponse"))
        entries = tuple(
            Entry(
                address=address,
                action="delivered",
                status=find_status(response),
                reply_code=find_reply_code(response),
                diagnostic=response,
                remote_mta=body.get("remoteMtaIp"),
                hint="delivered",
            )
            for address in body.get("recipients", [])
        )
        return Report(
            kind="delivered", entries=entries, reporting_mta=body.get("reportingMTA"), source=SOURCE
        )
    return None


def _bounced(item: dict) -> Entry:
    """Build an Entry from one SES bouncedRecipients item."""
    diagnostic = fold(str(item.get("diagnosticCode") or "")) or None
    if diagnostic and diagnostic.lower().startswith("smtp;"):
        diagnostic = diagnostic[5:].strip()
    status = find_status(diagnostic) or find_status(str(item.get("status") or ""))
    return Entry(
        address=str(item.get("emailAddress", "")),
        action=str(item.get("action") or "failed").lower(),
        status=status,
        reply_code=find_reply_code(diagnostic),
        diagnostic=diagnostic,
        diagnostic_type="smtp" if diagnostic else None,
    )

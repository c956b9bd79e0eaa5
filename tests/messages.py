"""Builders for literal test messages: RFC 3464 DSNs in the shape Postfix sends them.

Every date in a built message comes from the `at` argument (the test's clock), never from a fixed
calendar date, so that no test depends on the day it runs.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from email.utils import format_datetime

from bouncer.clock import utcnow

_AUTO = object()  # Arrival-Date one minute before the report
_REPORT_NUMBERS = itertools.count(1)  # each built report has its own Message-Id


def rfc2822(moment: datetime) -> str:
    """Return a datetime in the Date-header form, e.g. 'Tue, 24 Nov 2026 09:59:00 +0000'."""
    return format_datetime(moment.replace(microsecond=0))


def postfix_dsn(
    recipient: str,
    status: str,
    diagnostic: str,
    *,
    action: str = "failed",
    message_id: str = "<orig-1@shop.example>",
    at: datetime | None = None,
    arrival: datetime | None | object = _AUTO,
    original_recipient: str | None = None,
    report_id: str | None = None,
    extra_fields: str = "",
) -> bytes:
    """Return a Postfix-style multipart/report DSN for one recipient.

    `at` is when the report was written (default: now); the Arrival-Date is a minute earlier
    unless `arrival` gives one (None: no Arrival-Date). `original_recipient` sets the ORCPT
    (default: the recipient); `report_id` the report's own Message-Id (default: a new one);
    `extra_fields` adds per-recipient lines such as Will-Retry-Until.
    """
    at = at or utcnow()
    arrival_at = at - timedelta(minutes=1) if arrival is _AUTO else arrival
    arrival_line = f"Arrival-Date: {rfc2822(arrival_at)}\n" if arrival_at else ""
    report_id = report_id or f"<dsn-{next(_REPORT_NUMBERS)}@mx.sender.example>"
    extra = extra_fields.strip("\n") + "\n" if extra_fields else ""
    return f"""\
Return-Path: <>
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
To: bounces@localhost
Subject: Undelivered Mail Returned to Sender
Date: {rfc2822(at)}
Message-Id: {report_id}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B0UNDARY"

--B0UNDARY
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.sender.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host mx.example.com[192.0.2.1] said: {diagnostic}

--B0UNDARY
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example
X-Postfix-Queue-ID: 4ABCDEF
{arrival_line}
Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{original_recipient or recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; {diagnostic}
{extra}
--B0UNDARY
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Shop <orders@shop.example>
To: {original_recipient or recipient}
Subject: Your order
Message-Id: {message_id}
Date: {rfc2822(at - timedelta(minutes=2))}

--B0UNDARY--
""".replace("\n", "\r\n").encode()


def arf_complaint(original_to: str = "redacted@example.net", at: datetime | None = None) -> bytes:
    """Return an RFC 5965 abuse report whose returned message names original_to."""
    at = at or utcnow()
    return f"""\
From: feedback@isp.example
To: bounces@localhost
Subject: Abuse report
Date: {rfc2822(at)}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/1.0
Version: 1
Arrival-Date: {rfc2822(at - timedelta(hours=1))}

--ARF
Content-Type: text/rfc822-headers

From: Shop <news@shop.example>
To: {original_to}
Subject: Offers
Message-ID: <news-1@shop.example>

--ARF--
""".replace("\n", "\r\n").encode()

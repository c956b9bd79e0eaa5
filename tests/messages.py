"""Builders for literal test messages: RFC 3464 DSNs in the shape Postfix sends them."""

from __future__ import annotations


def postfix_dsn(
    recipient: str,
    status: str,
    diagnostic: str,
    *,
    action: str = "failed",
    message_id: str = "<orig-1@shop.example>",
    arrival: str | None = "Tue, 24 Nov 2026 09:59:00 +0000",
) -> bytes:
    """Return a Postfix-style multipart/report DSN for one recipient."""
    arrival_line = f"Arrival-Date: {arrival}\n" if arrival else ""
    return f"""\
Return-Path: <>
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
To: bounces@localhost
Subject: Undelivered Mail Returned to Sender
Date: Tue, 24 Nov 2026 10:00:00 +0000
Message-Id: <dsn-{status}@mx.sender.example>
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
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; {diagnostic}

--B0UNDARY
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Shop <orders@shop.example>
To: {recipient}
Subject: Your order
Message-Id: {message_id}
Date: Tue, 24 Nov 2026 09:58:00 +0000

--B0UNDARY--
""".replace("\n", "\r\n").encode()


def arf_complaint(original_to: str = "redacted@example.net") -> bytes:
    """Return an RFC 5965 abuse report whose returned message names original_to."""
    return f"""\
From: feedback@isp.example
To: bounces@localhost
Subject: Abuse report
Date: Tue, 24 Nov 2026 10:00:00 +0000
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
Arrival-Date: Tue, 24 Nov 2026 09:00:00 +0000

--ARF
Content-Type: text/rfc822-headers

From: Shop <news@shop.example>
To: {original_to}
Subject: Offers
Message-ID: <news-1@shop.example>

--ARF--
""".replace("\n", "\r\n").encode()

"""The kinds of fault found on mail the classifier had never seen, each as small inputs, with
variants so that a rule fits the kind and not one sample."""

from __future__ import annotations

import pytest

from bouncer.core.analyse import analyse_bytes


def _text_bounce(
    body: str, subject: str = "Undelivered Mail", sender: str = "MAILER-DAEMON"
) -> bytes:
    return (
        f"From: {sender}@mx.example.net\nTo: bounces@bounces.example\nSubject: {subject}\n"
        f"Content-Type: text/plain\n\n{body}"
    ).encode()


def _dsn(block: str, text: str = "Delivery has failed.") -> bytes:
    return f"""From: postmaster@mx.example.net
To: bounces@bounces.example
Subject: Undeliverable
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

{text}

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

{block}
--b--
""".encode()


def _recipients(raw: bytes) -> list[tuple]:
    found = analyse_bytes(raw).as_dict()["recipients"]
    return [(r["address"], r["class"], r["reason"], r["status"]) for r in found]


# 1. an address starts at a token boundary ---------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "userid: userx@example.ac.jp",
        "user1@example.gov",
        "Recipient:user1@example.gov",
        "mailbox userz@example.org is unknown",
    ],
)
def test_the_text_scan_never_eats_the_start_of_an_address(line: str) -> None:
    raw = _text_bounce(f"Your message could not be delivered.\n\n{line}\n\n550 User unknown\n")
    addresses = [address for address, *_ in _recipients(raw)]
    assert all(
        address.split("@")[0] in line.split()
        or f":{address}" in line
        or f" {address}" in f" {line}"
        for address in addresses
    )
    assert not any(address[0].isdigit() or address.startswith("x@") for address in addresses)


# 2. nothing in the returned message names a failed recipient ----------------------------------


@pytest.mark.parametrize(
    "marker", ["", "----- Original message -----\n", "Original message follows.\n"]
)
def test_a_pasted_original_names_no_recipient(marker: str) -> None:
    body = (
        "The message that you sent was undeliverable to the following:\n"
        "\tbarry (user not found)\n\n"
        f"{marker}From: Barry <barry@list.example.org>\nTo: Mailman-Users@list.example.org\n"
        "Subject: Mailman 2.0.12 released\nDate: Thu, 04 Jul 2002 10:00:00 -0400\n"
        "Message-ID: <15652.54433@list.example.org>\n\nMailman 2.0.12 is out.\n"
    )
    report = analyse_bytes(_text_bounce(body)).as_dict()
    assert report["kind"] == "bounce"
    assert report["recipients"] == []  # no guess from the original's To:, no status 2.0.12


def test_a_summary_of_the_failed_message_is_not_mistaken_for_its_header() -> None:
    body = (
        "Your message did not reach some or all of the intended recipients.\n\n"
        "      Subject:  Your order\n      Sent:     3/1/2026 10:00 AM\n\n"
        "The following recipient(s) cannot be reached:\n\n"
        "      gone@example.com on 3/1/2026 10:00 AM\n"
        "            550 5.1.1 User unknown\n"
    )
    assert _recipients(_text_bounce(body))[0][:3] == ("gone@example.com", "hard", "userunknown")


# 3. which recipient ---------------------------------------------------------------------------


@pytest.mark.parametrize("final", ["rfc822; userx@sims-ms-daemon", "LOCAL;<f.b>", "rfc822; userx"])
def test_a_real_original_recipient_beats_an_internal_final_one(final: str) -> None:
    block = (
        f"Original-Recipient: rfc822; userx@example.com\nFinal-Recipient: {final}\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 unknown user\n"
    )
    assert _recipients(_dsn(block))[0][0] == "userx@example.com"


# 6. the remote reply in a vendor field of the same recipient block ----------------------------


def test_a_vendor_field_holds_the_remote_reply_of_its_own_block_only() -> None:
    blocks = (
        "Final-recipient: RFC822; someone@example.com\nAction: failed\nStatus: 5.0.0\n"
        'X-Supplementary-Info: <mx.example.com #5.0.0 smtp;550 "Unknown User">\n\n'
        "Final-recipient: RFC822; other@example.com\nAction: failed\nStatus: 5.0.0\n"
    )
    first, second = _recipients(_dsn(blocks, text=""))
    assert first[:3] == ("someone@example.com", "hard", "userunknown")
    assert second[2] != "userunknown"  # never the text of another recipient's block


# 7. body evidence against headers; delays; a reason line above the address -------------------


def test_a_failure_report_with_an_auto_submitted_header_is_a_bounce() -> None:
    raw = (
        b"From: Mail System <mail@relay.example.org>\nTo: b@bounces.example\n"
        b"Subject: Re: Your order\nAuto-Submitted: auto-replied\nContent-Type: text/plain\n\n"
        b"Your message could not be delivered to the following recipient:\n\n"
        b"  gone@example.com: 550 5.1.1 user unknown\n"
    )
    assert analyse_bytes(raw).as_dict()["kind"] == "bounce"


@pytest.mark.parametrize(
    "sentence",
    [
        "We will continue to try to deliver your message.",
        "Delivery attempts will continue for some time.",
        "The server will retry for 4 more days.",
        "We'll keep trying to deliver it.",
        "Your message has not yet been delivered to one or more recipients.",
    ],
)
def test_still_trying_is_a_delay(sentence: str) -> None:
    body = f"{sentence}\n\n<slow@example.com>: connect to mx.example.com: Connection timed out\n"
    assert analyse_bytes(_text_bounce(body, "Delivery delayed")).as_dict()["kind"] == "delay"


def test_a_reason_line_above_the_address_is_that_recipients() -> None:
    body = (
        "The following mail could not be delivered.\n\n"
        "reject reason: Mailbox full\ntarget mail address: user@example.jp\n\n"
        "Error: 550 5.1.1 User unknown\nRecipient: other@example.jp\n"
    )
    assert [r[:3] for r in _recipients(_text_bounce(body))] == [
        ("user@example.jp", "soft", "mailboxfull"),
        ("other@example.jp", "hard", "userunknown"),
    ]


# 8. vendors' auto-reply markers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "X-Apple-Action: VACATION",
        "X-Autogenerated: Reply",
        "X-Vacation: yes",
        "X-Mail-Autoreply: on",
    ],
)
def test_vendor_markers_make_an_auto_reply(header: str) -> None:
    raw = (
        f"From: Jane <jane@example.org>\nTo: news@shop.example\nSubject: Re: Your order\n{header}\n"
        "Content-Type: text/plain\n\nThanks, I am travelling until Monday.\n"
    ).encode()
    assert analyse_bytes(raw).as_dict()["kind"] == "autoreply"


# Kinds found on other libraries' test messages ------------------------------------------------


def test_the_sender_a_bounce_names_is_not_a_failed_recipient() -> None:
    body = (
        "A message sent by\n\n  <sender@example.test>\n\ncould not be delivered to one or more of"
        " its recipients. The following address(es) failed:\n\n  rcpt@example.net\n"
        "    host mx.example.net [192.0.2.9]: 550 5.1.1 No such user\n"
    )
    raw = _text_bounce(body).replace(b"To: bounces@", b"To: postmaster@")
    assert [r[0] for r in _recipients(raw)] == ["rcpt@example.net"]


@pytest.mark.parametrize(
    "line",
    [
        "gone@example.net<mailto:gone@example.net> The address could not be found.",
        "收件人：gone@example.net",
        "Recipient: 'gone@example.net'",
    ],
)
def test_recipient_layouts_of_other_mail_systems(line: str) -> None:
    raw = _text_bounce(f"Your message could not be delivered.\n\n{line}\n\n550 No such user here\n")
    assert [r[0] for r in _recipients(raw)] == ["gone@example.net"]


def test_a_local_delivery_agents_unknown_user_is_the_address() -> None:
    block = (
        "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.0.999\n"
        'Diagnostic-Code: X-Postfix; unknown user: "gone@example.org"\n'
    )
    assert _recipients(_dsn(block))[0][1:3] == ("hard", "userunknown")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("550 Message was not accepted -- invalid mailbox. Local mailbox x@example.org is "
         "unavailable: user not found (in reply to end of DATA command)", "userunknown"),
        ("552 1 Requested mail action aborted, mailbox not found (in reply to end of DATA "
         "command)", "userunknown"),
        ("550 5.0.0 <x@example.org>... User unknown (in reply to end of DATA command)", "filtered"),
    ],
)  # fmt: skip
def test_after_data_a_failed_lookup_is_the_address_other_words_a_filter(
    reply: str, reason: str
) -> None:
    block = "Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.0.0\n"
    block += f"Diagnostic-Code: smtp; {reply}\n"
    assert _recipients(_dsn(block))[0][2] == reason


def test_a_report_without_diagnostic_reads_its_human_part() -> None:
    block = "Original-Recipient: rfc822;<f.b@example.org>\nFinal-Recipient: LOCAL;<f.b>\n"
    block += "Action: failed\nStatus: 5.0.0\n"
    text = "Failed to deliver to '<f.b@example.org>'\nLOCAL module reports:\n account is full"
    assert _recipients(_dsn(block, text=text))[0][:3] == ("f.b@example.org", "soft", "mailboxfull")


@pytest.mark.parametrize(
    "header",
    [
        "Subject: Fuori ufficio",
        "Subject: Автоответ",
        "Subject: I will be out of office until Monday",
        "Subject: This is an automated response",
        "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
        "X-MS-Exchange-Inbox-Rules-Loop: someone@example.org",
    ],
)
def test_more_auto_reply_markers(header: str) -> None:
    raw = (
        f"From: someone@example.org\nTo: news@shop.example\n{header}\n"
        "Content-Type: text/plain; charset=utf-8\n\nThanks for writing.\n"
    ).encode()
    assert analyse_bytes(raw).as_dict()["kind"] == "autoreply"


def test_outlooks_auto_response_suppress_alone_is_no_auto_reply() -> None:
    raw = (
        b"From: someone@example.org\nTo: news@shop.example\nSubject: Re: your order\n"
        b"X-Auto-Response-Suppress: All\nContent-Type: text/plain\n\nPlease call me.\n"
    )
    assert analyse_bytes(raw).as_dict()["kind"] != "autoreply"


def test_a_challenge_response_notice_shaped_as_a_report_is_an_auto_reply() -> None:
    by_header = (
        _dsn("Final-Recipient: rfc822; x@example.org\nStatus: 4.7.0\n")
        .replace(
            b"Subject: Undeliverable", b"Subject: Your message is waitlisted\nX-Boxbe-Notice: true"
        )
        .replace(b"From: postmaster@mx.example.net", b"From: Boxbe <notice@boxbe.example>")
    )
    by_field = _dsn(
        "Final-Recipient: rfc822; x@example.org\nStatus: 4.7.0\n"
        "Diagnostic-Code: X-Boxbe-Notice; Sender not pre-approved.\n"
    )
    for raw in (by_header, by_field):
        assert analyse_bytes(raw).as_dict()["kind"] == "autoreply"


def test_an_outlook_complaint_names_the_complainer() -> None:
    raw = b"""From: staff@hotmail.com
To: abuse@shop.example
Subject: complaint about message from 192.0.2.7
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: message/rfc822

X-HmXmrOriginalRecipient: complainer@hotmail.example
From: news@shop.example
Subject: Offers

Buy now.
--b--
"""
    report = analyse_bytes(raw).as_dict()
    assert report["kind"] == "complaint"
    assert [r["address"] for r in report["recipients"]] == ["complainer@hotmail.example"]

"""Tests for the replies providers document."""

from bouncer.core.classify import verdict
from bouncer.core.model import Entry
from bouncer.core.rules.matcher import normalise
from bouncer.core.rules.provider_model import Rule, code_range
from bouncer.core.rules.providers import provider_for, provider_reason, providers_for


def test_provider_is_found_by_recipient_domain_or_remote_host():
    assert provider_for("a@ezweb.ne.jp", None).name == "kddi"
    assert provider_for("a@sub.au.com", None).name == "kddi"
    assert provider_for("a@example.com", "mta6.am0.yahoodns.net.").name == "yahoo"
    assert provider_for("a@notau.com", "mx.example.net") is None


def test_kddi_tells_a_missing_address_from_a_filter():
    assert provider_reason("a@ezweb.ne.jp", None, " 550 <a@ezweb.ne.jp>: user unknown ") == (
        "userunknown"
    )
    assert provider_reason("a@ezweb.ne.jp", None, " 550 : user unknown ") == "filtered"
    assert provider_reason("a@example.org", None, " 550 <a@example.org>: user unknown ") is None


def test_documented_reply_decides_even_after_data():
    entry = Entry(
        "gone@yahoo.com",
        action="failed",
        status="5.0.0",
        diagnostic="554 delivery error: dd This user doesn't have a yahoo.com account",
        remote_mta="mta5.am0.yahoodns.net",
        command="DATA",
    )
    found = verdict(entry, "bounce")
    assert (found.reason, found.bounce_class) == ("userunknown", "hard")
    elsewhere = Entry(
        "gone@example.org",
        action="failed",
        status="5.0.0",
        diagnostic=entry.diagnostic,
        command="DATA",
    )
    assert verdict(elsewhere, "bounce").reason == "filtered"


def reason(recipient, remote, text, **clues):
    """Return the documented reason for a reply text (normalised as the classifier does)."""
    return provider_reason(recipient, remote, normalise(text), **clues)


def test_recognised_by_reporting_host_when_recipient_and_remote_say_nothing():
    text = "550 kijitora@example.org... No such user"
    assert reason("kijitora@example.org", "mail.example.org", text) is None
    found = reason(
        "kijitora@example.org",
        "mail.example.org",
        text,
        reporting_mta="server-7.tower-1.messagelabs.com",
    )
    assert found == "userunknown"


def test_every_recognised_provider_is_asked_in_turn():
    assert [p.name for p in providers_for("a@aol.com", "mta7.am0.yahoodns.net")] == [
        "aol",
        "yahoo",
    ]
    assert reason("a@aol.com", "mta7.am0.yahoodns.net", "554 30 This mailbox is disabled") == (
        "suspend"
    )


def test_google_sentences():
    host = "gmail-smtp-in.l.google.com"
    assert (
        reason(
            "a@example.com",
            host,
            "550 5.7.26 Unauthenticated email from example.com "
            "is not accepted due to domain's DMARC policy",
        )
        == "authfailure"
    )
    assert (
        reason(
            "a@gmail.com", None, "550 5.2.1 The email account that you tried to reach is inactive."
        )
        == "suspend"
    )
    assert (
        reason("a@gmail.com", None, "452 4.2.2 The recipient's inbox is out of storage space.")
        == "mailboxfull"
    )
    assert (
        reason(
            "a@gmail.com",
            None,
            "550 5.7.1 Our system has detected an unusual rate of "
            "unsolicited mail originating from your IP address.",
        )
        == "blocked"
    )


def test_google_size_limit_depends_on_the_status():
    text = "552 5.2.3 Your message exceeded Google's message size limits."
    assert reason("a@gmail.com", None, text, status="5.2.3") == "exceedlimit"
    assert reason("a@gmail.com", None, text, status="5.3.4") == "mesgtoobig"


def test_workspace_dns_failure_is_hard_only_when_permanent():
    text = "DNS Error: DNS type 'mx' lookup of example.jp responded with code NXDOMAIN"
    host = "mail-sor-f41.googlemail.com"
    assert reason("a@example.jp", None, text, reporting_mta=host, status="5.1.2") == "hostunknown"
    assert reason("a@example.jp", None, text, reporting_mta=host, status="4.4.3") == (
        "networkerror"
    )


def test_microsoft_sentences_and_guarded_words():
    host = "example-com.mail.protection.outlook.com"
    assert (
        reason("a@example.com", host, "550 5.7.606 Access denied, banned sending IP [192.0.2.1].")
        == "blocked"
    )
    assert (
        reason(
            "a@example.com",
            host,
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
        )
        == "userunknown"
    )
    assert reason("a@example.com", host, "550 5.7.3 Not authorized", status="5.7.3") == (
        "securityerror"
    )
    assert reason("a@example.com", host, "550 5.7.1 not authorized", status="5.7.1") is None


def test_outlook_postmaster_codes():
    text = "550 SC-001 (BAY0-MC1-F21) Unfortunately, messages from 192.0.2.1 weren't sent."
    assert reason("a@hotmail.com", "mx1.hotmail.com", text) == "badreputation"
    assert reason("a@hotmail.com", None, "550 DY-002 (COL0) Unfortunately ...") == "virusdetected"


def test_coded_replies():
    assert reason("a@cox.net", None, "554 AUP#CXBL Sending IP blocked") == "blocked"
    assert reason("a@charter.net", None, "550 5.1.0 AUP#I-1220 Spamhaus") == "blocked"
    assert reason("a@charter.net", None, "554 AUP#O-1530 message too big") == "mesgtoobig"
    assert reason("a@orange.fr", None, "550 5.1.1 Invalid recipient. OFR_416 [416]") == (
        "userunknown"
    )
    assert reason("a@laposte.net", None, "550 5.5.0 Archived recipient. LPN007_420") == ("suspend")
    godaddy = "p3plibsmtp03.prod.phx3.secureserver.net"
    assert reason("a@example.com", godaddy, "550 too many recipients this hour. IB607") == (
        "speeding"
    )
    assert reason("a@email.ua", "mx3.email.ua", "550 See http://mail.i.ua/err/2/") == (
        "userunknown"
    )
    assert reason("a@facebook.com", None, "550 5.1.1 RCP-P2 http://postmaster.facebook.com") == (
        "filtered"
    )


def test_mailbox_provider_sentences():
    assert reason("a@icloud.com", None, "550 5.1.6 recipient no longer on server") == "hasmoved"
    assert (
        reason(
            "a@zoho.example.com",
            "smtpin.zoho.com",
            "554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.",
        )
        == "rejected"
    )
    assert reason("a@qq.com", None, "550 Mailbox not found.") == "userunknown"
    assert (
        reason("a@example.net", "route1.mx.cloudflare.net", "554 found on one or more DNSBLs")
        == "blocked"
    )
    assert (
        reason(
            "a@example.com",
            "eu-smtp-1.mimecast.com",
            "550 Invalid Recipient - https://community.mimecast.com/docs",
        )
        == "userunknown"
    )


def test_docomo_tells_the_address_from_the_reception_filter():
    text = "550 Unknown user a@docomo.ne.jp"
    assert reason("a@docomo.ne.jp", None, text, status="5.1.1") == "userunknown"
    assert reason("a@docomo.ne.jp", None, text, status="5.2.0") == "filtered"
    assert reason("a@docomo.ne.jp", None, text, status="5.0.0", command="DATA") == "rejected"
    assert reason("a@docomo.ne.jp", None, text, status="5.0.0", command="RCPT") == "userunknown"


def test_status_rules_accept_prefixes_and_exact_codes():
    rule = Rule("hostunknown", ("nxdomain",), ("5.", "4.4.3"))
    assert rule.applies(" nxdomain ", "5.1.2", None)
    assert rule.applies(" nxdomain ", "4.4.3", None)
    assert not rule.applies(" nxdomain ", "4.4.7", None)
    assert not rule.applies(" nxdomain ", None, None)
    assert not Rule("rejected", ("x",), command="DATA").applies(" x ", None, "RCPT")


def test_code_range_expands_both_ends():
    assert code_range(1020, 1022, "rejected") == {
        "1020": "rejected",
        "1021": "rejected",
        "1022": "rejected",
    }


def test_reporting_host_reaches_the_verdict():
    entry = Entry(
        "kijitora@example.org",
        action="failed",
        status="5.0.0",
        diagnostic="553 Connection rejected by policy",
        remote_mta="mail.example.org",
    )
    assert verdict(entry, "bounce").reason != "badreputation"
    via_gateway = verdict(entry, "bounce", reporting_mta="server-1.bemta-3.messagelabs.com")
    assert (via_gateway.reason, via_gateway.bounce_class) == ("badreputation", "soft")

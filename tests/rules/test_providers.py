"""Tests for the replies providers document."""

from bouncer.classify import verdict
from bouncer.model import Entry
from bouncer.rules.providers import provider_for, provider_reason


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

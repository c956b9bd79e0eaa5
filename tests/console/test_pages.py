"""The console against a real daemon fed over SMTP, through a cookie-keeping HTTP client:
sign-in, the pages, filters, escaping, security headers, CSRF, and changes seen in the API."""

from __future__ import annotations

import pytest

from bouncer.console import log_views
from tests.console.conftest import Browser
from tests.http.conftest import ADMIN, READ, Api
from tests.messages import arf_complaint, postfix_dsn

HOSTILE = "550 5.1.1 <script>alert('x')</script> User unknown"


def _signed_in(api: Api, token: str = ADMIN) -> Browser:
    browser = Browser(api.daemon.http_base)
    answer = browser.sign_in(token)
    assert answer.status == 303 and answer.headers["Location"] == "/console/"
    return browser


def test_nothing_is_served_without_sign_in(api: Api) -> None:
    browser = Browser(api.daemon.http_base)
    assert browser.get("/").headers["Location"] == "/console/"
    for path in ("/console/", "/console/overview", "/console/suppressions", "/console/messages/1"):
        answer = browser.get(path)
        assert (answer.status, answer.headers["Location"]) == (303, "/console/login"), path
    assert browser.get("/console/suppressions.csv").status == 303
    login = browser.get("/console/login")
    assert login.status == 200 and 'name="token"' in login.text
    refused = browser.post(
        "/console/suppressions/remove", {"csrf": login.csrf, "address": "a@b.c", "reason": "x"}
    )
    assert refused.status == 401


def test_sign_in_sets_a_strict_session_cookie_and_a_bad_token_is_refused(api: Api) -> None:
    browser = Browser(api.daemon.http_base)
    wrong = browser.sign_in("not-a-token")
    assert wrong.status == 401 and "not one bouncer knows" in wrong.text
    right = browser.sign_in(READ)
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert READ not in cookie
    log = browser.get("/console/")
    assert log.status == 200 and "app (read)" in log.text


def test_the_log_filters_by_recipient_kind_class_and_original(api: Api) -> None:
    api.send(
        postfix_dsn("ann@one.example", "5.1.1", "550 5.1.1 User unknown", message_id="<o1@shop>"),
        postfix_dsn("bob@two.example", "5.2.2", "552 5.2.2 Mailbox full", message_id="<o2@shop>"),
        postfix_dsn("cy@two.example", "4.4.1", "421 timed out", action="delayed"),
    )
    browser = _signed_in(api, READ)

    def shown(query: str) -> list[str]:
        page = browser.get(f"/console/?{query}")
        assert page.status == 200, page.text
        return [
            a for a in ("ann@one.example", "bob@two.example", "cy@two.example") if a in page.text
        ]

    assert shown("") == ["ann@one.example", "bob@two.example", "cy@two.example"]
    assert shown("recipient=Ann@One.example") == ["ann@one.example"]
    assert shown("recipient=two.example&kind=bounce") == ["bob@two.example"]
    assert shown("recipient=%40two.example&kind=delay") == ["cy@two.example"]
    assert shown("class=hard&kind=&reason=") == ["ann@one.example"]
    assert shown("original=o2%40shop") == ["bob@two.example"]
    assert shown("original=your+order&recipient=one.example") == ["ann@one.example"]
    assert shown("since=1h&until=%2B1h") == ["ann@one.example", "bob@two.example", "cy@two.example"]
    failed = browser.get("/console/?recipient=ann@one.example").text
    assert 'class="badge failed">failed<' in failed
    bad = browser.get("/console/?kind=bogus")
    assert bad.status == 400 and "kind: one of bounce" in bad.text
    assert browser.get("/console/?since=yesterday").status == 400


def test_log_pages_hold_while_reports_arrive(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_views, "PAGE", 2)
    api.send(*(postfix_dsn(f"u{n}@x.example", "5.1.1", "550 unknown") for n in range(3)))
    browser = _signed_in(api, READ)
    first = browser.get("/console/").text
    assert "u2@x.example" in first and "u1@x.example" in first and "u0@x.example" not in first
    older = first.split('href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    api.send(postfix_dsn("new@x.example", "5.1.1", "550 unknown"))
    second = browser.get(f"/console/?{older}").text
    assert "u0@x.example" in second and "new@x.example" not in second
    assert "u1@x.example" not in second and "Newest" in second


def test_the_message_page_says_why_and_escapes_what_strangers_wrote(api: Api) -> None:
    api.send(postfix_dsn("eve@evil.example", "5.1.1", HOSTILE, message_id="<o9@shop>"))
    browser = _signed_in(api)
    log = browser.get("/console/?recipient=eve@evil.example")
    assert "<script>" not in log.text and "&lt;script&gt;alert(&#39;x&#39;)" in log.text
    page = browser.get("/console/messages/1?recipient=eve@evil.example")
    assert page.status == 200
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "userunknown" in page.text and "Why bouncer concluded hard / userunknown" in page.text
    assert "<strong>" in page.text.split('class="steps"', 1)[1]  # the explanation's steps
    assert "Your order" in page.text and "&lt;o9@shop&gt;" in page.text
    assert "bounce.hard" in page.text and "suppression" in page.text.lower()
    raw = browser.get("/console/messages/1/raw")
    assert raw.status == 200 and raw.headers["Content-Type"].startswith("text/plain")
    assert raw.headers["Content-Disposition"].startswith("attachment")
    assert raw.headers["X-Content-Type-Options"] == "nosniff"
    reader = _signed_in(api, READ)
    assert reader.get("/console/messages/1/raw").status == 403
    assert "Download the raw report" not in reader.get("/console/messages/1").text
    assert browser.get("/console/messages/99").status == 404


def test_every_page_sends_a_strict_content_security_policy(api: Api) -> None:
    browser = _signed_in(api)
    for path in ("/console/login", "/console/", "/console/suppressions", "/console/overview"):
        headers = browser.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy, path
        assert "frame-ancestors 'none'" in policy and headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in browser.get("/console/overview").text


def test_a_form_without_its_csrf_token_is_refused(api: Api) -> None:
    api.send(postfix_dsn("kim@x.example", "5.1.1", "550 unknown"))
    browser = _signed_in(api)
    page = browser.get("/console/suppressions?q=kim@x.example")
    fields = {"address": "kim@x.example", "reason": "restored"}
    assert browser.post("/console/suppressions/remove", fields).status == 403
    assert browser.post("/console/suppressions/remove", {**fields, "csrf": "forged"}).status == 403
    other = _signed_in(api)  # another session's token is not this one's
    assert other.post("/console/suppressions/remove", {**fields, "csrf": page.csrf}).status == 403
    assert api.get("/v1/suppressions/kim@x.example").status == 200


def test_removing_and_adding_suppressions_shows_in_the_api(api: Api) -> None:
    api.send(postfix_dsn("kim@x.example", "5.1.1", "550 unknown"))
    browser = _signed_in(api)
    page = browser.get("/console/suppressions?q=kim@x.example")
    assert "kim@x.example" in page.text and "suppressed" in page.text
    fields = {"csrf": page.csrf, "address": "kim@x.example", "reason": "mailbox restored"}
    done = browser.post("/console/suppressions/remove", fields)
    assert done.status == 303 and "done=removed" in done.headers["Location"]
    assert api.get("/v1/suppressions/kim@x.example").status == 404
    history = browser.get("/console/suppressions?q=kim@x.example").text
    assert "removed by console:ops — mailbox restored" in history
    add = {"csrf": page.csrf, "address": "lee@x.example", "reason": "asked by phone"}
    assert browser.post("/console/suppressions/add", {**add, "expires": "30d"}).status == 303
    entry = api.get("/v1/suppressions/lee@x.example")
    assert entry.status == 200 and entry.body["source"] == "manual" and entry.body["expires_at"]
    assert entry.body["changes"][-1]["by"] == "console:ops"
    csv = browser.get("/console/suppressions.csv")
    assert csv.headers["Content-Disposition"].startswith("attachment")
    assert csv.text.splitlines()[0].startswith("address,") and "lee@x.example" in csv.text
    assert browser.post("/console/suppressions/add", {**add, "reason": ""}).status == 400


def test_a_complaint_is_removed_only_when_confirmed_and_a_read_token_changes_nothing(
    api: Api,
) -> None:
    api.send(arf_complaint("zed@x.example"))
    assert api.get("/v1/suppressions/zed@x.example").body["source"] == "complaint"
    reader = _signed_in(api, READ)
    page = reader.get("/console/suppressions?q=zed@x.example")
    assert "Remove" not in page.text
    fields = {"csrf": page.csrf, "address": "zed@x.example", "reason": "resubscribed"}
    assert reader.post("/console/suppressions/remove", fields).status == 403
    admin = _signed_in(api)
    page = admin.get("/console/suppressions?q=zed@x.example")
    assert 'name="confirm"' in page.text
    fields["csrf"] = page.csrf
    refused = admin.post("/console/suppressions/remove", fields)
    assert refused.status == 409 and "complaint" in refused.text
    assert api.get("/v1/suppressions/zed@x.example").status == 200
    assert admin.post("/console/suppressions/remove", {**fields, "confirm": "yes"}).status == 303
    assert api.get("/v1/suppressions/zed@x.example").status == 404


def test_the_overview_draws_failures_per_hour_and_the_threshold(api: Api) -> None:
    api.send(
        postfix_dsn("a@one.example", "5.1.1", "550 unknown"),
        postfix_dsn("b@one.example", "5.2.2", "552 full"),
    )
    page = _signed_in(api, READ).get("/console/overview")
    assert page.status == 200 and "<svg" in page.text
    assert page.text.count('class="bar') == 1 and ": 2 failures" in page.text
    assert "spike threshold 1000/h" in page.text and "No alert is open" in page.text
    assert "userunknown" in page.text and "one.example" in page.text


def test_signing_out_ends_the_session(api: Api) -> None:
    browser = _signed_in(api)
    page = browser.get("/console/")
    out = browser.post("/console/logout", {"csrf": page.csrf})
    assert out.headers["Location"] == "/console/login"
    assert browser.get("/console/").headers["Location"] == "/console/login"

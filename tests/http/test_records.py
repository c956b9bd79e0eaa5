"""/v1/bounces, /v1/messages, /v1/events and /v1/stats against a real daemon fed over SMTP."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from bouncer.clock import utcnow
from tests.http.conftest import ADMIN, Api
from tests.messages import postfix_dsn

UNKNOWN = "550 5.1.1 User unknown"
FULL = "552 5.2.2 Mailbox full"


def test_the_bounce_log_has_what_the_issue_lists_and_filters(api: Api) -> None:
    api.send(
        postfix_dsn("a@one.example", "5.1.1", UNKNOWN, message_id="<m1@shop.example>"),
        postfix_dsn("b@two.example", "5.2.2", FULL, message_id="<m2@shop.example>"),
        postfix_dsn("c@two.example", "4.4.1", "421 timed out", action="delayed"),
    )
    log = api.get("/v1/bounces")
    assert log.status == 200 and log.body["next_cursor"] is None
    assert [r["recipient"] for r in log.body["bounces"]] == [
        "c@two.example",
        "b@two.example",
        "a@one.example",
    ]
    first = log.body["bounces"][-1]
    assert first["orig_from"] == "Shop <orders@shop.example>"
    assert (first["orig_subject"], first["orig_message_id"]) == ("Your order", "<m1@shop.example>")
    assert (first["status"], first["reply_code"], first["class"], first["reason"]) == (
        "5.1.1",
        "550",
        "hard",
        "userunknown",
    )
    assert (first["reporting_mta"], first["remote_mta"]) == ("mx.sender.example", "mx.example.com")
    assert first["diagnostic"] == UNKNOWN and first["bounce_address"] == "bounces@localhost"
    assert first["received_at"] and first["kind"] == "bounce"

    def recipients(query: str) -> list[str]:
        answer = api.get(f"/v1/bounces?{query}")
        assert answer.status == 200, answer.body
        return [r["recipient"] for r in answer.body["bounces"]]

    assert recipients("recipient=A@One.example") == ["a@one.example"]
    assert recipients("recipient=@two.example") == ["c@two.example", "b@two.example"]
    assert recipients("message_id=m2@shop.example") == ["b@two.example"]
    assert recipients("message_id=%3Cm1@shop.example%3E") == ["a@one.example"]
    assert recipients("sender=Bounces@Localhost&class=soft") == ["c@two.example", "b@two.example"]
    assert recipients("reason=mailboxfull") == ["b@two.example"]
    assert recipients("kind=delay") == ["c@two.example"]
    assert recipients("class=hard&kind=bounce") == ["a@one.example"]
    later = quote((utcnow() + timedelta(hours=1)).isoformat())
    assert recipients(f"since={later}") == []
    assert len(recipients(f"until={later}")) == 3


def test_a_return_path_finds_the_reports_to_its_subaddresses(api: Api) -> None:
    """sender=bounces@localhost finds reports that came back to bounces+TAG@localhost (how
    signed VERP return paths look); a sender with a subaddress finds that one only."""
    api.send(postfix_dsn("a@one.example", "5.1.1", UNKNOWN))
    api.send(postfix_dsn("b@two.example", "5.2.2", FULL), to="Bounces+x1-b=two.example@localhost")
    api.send(postfix_dsn("c@two.example", "5.2.2", FULL), to="bounces+x2-c=two.example@localhost")

    def recipients(query: str) -> list[str]:
        answer = api.get(f"/v1/bounces?{query}")
        assert answer.status == 200, answer.body
        return [r["recipient"] for r in answer.body["bounces"]]

    everything = ["c@two.example", "b@two.example", "a@one.example"]
    assert recipients("sender=bounces@LOCALHOST") == everything
    assert recipients(f"sender={quote('bounces+x1-b=two.example@localhost')}") == ["b@two.example"]
    assert recipients("sender=bounces@localhost&recipient=@two.example") == everything[:2]
    assert recipients(f"sender={quote('bounces+x9@localhost')}") == []
    unquoted = api.get("/v1/bounces?sender=bounces+x9@localhost")  # '+' in a URL is a space
    assert unquoted.status == 400 and "%2B" in str(unquoted.body), unquoted.body


def test_bounce_pages_follow_the_cursor_while_reports_arrive(api: Api) -> None:
    api.send(*[postfix_dsn(f"u{n}@page.example", "5.1.1", UNKNOWN) for n in range(7)])
    first = api.get("/v1/bounces?limit=3")
    assert len(first.body["bounces"]) == 3 and first.body["next_cursor"]
    api.send(*[postfix_dsn(f"late{n}@page.example", "5.1.1", UNKNOWN) for n in range(3)])
    seen = [r["recipient"] for r in first.body["bounces"]]
    cursor = first.body["next_cursor"]
    while cursor:
        page = api.get(f"/v1/bounces?limit=3&cursor={cursor}")
        seen += [r["recipient"] for r in page.body["bounces"]]
        cursor = page.body["next_cursor"]
    assert seen == [f"u{n}@page.example" for n in reversed(range(7))]
    assert api.get("/v1/bounces?cursor=WyJ4Il0").field == "cursor"  # ["x"]: not this listing's


def test_a_stored_message_parsed_and_raw_for_admins(api: Api) -> None:
    api.send(postfix_dsn("a@one.example", "5.1.1", UNKNOWN))
    number = api.get("/v1/bounces").body["bounces"][0]["message_id"]
    read = api.get(f"/v1/messages/{number}")
    assert read.status == 200
    assert read.body["message"]["state"] == "processed"
    assert read.body["message"]["rcpt_to"] == ["bounces@localhost"]
    assert [r["recipient"] for r in read.body["records"]] == ["a@one.example"]
    report = read.body["report"]
    assert (report["kind"], report["reporting_mta"]) == ("bounce", "mx.sender.example")
    assert report["recipients"][0]["reason"] == "userunknown"
    assert report["original"]["subject"] == "Your order"
    assert "raw" not in read.body
    admin = api.get(f"/v1/messages/{number}", token=ADMIN)
    assert "Final-Recipient: rfc822; a@one.example" in admin.body["raw"]
    raw = api.get(f"/v1/messages/{number}/raw", token=ADMIN)
    assert raw.status == 200 and raw.headers["Content-Type"] == "message/rfc822"
    assert b"Diagnostic-Code: smtp; 550 5.1.1 User unknown" in raw.body
    assert api.get(f"/v1/messages/{number}/raw").status == 403
    assert api.get("/v1/messages/99999").status == 404
    assert api.get("/v1/messages/x1").field == "id"


def test_events_for_pollers(api: Api) -> None:
    api.send(
        postfix_dsn("a@one.example", "5.1.1", UNKNOWN),
        postfix_dsn("b@two.example", "5.2.2", FULL),
    )
    everything = api.get("/v1/events")
    types = [event["type"] for event in everything.body["events"]]
    assert {"bounce.hard", "suppression.added", "bounce.soft"} <= set(types)
    seqs = [event["seq"] for event in everything.body["events"]]
    assert seqs == sorted(seqs) and everything.body["next_after"] == seqs[-1]
    hard = api.get("/v1/events?type=bounce.hard").body["events"]
    assert [event["recipient"] for event in hard] == ["a@one.example"]
    assert hard[0]["reason"] == "userunknown"
    after = api.get(f"/v1/events?after={seqs[0]}&limit=1").body
    assert [event["seq"] for event in after["events"]] == [seqs[1]]
    by_id = api.get(f"/v1/events?after={everything.body['events'][0]['id']}").body["events"]
    assert [event["seq"] for event in by_id] == seqs[1:]
    none = api.get(f"/v1/events?after={seqs[-1]}").body
    assert none == {"events": [], "next_after": seqs[-1]}
    assert api.get("/v1/events?type=bounce.firm").field == "type"
    assert api.get("/v1/events?after=no-such-id").field == "after"


def test_stats_count_failures_per_bucket(api: Api) -> None:
    api.send(
        postfix_dsn("a@one.example", "5.1.1", UNKNOWN),
        postfix_dsn("b@two.example", "5.1.1", UNKNOWN),
        postfix_dsn("c@two.example", "5.2.2", FULL),
    )
    by_reason = api.get("/v1/stats")
    assert by_reason.body["by"] == "reason"
    assert by_reason.body["buckets"] == [
        {"bucket": "userunknown", "count": 2},
        {"bucket": "mailboxfull", "count": 1},
    ]
    by_domain = api.get("/v1/stats?by=domain").body["buckets"]
    assert by_domain == [
        {"bucket": "two.example", "count": 2},
        {"bucket": "one.example", "count": 1},
    ]
    by_hour = api.get("/v1/stats?by=hour").body["buckets"]
    assert sum(bucket["count"] for bucket in by_hour) == 3
    later = quote((utcnow() + timedelta(hours=1)).isoformat())
    assert api.get(f"/v1/stats?since={later}").body["buckets"] == []
    assert api.get("/v1/stats?by=week").field == "by"
    earlier = quote((utcnow() - timedelta(hours=1)).isoformat())
    assert api.get(f"/v1/stats?since={later}&until={earlier}").field == "until"

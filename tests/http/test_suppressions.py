"""/v1/suppressions against a real daemon: lookups, the batch check, keyset pages while entries
are added, manual changes with who, when and why."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from bouncer.clock import utcnow
from bouncer.store import changes, open_db, suppressions
from bouncer.store.suppressions import SuppressionRequest
from tests.http.conftest import ADMIN, Api
from tests.messages import arf_complaint, postfix_dsn

UNKNOWN = "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown"


def _suppress(api: Api, addresses: list[str], start=None, source: str = "bounce") -> None:  # noqa: ANN001
    """Write suppressions straight into the store, one a second apart from `start`."""
    start = start or utcnow() - timedelta(days=1)
    db = open_db(api.daemon.store)
    try:
        with db.atomic():
            for number, address in enumerate(addresses):
                request = SuppressionRequest(address, "userunknown", "hard", source, "5.1.1")
                suppressions.upsert(db, request, start + timedelta(seconds=number))
    finally:
        db.close()


def test_one_address_is_found_after_a_hard_bounce_and_404_otherwise(api: Api) -> None:
    api.send(postfix_dsn("Gone@Example.com", "5.1.1", UNKNOWN))
    found = api.get("/v1/suppressions/gone@example.com")
    assert found.status == 200
    assert (found.body["address"], found.body["reason"]) == ("Gone@Example.com", "userunknown")
    assert (found.body["class"], found.body["source"], found.body["status"]) == (
        "hard",
        "bounce",
        "5.1.1",
    )
    assert found.body["changes"] == []
    missing = api.get("/v1/suppressions/alive@example.com")
    assert missing.status == 404
    assert missing.body["detail"] == "alive@example.com is not suppressed"
    assert missing.headers["Content-Type"].startswith("application/problem+json")


def test_a_batch_of_ten_thousand_in_one_round_trip(api: Api) -> None:
    suppressed = [f"user{n}@big.example" for n in range(0, 10_000, 2)]
    _suppress(api, suppressed)
    asked = [
        f"USER{n}@big.example" if n % 4 == 0 else f"user{n}@big.example" for n in range(10_000)
    ]
    answer = api.call("POST", "/v1/suppressions/check", {"addresses": asked})
    assert answer.status == 200
    assert len(answer.body["suppressed"]) == 5_000
    assert answer.body["clear"] == [a for n, a in enumerate(asked) if n % 2]
    first = answer.body["suppressed"][0]
    assert (first["query"], first["address"], first["reason"]) == (
        "USER0@big.example",
        "user0@big.example",
        "userunknown",
    )
    too_many = api.call("POST", "/v1/suppressions/check", {"addresses": [*asked, "x@y.example"]})
    assert too_many.status == 400 and too_many.field == "addresses"
    assert "1 to 10,000" in too_many.body["detail"]


def test_pages_neither_repeat_nor_skip_while_entries_are_added(api: Api) -> None:
    start = utcnow() - timedelta(days=2)
    existing = [f"old{n}@page.example" for n in range(250)]
    _suppress(api, existing, start)
    seen: list[str] = []
    cursor = None
    added = 0
    while True:
        path = "/v1/suppressions?limit=60" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path)
        assert page.status == 200, page.body
        seen += [entry["address"] for entry in page.body["suppressions"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
        # between pages: new entries (now), and a refresh of one not yet listed
        new = [f"new{added + n}@page.example" for n in range(30)]
        _suppress(api, new, utcnow())
        added += 30
        _suppress(api, [existing[0]], utcnow())
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(existing) <= set(seen)  # nothing that was there is skipped
    assert seen[: len(existing)] != existing  # newest first
    assert seen.index("old249@page.example") < seen.index("old0@page.example")


def test_filters_and_a_bad_cursor(api: Api) -> None:
    now = utcnow()
    _suppress(api, ["a@f.example", "b@f.example"], now - timedelta(days=3))
    _suppress(api, ["c@f.example"], now - timedelta(hours=1))
    since = quote((now - timedelta(days=1)).isoformat())
    recent = api.get(f"/v1/suppressions?since={since}")
    assert [e["address"] for e in recent.body["suppressions"]] == ["c@f.example"]
    assert api.get("/v1/suppressions?reason=mailboxfull").body["suppressions"] == []
    hard = api.get("/v1/suppressions?class=hard&limit=2")
    assert len(hard.body["suppressions"]) == 2 and hard.body["next_cursor"]
    bad = api.get("/v1/suppressions?cursor=bm9wZQ")
    assert (bad.status, bad.field) == (400, "cursor")


def test_manual_add_and_remove_record_who_when_and_why(api: Api) -> None:
    put = api.call(
        "PUT",
        "/v1/suppressions/Hand@Example.com",
        {"reason": "asked by phone", "note": "ticket 42", "expires": "14d"},
        token=ADMIN,
    )
    assert put.status == 201, put.body
    assert (put.body["source"], put.body["reason"], put.body["note"]) == (
        "manual",
        "asked by phone",
        "ticket 42",
    )
    assert put.body["expires_at"] is not None
    again = api.call("PUT", "/v1/suppressions/hand@example.com", {"reason": "again"}, token=ADMIN)
    assert again.status == 200
    shown = api.get("/v1/suppressions/hand@example.com").body
    assert [(c["action"], c["by"], c["reason"]) for c in shown["changes"]] == [
        ("added", "api:ops", "asked by phone"),
        ("added", "api:ops", "again"),
    ]
    removed = api.call(
        "DELETE", "/v1/suppressions/hand@example.com?reason=confirmed%20alive", token=ADMIN
    )
    assert removed.status == 200
    assert removed.body["removed"]["address"] == "hand@example.com"  # as the last change wrote it
    assert api.get("/v1/suppressions/hand@example.com").status == 404
    db = open_db(api.daemon.store)
    try:
        history = changes.history(db, "hand@example.com")
    finally:
        db.close()
    assert (history[-1]["action"], history[-1]["by"], history[-1]["reason"]) == (
        "removed",
        "api:ops",
        "confirmed alive",
    )
    gone = api.call("DELETE", "/v1/suppressions/hand@example.com?reason=x", token=ADMIN)
    assert gone.status == 404


def test_a_complaint_is_removed_only_with_force(api: Api) -> None:
    api.send(arf_complaint("Reader@Example.net"))
    entry = api.get("/v1/suppressions/reader@example.net").body
    assert entry["source"] == "complaint"
    kept = api.call("DELETE", "/v1/suppressions/reader@example.net?reason=oops", token=ADMIN)
    assert (kept.status, kept.field) == (409, "force")
    assert "force=true" in kept.body["detail"]
    assert api.get("/v1/suppressions/reader@example.net").status == 200
    forced = api.call(
        "DELETE", "/v1/suppressions/reader@example.net?reason=resubscribed&force=true", token=ADMIN
    )
    assert forced.status == 200
    assert api.get("/v1/suppressions/reader@example.net").status == 404


def test_bad_requests_name_the_field(api: Api) -> None:
    one = "/v1/suppressions/x@example.com"
    check = "/v1/suppressions/check"
    cases = [
        (("PUT", one, {}), "reason", "missing"),
        (("PUT", one, {"reason": ""}), "reason", "1 to 1000"),
        (("PUT", one, {"reason": "r", "class": "x"}), "class", "hard"),
        (("PUT", one, {"reason": "r", "expires": "soon"}), "expires", "duration"),
        (("PUT", one, {"reason": "r", "colour": 1}), "colour", "unknown"),
        (("PUT", "/v1/suppressions/not-an-address", {"reason": "r"}), "address", "email address"),
        (("DELETE", one, None), "reason", "missing"),
        (("DELETE", one + "?reason=r&force=maybe", None), "force", "true or false"),
        (("POST", check, {"addresses": ["a@b.example", 5]}), "addresses[1]", "(got 5)"),
        (("POST", check, {"addresses": ["a@b.example", "nope"]}), "addresses[1]", "email address"),
        (("POST", check, {"addresses": []}), "addresses", "1 to 10,000"),
        (("GET", "/v1/suppressions?limit=0", None), "limit", "from 1 to 1000 (got \"0\")"),
        (("GET", "/v1/suppressions?limit=ten", None), "limit", "1 to 1000"),
        (("GET", "/v1/suppressions?class=firm", None), "class", '"hard", "soft" or "none"'),
        (("GET", "/v1/suppressions?since=yesterday", None), "since", "ISO 8601"),
        (("GET", "/v1/suppressions?limit=1&limit=2", None), "limit", "once"),
        (("GET", "/v1/suppressions?sort=address", None), "sort", "unknown parameter"),
    ]  # fmt: skip
    for (method, path, body), field, words in cases:
        answer = api.call(method, path, body, token=ADMIN)
        assert (answer.status, answer.field) == (400, field), (path, answer.body)
        assert words in answer.body["detail"], answer.body
        assert answer.body["detail"].startswith(field), answer.body
    not_json = api.call("POST", "/v1/suppressions/check", raw=b"{addresses", token=ADMIN)
    assert (not_json.status, not_json.field) == (400, "body")


def test_a_change_made_through_the_api_is_logged_once(api: Api, capfd) -> None:  # noqa: ANN001
    """The daemon's journal logs every committed event; the API's own write logs nothing more."""
    import re
    import time

    capfd.readouterr()
    added = api.call("PUT", "/v1/suppressions/once@example.org", {"reason": "asked"}, ADMIN)
    assert added.status == 201
    removed = api.call("DELETE", "/v1/suppressions/once@example.org?reason=by+mistake", None, ADMIN)
    assert removed.status == 200
    logged = ""
    deadline = time.monotonic() + 10
    while logged.count("suppression.removed") < 1 and time.monotonic() < deadline:
        time.sleep(0.1)  # the journal logs what was committed a moment later
        logged += capfd.readouterr().out
    time.sleep(0.5)
    logged += capfd.readouterr().out
    lines = [line for line in logged.splitlines() if "once@example.org" in line]
    assert len([line for line in lines if re.search(r"suppression\.added", line)]) == 1
    assert len([line for line in lines if re.search(r"suppression\.removed", line)]) == 1

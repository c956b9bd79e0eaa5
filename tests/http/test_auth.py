"""Tokens: none, unknown or too narrow are refused (401, 403) in JSON; health is open."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import start_daemon
from tests.http.conftest import ADMIN, READ, Api, api_config


def test_every_route_needs_a_token_but_health(api: Api) -> None:
    for path in ("/v1/suppressions", "/v1/bounces", "/v1/events", "/v1/stats", "/v1/messages/1"):
        answer = api.get(path, token=None)
        assert answer.status == 401, path
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.field == "Authorization"
        assert "Authorization: Bearer" in answer.body["detail"]
    for path in ("/healthz", "/readyz", "/v1/openapi.json", "/metrics"):
        assert api.get(path, token=None).status == 200, path


def test_unknown_tokens_and_malformed_headers_get_401(api: Api) -> None:
    wrong = api.get("/v1/suppressions", token=READ + "x")
    assert wrong.status == 401 and "not one bouncer knows" in wrong.body["detail"]
    basic = api.get("/v1/suppressions", token=None, headers={"Authorization": "Basic YTpi"})
    assert basic.status == 401 and "Bearer <secret>" in basic.body["detail"]


def test_a_read_token_cannot_change_or_read_raw(api: Api) -> None:
    put = api.call("PUT", "/v1/suppressions/a@example.com", {"reason": "r"}, token=READ)
    assert put.status == 403
    assert "'app' has the scope read" in put.body["detail"]
    assert "needs an admin token" in put.body["detail"]
    delete = api.call("DELETE", "/v1/suppressions/a@example.com?reason=r", token=READ)
    assert delete.status == 403
    assert api.call("POST", "/v1/suppressions/check", {"addresses": ["a@b.c"]}).status == 200
    admin = api.call("PUT", "/v1/suppressions/a@example.com", {"reason": "r"}, token=ADMIN)
    assert admin.status == 201


def test_router_errors_are_json_too(api: Api) -> None:
    missing = api.get("/v1/nothing")
    assert missing.status == 404 and "no such endpoint" in missing.body["detail"]
    wrong = api.call("PATCH", "/v1/suppressions/a@example.com", {})
    assert wrong.status == 405 and "GET" in wrong.headers["Allow"]
    assert wrong.body["status"] == 405


def test_closed_metrics_need_a_token(tmp_path: Path) -> None:
    running = start_daemon(api_config(tmp_path, metrics_open=False))
    try:
        api = Api(running)
        assert api.get("/metrics", token=None).status == 401
        assert api.get("/metrics").status == 200
        assert api.get("/healthz", token=None).status == 200
    finally:
        running.stop()


def test_without_tokens_the_api_says_how_to_get_one(tmp_path: Path) -> None:
    config = api_config(tmp_path)
    from dataclasses import replace

    running = start_daemon(replace(config, http=replace(config.http, tokens=())))
    try:
        answer = Api(running).get("/v1/suppressions", token=None)
        assert answer.status == 401 and "no token is configured" in answer.body["detail"]
    finally:
        running.stop()

"""The OpenAPI 3.1 document matches the implementation: it is a valid document, every route
of the application is in it, and every operation it documents answers (not 404 or 405)."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from bouncer.config import HttpConfig
from bouncer.http.app import make_app
from bouncer.http.openapi import document
from tests.http.conftest import ADMIN, Api
from tests.messages import postfix_dsn

METHODS = {"get", "put", "post", "delete", "patch"}


def _documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document()["paths"].items()
        for method in item
        if method in METHODS
    }


def _routed(config: HttpConfig) -> set[tuple[str, str]]:
    app = make_app(config, None)  # type: ignore[arg-type] - only the routes are read
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
    }


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(document())
    assert document()["openapi"].startswith("3.1")


def test_every_route_is_documented_and_nothing_else() -> None:
    assert _routed(HttpConfig()) == _documented()
    assert _routed(HttpConfig(metrics_open=False)) == _documented()


def test_every_documented_operation_answers(api: Api) -> None:
    api.send(postfix_dsn("a@example.com", "5.1.1", "550 5.1.1 User unknown"))
    served = api.get("/v1/openapi.json", token=None)
    assert served.status == 200 and served.body == document()
    for method, path in sorted(_documented()):
        concrete = re.sub(r"\{address\}", "a@example.com", path).replace("{id}", "1")
        body = {} if method in ("POST", "PUT") else None
        answer = api.call(method, concrete, body, token=ADMIN)
        assert answer.status not in (404, 405), (method, path, answer.body)

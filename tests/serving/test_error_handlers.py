"""The error handlers on a bare app (no registry, no model): every failure has one shape.

``test_errors.py`` checks the framework's 404/405 on the real app; these pin down each handler
and the validation message (mutation testing runs them once per mutant).
"""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from serving.errors import (
    ERROR_RESPONSES,
    NAMES,
    ErrorBody,
    ServingError,
    install_error_handlers,
)
from serving.metrics import ServingMetrics
from serving.middleware import RequestContext


class Order(BaseModel):
    horizon: int = Field(ge=1)
    series: list[str] = Field(min_length=1)


def build_app(with_middleware: bool = True) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/orders")
    def orders(order: Order) -> dict:
        return {"horizon": order.horizon}

    @app.get("/expected")
    def expected() -> dict:
        raise ServingError(409, "too_late", "the window has closed")

    @app.get("/teapot")
    def teapot() -> dict:
        raise HTTPException(418, "short and stout", headers={"X-Why": "tea"})

    @app.get("/forbidden")
    def forbidden() -> dict:
        raise HTTPException(403, "not for you")

    @app.get("/boom")
    def boom() -> dict:
        raise RuntimeError("secret internals")

    if with_middleware:  # as create_app adds it
        app.add_middleware(
            RequestContext,
            metrics=ServingMetrics(),
            max_body_bytes=10_000,
            access_log_enabled=False,
        )
    return app


@pytest.fixture
def client() -> TestClient:
    """A new app per test: mutation testing ties a test to the code its own setup ran."""
    return TestClient(build_app(), raise_server_exceptions=False)


def body_of(response) -> dict:
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"name", "message", "request_id"}
    assert response.json()["request_id"] == response.headers["x-request-id"]
    return response.json()


def test_a_serving_error_keeps_its_status_name_and_message(client):
    response = client.get("/expected")
    assert response.status_code == 409
    assert str(ServingError(409, "too_late", "the window has closed")) == "the window has closed"
    assert body_of(response) | {"request_id": None} == {
        "name": "too_late",
        "message": "the window has closed",
        "request_id": None,
    }


def test_framework_errors_are_named_by_status_and_keep_their_headers(client):
    missing, wrong = client.get("/nowhere"), client.put("/expected")
    assert (missing.status_code, body_of(missing)["name"]) == (404, "not_found")
    assert body_of(missing)["message"] == "Not Found"
    assert (wrong.status_code, body_of(wrong)["name"]) == (405, "method_not_allowed")
    assert wrong.headers["allow"] == "GET"
    teapot = client.get("/teapot")
    assert (teapot.status_code, body_of(teapot)["name"]) == (418, "http_error")
    assert body_of(teapot)["message"] == "short and stout"
    assert teapot.headers["x-why"] == "tea"
    forbidden = client.get("/forbidden")
    assert (forbidden.status_code, body_of(forbidden)["name"]) == (403, "forbidden")


@pytest.mark.parametrize("with_middleware", [True, False])
def test_an_unexpected_error_is_a_500_with_the_request_id_only(with_middleware, caplog):
    """In the app the request middleware answers it; without it the last-resort handler does."""
    client = TestClient(build_app(with_middleware), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="serving"):
        response = client.get("/boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"name", "message", "request_id"} and body["name"] == "internal_error"
    assert body["request_id"] == ("req-42" if with_middleware else None)
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["message"] == (
        "an unexpected error occurred; quote the request id to the operators"
    )
    logged = [record for record in caplog.records if record.name.startswith("serving")]
    assert [record.getMessage() for record in logged][-1] == "unhandled error on GET /boom"
    assert "secret internals" in str(logged[-1].exc_info[1])


def test_a_validation_error_says_where_and_what(client):
    response = client.post("/orders", json={"horizon": 0, "series": ["a"]})
    assert response.status_code == 422
    body = body_of(response)
    assert body["name"] == "validation_error"
    assert body["message"] == "body.horizon: Input should be greater than or equal to 1"


def test_a_validation_message_lists_five_problems_then_counts_the_rest(client):
    many = client.post("/orders", json=[1, 2, 3, 4, 5, 6, 7])
    assert many.status_code == 422
    assert body_of(many)["message"].count(";") == 0  # one problem: the body is not an object
    fields = client.post("/orders", json={"horizon": "x", "series": []})
    parts = body_of(fields)["message"].split("; ")
    assert parts == [
        "body.horizon: Input should be a valid integer, unable to parse string as an integer",
        "body.series: List should have at least 1 item after validation, not 0",
    ]


def test_the_more_count_appears_only_past_five_problems():
    from fastapi.exceptions import RequestValidationError

    from serving.errors import validation_message

    def errors(n: int) -> RequestValidationError:
        return RequestValidationError(
            [{"loc": ("body", f"f{i}"), "msg": f"Value error, bad {i}"} for i in range(n)]
        )

    assert validation_message(errors(5)) == "; ".join(f"body.f{i}: bad {i}" for i in range(5))
    assert validation_message(errors(7)).endswith("body.f4: bad 4 (and 2 more)")
    assert validation_message(errors(6)).endswith("(and 1 more)")
    assert validation_message(RequestValidationError([{"msg": "no place"}])) == "no place"
    assert validation_message(RequestValidationError([{"loc": ()}])) == "invalid"


def test_the_documented_error_responses_use_the_one_shape():
    assert sorted(ERROR_RESPONSES) == [401, 403, 413, 422, 503]
    for status, response in ERROR_RESPONSES.items():
        assert response == {"model": ErrorBody, "description": NAMES[status]}
    assert NAMES[413] == "payload_too_large" and NAMES[503] == "unavailable"

"""The API-key rules themselves, on a bare app with one route per role (no registry, no model).

``test_auth.py`` checks the same rules on the real routes; these pin each branch down cheaply
(mutation testing runs them once per mutant).
"""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from serving.auth import admin, authorize, manager, presented_key, reader, require_role, role_of
from serving.errors import ServingError, install_error_handlers
from serving.settings import Role, ServingSettings

KEYS = {"r-key": "reader", "m-key": "manager", "a-key": "admin"}


def settings(**overrides) -> ServingSettings:
    return ServingSettings(_env_file=None, **{"api_keys": KEYS, **overrides})


def request_with(headers: dict[str, str]) -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "headers": raw})


@pytest.fixture
def guarded() -> TestClient:
    """``GET /reader``, ``/manager`` and ``/admin``, each answering the role it let through."""
    app = FastAPI()
    app.state.settings = settings()
    install_error_handlers(app)
    for role in Role:  # guards built here, not at import, so a changed guard shows
        guard = require_role(role)
        app.add_api_route(f"/{role.value}", lambda role=Depends(guard): {"role": role})  # noqa: B008
    return TestClient(app)


@pytest.mark.parametrize(
    "headers, header_key, expected",
    [
        ({}, None, None),
        ({}, "from-header", "from-header"),
        ({"Authorization": "Bearer tok"}, "from-header", "from-header"),
        ({"Authorization": "Bearer tok"}, None, "tok"),
        ({"Authorization": "bearer tok"}, None, "tok"),
        ({"Authorization": "BEARER  tok  "}, None, "tok"),
        ({"Authorization": "Bearer "}, None, None),
        ({"Authorization": "Bearer"}, None, None),
        ({"Authorization": "Basic tok"}, None, None),
        ({"Authorization": "tok"}, None, None),
        ({}, "", None),
    ],
)
def test_the_key_is_the_header_else_a_bearer_token(headers, header_key, expected):
    assert presented_key(request_with(headers), header_key) == expected


def test_each_configured_key_has_its_role_and_nothing_else_has_one():
    configured = settings()
    assert [role_of(configured, key) for key in KEYS] == [Role.reader, Role.manager, Role.admin]
    for stranger in ("", "r-ke", "r-key ", "R-KEY", "r-keyx", "reader"):
        assert role_of(configured, stranger) is None, stranger


def test_a_role_opens_its_own_routes_and_every_lower_one():
    configured = settings()
    for minimum in Role:
        for key, role in KEYS.items():
            allowed = list(Role).index(Role(role)) >= list(Role).index(minimum)
            if allowed:
                assert authorize(configured, key, minimum) == Role(role)
            else:
                with pytest.raises(ServingError) as refused:
                    authorize(configured, key, minimum)
                assert refused.value.status == 403 and refused.value.name == "forbidden"
                assert refused.value.message == (
                    f"this route needs the {minimum.value} role; the key has {role}"
                )


@pytest.mark.parametrize(
    "key, message",
    [(None, "an API key is required (X-API-Key header)"), ("wrong", "the API key is not valid")],
)
def test_a_missing_or_unknown_key_is_a_401(key, message):
    with pytest.raises(ServingError) as refused:
        authorize(settings(), key, Role.reader)
    assert (refused.value.status, refused.value.name) == (401, "unauthorized")
    assert refused.value.message == message


@pytest.mark.parametrize("overrides", [{"api_keys": {}}, {"auth_disabled": True}])
def test_with_auth_off_every_caller_is_an_admin(overrides):
    for key in (None, "wrong", "r-key"):
        assert authorize(settings(**overrides), key, Role.admin) is Role.admin


def test_the_route_guards_answer_401_403_or_let_the_role_through(guarded):
    def status(path: str, headers: dict[str, str]) -> tuple[int, object]:
        response = guarded.get(path, headers=headers)
        return response.status_code, response.json().get("role", response.json().get("name"))

    assert status("/reader", {}) == (401, "unauthorized")
    assert status("/reader", {"X-API-Key": "nope"}) == (401, "unauthorized")
    assert status("/reader", {"X-API-Key": "r-key"}) == (200, "reader")
    assert status("/reader", {"Authorization": "Bearer a-key"}) == (200, "admin")
    assert status("/manager", {"X-API-Key": "r-key"}) == (403, "forbidden")
    assert status("/manager", {"X-API-Key": "m-key"}) == (200, "manager")
    assert status("/admin", {"X-API-Key": "m-key"}) == (403, "forbidden")
    assert status("/admin", {"X-API-Key": "a-key"}) == (200, "admin")


def test_each_guard_is_named_after_its_role():
    assert [guard.__name__ for guard in (reader, manager, admin)] == [
        "require_reader",
        "require_manager",
        "require_admin",
    ]
    assert require_role(Role.manager).__name__ == "require_manager"

"""Browser apps on other origins: one setting (``allowed_origins``) answers CORS preflights and requests over HTTP
and admits websockets; every other origin gets no ``Access-Control-Allow-Origin`` and no socket. Credentials stay
off unless ``cors_allow_credentials`` turns them on. (tests/browser/ does the same from a real Chromium.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from outboundql.app import create_app
from outboundql.goals.testing import registry_with
from outboundql.settings import Settings
from tests.helpers import Person

APP_ORIGIN = "http://localhost:5173"
OTHER_ORIGIN = "http://localhost:5174"
VIEWER = {"query": "query Viewer { viewer { email } }", "operationName": "Viewer"}


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, allowed_origins=[APP_ORIGIN])


def preflight(origin: str, headers: str = "authorization,content-type") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers}


async def test_a_preflight_from_an_allowed_origin_is_answered(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/graphql", headers=preflight(APP_ORIGIN, "authorization,content-type,apollo-require-preflight"))
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert {"GET", "POST"} <= set(response.headers["access-control-allow-methods"].replace(" ", "").split(","))
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    # the token, JSON, and both headers a multipart upload's CSRF check accepts
    assert {"authorization", "content-type", "apollo-require-preflight", "x-apollo-operation-name",
            "x-request-id"} <= allowed
    assert response.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in response.headers


async def test_a_preflight_from_another_origin_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.options("/graphql", headers=preflight(OTHER_ORIGIN))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_preflight_asking_for_an_unlisted_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.options("/graphql", headers=preflight(APP_ORIGIN, "x-something-else"))
    assert response.status_code == 400
    assert "x-something-else" not in response.headers.get("access-control-allow-headers", "").lower()


async def test_an_allowed_origin_reads_the_answer_and_another_does_not(client: httpx.AsyncClient,
                                                                       owner: Person) -> None:
    allowed = await client.post("/graphql", json=VIEWER, headers={**owner.headers, "Origin": APP_ORIGIN})
    assert allowed.json()["data"] == {"viewer": {"email": owner.user.email}}
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "origin" in allowed.headers["vary"].lower()  # caches keep one answer per origin
    exposed = {h.strip().lower() for h in allowed.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"} <= exposed

    other = await client.post("/graphql", json=VIEWER, headers={**owner.headers, "Origin": OTHER_ORIGIN})
    assert other.status_code == 200  # CORS hides the answer from the page; the browser, not the server, enforces it
    assert "access-control-allow-origin" not in other.headers


async def test_credentials_are_allowed_only_when_turned_on(db: Any, owner: Person) -> None:
    settings = Settings(database_url="sqlite://:memory:", redis_url=None, allowed_origins=[APP_ORIGIN],
                        cors_allow_credentials=True)
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.options("/graphql", headers=preflight(APP_ORIGIN))
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"


def test_origins_are_compared_as_browsers_send_them() -> None:
    settings = Settings(allowed_origins=["HTTP://LocalHost:5173/", "https://app.example.com:443"])
    assert settings.allowed_origins == ["http://localhost:5173", "https://app.example.com"]


@pytest.mark.parametrize(("origins", "credentials", "message"), [
    (["localhost:5173"], False, "Invalid origin 'localhost:5173'"),
    (["http://localhost:5173/app"], False, "without a path"),
    (["*"], True, "cannot be used with '*'"),
])
def test_unusable_origin_settings_are_refused(origins: list[str], credentials: bool, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(allowed_origins=origins, cors_allow_credentials=credentials)


def test_every_origin_when_the_list_says_so(db: Any) -> None:
    app = create_app(Settings(database_url="sqlite://:memory:", redis_url=None, allowed_origins=["*"]),
                     manage_db=False, run_worker=False, goals=registry_with())
    response = TestClient(app).options("/graphql", headers=preflight("https://anywhere.example"))
    assert response.headers["access-control-allow-origin"] == "*"


def test_websockets_follow_the_same_setting(db: Any, settings: Settings) -> None:
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with())
    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": OTHER_ORIGIN}):
        pass
    assert refused.value.code == 1008  # policy violation, before any application code

    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"],
                                  headers={"Origin": APP_ORIGIN}) as ws:  # the handshake is accepted
        ws.send_json({"type": "connection_init", "payload": {}})
        with pytest.raises(WebSocketDisconnect) as unauthenticated:
            ws.receive_json()
    assert unauthenticated.value.code == 4403  # the origin got through; the missing token did not

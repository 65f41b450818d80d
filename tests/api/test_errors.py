"""SPEC §9: bad input never gives a 500, an HTML page or a stack trace; security headers everywhere."""

from __future__ import annotations

import pytest

from api.conftest import Api
from api.helpers import assert_error


async def test_malformed_json_is_400(api: Api) -> None:
    headers = {**(await api.user()), "Content-Type": "application/json"}
    for raw in (b"{bad json", b"", b"\xff\xfe"):
        assert_error(
            await api.client.post("/chatbot/chats/", content=raw, headers=headers), 400, "malformed_json"
        )


async def test_wrong_types_are_422_naming_the_field(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    body = assert_error(
        await api.client.post(f"/chatbot/chats/{chat_id}/messages/", json={"content": 42}, headers=headers),
        422,
        "validation_error",
    )
    assert "content" in body["detail"]
    body = assert_error(
        await api.client.post(f"/chatbot/chats/{chat_id}/messages/", json=[1, 2], headers=headers),
        422,
        "validation_error",
    )
    body = assert_error(
        await api.client.post("/accounts/join/", json={"username": "x"}), 422, "validation_error"
    )
    assert "email" in body["detail"] or "password" in body["detail"]


async def test_bodies_over_64_kib_are_413(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    response = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "x" * 70_000}, headers=headers
    )
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "path", ["/nope", "/chatbot/chats/abc/", "/accounts/", "/chatbot/chats/1/messages/2/"]
)
async def test_unknown_routes_are_json_404(api: Api, path: str) -> None:
    headers = await api.user()
    assert_error(await api.client.get(path, headers=headers), 404, "not_found")


async def test_wrong_method_is_json_405(api: Api) -> None:
    assert_error(await api.client.delete("/accounts/join/"), 405, "method_not_allowed")


async def test_security_headers_and_request_id(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert response.json() == {"status": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert len(response.headers["x-request-id"]) == 32
    echoed = await api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    hostile = await api.client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert hostile.headers["x-request-id"] != "<script>"


async def test_readyz(api: Api) -> None:
    assert (await api.client.get("/readyz")).json() == {"status": "ok"}


async def test_openapi_documents_every_endpoint(api: Api) -> None:
    schema = (await api.client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/accounts/join",
        "/accounts/token",
        "/accounts/token/refresh",
        "/accounts/logout",
        "/accounts/mypage",
        "/accounts/password",
        "/chatbot/chats",
        "/chatbot/chats/{chat_id}",
        "/chatbot/chats/{chat_id}/messages",
        "/chatbot/quota",
        "/healthz",
        "/readyz",
    ):
        assert path in paths or path + "/" in paths, path
    operation_ids = [
        op["operationId"]
        for item in paths.values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert "sendMessage" in operation_ids
    assert len(operation_ids) == len(set(operation_ids))
    messages = paths.get("/chatbot/chats/{chat_id}/messages") or paths["/chatbot/chats/{chat_id}/messages/"]
    assert {"429", "504"} <= set(messages["post"]["responses"])


async def test_out_of_range_ids_and_cursors_are_422_not_500(api: Api) -> None:
    import base64

    headers = await api.user()
    assert_error(await api.client.get("/chatbot/chats/3000000000/", headers=headers), 422, "validation_error")
    assert_error(await api.client.delete("/accounts/api-keys/0/", headers=headers), 422, "validation_error")
    for raw in (
        "0001-01-01T00:00:00+01:00|1",
        "9999-12-31T23:59:59-01:00|1",
        "2026-11-26T00:00:00+00:00|3000000000",
    ):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        assert_error(
            await api.client.get(f"/chatbot/chats/?cursor={cursor}", headers=headers), 422, "validation_error"
        )

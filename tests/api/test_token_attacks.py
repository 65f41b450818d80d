"""Forged, expired and misused tokens are all 401 ``invalid_token`` (SPEC §4.1, §9)."""

from __future__ import annotations

import base64
import json

from adapters.identity import JoseTokenService
from api.conftest import SECRET, Api
from api.helpers import assert_error


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def access_token(api: Api) -> str:
    await api.join()
    token: str = (await api.login())["access"]
    return token


async def call_with(api: Api, token: str) -> object:
    return await api.client.get("/chatbot/chats/", headers={"Authorization": f"Bearer {token}"})


async def test_a_valid_token_works(api: Api) -> None:
    token = await access_token(api)
    assert (
        await api.client.get("/chatbot/chats/", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200


async def test_flipped_signature_byte(api: Api) -> None:
    token = await access_token(api)
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    forged = f"{head}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"
    assert_error(await call_with(api, forged), 401, "invalid_token")


async def test_alg_none(api: Api) -> None:
    token = await access_token(api)
    payload = token.split(".")[1]
    for alg in ("none", "None", "NONE"):
        forged = f"{b64({'alg': alg, 'typ': 'JWT'})}.{payload}."
        assert_error(await call_with(api, forged), 401, "invalid_token")


async def test_other_algorithm_with_the_same_secret(api: Api) -> None:
    from joserfc import jwt
    from joserfc.jwk import OctKey

    token = await access_token(api)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    forged = jwt.encode({"alg": "HS512"}, claims, OctKey.import_key(SECRET.encode()), algorithms=["HS512"])
    assert_error(await call_with(api, forged), 401, "invalid_token")


async def test_expired_token(api: Api) -> None:
    token = await access_token(api)
    api.clock.advance(seconds=901)
    assert_error(await call_with(api, token), 401, "invalid_token")


async def test_wrong_audience(api: Api) -> None:
    await api.join()
    other = JoseTokenService(SECRET, audience="some-other-service")
    forged = other.issue_access(1, now=api.clock.now()).token
    assert_error(await call_with(api, forged), 401, "invalid_token")


async def test_refresh_token_is_not_an_access_token(api: Api) -> None:
    await api.join()
    tokens = await api.login()
    assert_error(await call_with(api, tokens["refresh"]), 401, "invalid_token")


async def test_purpose_token_is_not_an_access_token(api: Api) -> None:
    await api.join()
    signed = JoseTokenService(SECRET).issue_signed("oauth-link", "1", ttl=60, now=api.clock.now())
    assert_error(await call_with(api, signed), 401, "invalid_token")


async def test_missing_or_malformed_authorization(api: Api) -> None:
    for header in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        response = await api.client.get("/chatbot/chats/", headers=header)
        assert_error(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert_error(await call_with(api, "not.a.jwt"), 401, "invalid_token")

"""The Kakao and GitHub adapters against the fake providers (SPEC §4.1): PKCE S256 and state,
the client secret in the form body, numeric ids, verified e-mails only, errors translated."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.oauth import GitHubOAuthProvider, KakaoOAuthProvider, OAuthClientConfig
from chatcore.errors import ProviderError, ProviderUnavailable
from chatcore.model import LinkedAccount, Provider
from chatcore.ports.oauth import OAuthProvider
from fakes.fake_oauth import CLIENTS, FakeOAuth
from fakes.fake_openai import closed_port

VERIFIER = "v" * 43
REDIRECT = "http://127.0.0.1:8000/accounts/oauth/{}/callback"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOAuth]:
    async with FakeOAuth() as server:
        yield server


def config(base: str, provider: str, *, timeout: float = 5.0) -> OAuthClientConfig:
    client_id, secret = CLIENTS[provider]
    userinfo = f"{base}/kakao/v2/user/me" if provider == "kakao" else f"{base}/github/user"
    return OAuthClientConfig(
        client_id=client_id,
        client_secret=secret,
        authorize_url=f"{base}/{provider}/authorize",
        token_url=f"{base}/{provider}/token",
        userinfo_url=userinfo,
        redirect_uri=REDIRECT.format(provider),
        timeout=timeout,
    )


def kakao(fake: FakeOAuth, **kw: float) -> KakaoOAuthProvider:
    return KakaoOAuthProvider(config(fake.url, "kakao", **kw))


def github(fake: FakeOAuth, **kw: float) -> GitHubOAuthProvider:
    return GitHubOAuthProvider(config(fake.url, "github", **kw))


async def approve(provider: OAuthProvider, *, state: str = "the-state", verifier: str = VERIFIER) -> str:
    """What the browser does at the provider: open the authorize URL, follow it back; the code."""
    url = provider.authorization_url(state=state, code_verifier=verifier)
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(url)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    query = parse_qs(back.query)
    assert query["state"] == [state]
    return query["code"][0]


async def test_the_authorize_url_carries_state_pkce_s256_and_the_redirect_uri(fake: FakeOAuth) -> None:
    url = urlsplit(kakao(fake).authorization_url(state="s1", code_verifier=VERIFIER))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["state"] == "s1"
    assert query["code_challenge_method"] == "S256"
    # RFC 7636 appendix B: BASE64URL(SHA256(verifier)) without padding
    assert query["code_challenge"] != VERIFIER
    assert query["redirect_uri"] == REDIRECT.format("kakao")
    assert query["client_id"] == CLIENTS["kakao"][0]
    assert "scope" not in query  # Kakao asks for the app's configured consent items
    assert (
        "read:user"
        in parse_qs(urlsplit(github(fake).authorization_url(state="s", code_verifier=VERIFIER)).query)[
            "scope"
        ][0]
    )


async def test_kakao_gives_the_numeric_id_the_nickname_and_a_verified_email(fake: FakeOAuth) -> None:
    fake.configure(kakao_user={"id": 4242, "login": "민지", "email": "minji@kakao.example"})
    provider = kakao(fake)

    found = await provider.fetch_account(code=await approve(provider), code_verifier=VERIFIER)

    assert found.account == LinkedAccount(provider=Provider.KAKAO, subject="4242", login="민지")
    assert found.email == "minji@kakao.example"
    token = fake.token_requests("kakao")[-1]
    assert token.form["client_secret"] == CLIENTS["kakao"][1]  # in the form body ...
    assert "authorization" not in token.headers  # ... never in a Basic header
    assert token.form["code_verifier"] == VERIFIER
    assert token.form["redirect_uri"] == REDIRECT.format("kakao")


async def test_kakao_without_a_verified_email_gives_none(fake: FakeOAuth) -> None:
    fake.configure(kakao_user={"id": 7, "login": "jiwoo", "email": "j@example.com", "email_verified": False})
    provider = kakao(fake)
    found = await provider.fetch_account(code=await approve(provider), code_verifier=VERIFIER)
    assert found.email is None
    assert found.account.subject == "7"


async def test_github_gives_the_numeric_id_the_login_and_the_verified_primary_email(fake: FakeOAuth) -> None:
    fake.configure(github_user={"id": 583231, "login": "octocat", "email": "octo@example.com"})
    provider = github(fake)

    found = await provider.fetch_account(code=await approve(provider), code_verifier=VERIFIER)

    assert found.account == LinkedAccount(provider=Provider.GITHUB, subject="583231", login="octocat")
    assert found.email == "octo@example.com"
    assert fake.token_requests("github")[-1].headers["accept"] == "application/json"


async def test_github_unverified_primary_email_gives_none(fake: FakeOAuth) -> None:
    fake.configure(github_user={"id": 1, "login": "octo", "email": "o@example.com", "email_verified": False})
    provider = github(fake)
    found = await provider.fetch_account(code=await approve(provider), code_verifier=VERIFIER)
    assert found.email is None


@pytest.mark.parametrize("name", ["kakao", "github"])
async def test_a_wrong_verifier_is_refused(fake: FakeOAuth, name: str) -> None:
    provider = kakao(fake) if name == "kakao" else github(fake)
    code = await approve(provider)
    with pytest.raises(ProviderError):
        await provider.fetch_account(code=code, code_verifier="w" * 43)


@pytest.mark.parametrize("name", ["kakao", "github"])
async def test_a_code_works_once(fake: FakeOAuth, name: str) -> None:
    provider = kakao(fake) if name == "kakao" else github(fake)
    code = await approve(provider)
    await provider.fetch_account(code=code, code_verifier=VERIFIER)
    with pytest.raises(ProviderError):
        await provider.fetch_account(code=code, code_verifier=VERIFIER)


@pytest.mark.parametrize("name", ["kakao", "github"])
async def test_a_token_error_is_a_provider_error(fake: FakeOAuth, name: str) -> None:
    provider = kakao(fake) if name == "kakao" else github(fake)
    code = await approve(provider)
    fake.configure(mode="error")  # GitHub: status 200 with an error field; Kakao: 400
    with pytest.raises(ProviderError):
        await provider.fetch_account(code=code, code_verifier=VERIFIER)


@pytest.mark.parametrize("mode", ["slow", "unavailable"])
async def test_a_slow_or_failing_provider_is_unavailable(fake: FakeOAuth, mode: str) -> None:
    provider = kakao(fake, timeout=0.3)
    code = await approve(provider)
    fake.configure(mode=mode, delay=5.0)
    with pytest.raises(ProviderUnavailable):
        await provider.fetch_account(code=code, code_verifier=VERIFIER)


async def test_an_unreachable_provider_is_unavailable() -> None:
    provider = GitHubOAuthProvider(config(f"http://127.0.0.1:{closed_port()}", "github", timeout=1.0))
    with pytest.raises(ProviderUnavailable):
        await provider.fetch_account(code="any", code_verifier=VERIFIER)


async def test_the_fake_kakao_refuses_the_secret_in_a_basic_header(fake: FakeOAuth) -> None:
    provider = kakao(fake)
    code = await approve(provider)
    client_id, secret = CLIENTS["kakao"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT.format("kakao"),
            "code_verifier": VERIFIER}  # fmt: skip
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{fake.url}/kakao/token", data=form, headers={"Authorization": f"Basic {basic}"}
        )
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "KOE010"


@pytest.mark.parametrize("name", ["kakao", "github"])
@pytest.mark.parametrize("subject", [0, -1, 2**63, 10**150])
async def test_an_id_no_real_account_has_is_a_provider_error(
    fake: FakeOAuth, name: str, subject: int
) -> None:
    # 0 (a broken answer's default) would make every such login one user; an id longer than the
    # stored column would fail in the database (a 500 instead of a clean redirect).
    fake.configure(**{f"{name}_user": {"id": subject, "login": "someone"}})
    provider = kakao(fake) if name == "kakao" else github(fake)
    with pytest.raises(ProviderError):
        await provider.fetch_account(code=await approve(provider), code_verifier=VERIFIER)


@pytest.mark.parametrize("name", ["kakao", "github"])
async def test_a_login_longer_than_the_stored_column_is_cut(fake: FakeOAuth, name: str) -> None:
    fake.configure(**{f"{name}_user": {"id": 2**63 - 1, "login": "x" * 5000}})
    provider = kakao(fake) if name == "kakao" else github(fake)
    found = await provider.fetch_account(code=await approve(provider), code_verifier=VERIFIER)
    assert found.account.login == "x" * 255
    assert found.account.subject == str(2**63 - 1)


@pytest.mark.parametrize("name", ["kakao", "github"])
async def test_an_answer_nested_too_deep_to_parse_is_a_provider_error(fake: FakeOAuth, name: str) -> None:
    # json's RecursionError is no ValueError: it escaped as a 500 instead of the error redirect.
    provider = kakao(fake) if name == "kakao" else github(fake)
    code = await approve(provider)
    fake.configure(mode="nested")
    with pytest.raises(ProviderError):
        await provider.fetch_account(code=code, code_verifier=VERIFIER)

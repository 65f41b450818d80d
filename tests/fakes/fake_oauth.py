"""A fake Kakao and a fake GitHub on one local HTTP server, shaped like the real APIs.

In a test (on the test's own event loop)::

    async with FakeOAuth() as fake:
        settings = fake.settings()            # CHATCORE_KAKAO_* / CHATCORE_GITHUB_* variables
        fake.configure(kakao_user={"id": 7, "login": "민지", "email": "m@example.com"})
        fake.configure(mode="deny")           # the user declines at the provider
        assert "client_secret" in fake.token_requests("kakao")[-1].form

As a separate process (for end-to-end tests; see ``fakes.fake_oauth_process``)::

    PYTHONPATH=tests python -m fakes.fake_oauth --port 0
    # prints FAKE_OAUTH_URL=http://127.0.0.1:<port>, serves until SIGTERM/SIGINT
    # POST /_control/configure {"mode": "error"}   GET|DELETE /_control/requests

Endpoints (``<p>`` = ``kakao`` or ``github``): ``GET /<p>/authorize`` approves at once as the
configured user and redirects to the ``redirect_uri`` with ``code`` and ``state``;
``POST /<p>/token`` checks the client (Kakao: ``client_secret`` in the form body, a Basic header is
refused with KOE010; GitHub: either), the ``redirect_uri`` of the authorization, that the code is
used once, and the PKCE verifier against the S256 challenge; ``GET /kakao/v2/user/me``,
``GET /github/user`` and ``GET /github/user/emails`` answer for the token's user. Kakao errors are
4xx JSON with ``error_code``; GitHub's token errors are 200 with an ``error`` field, as the real
ones are.

==============  ======================================================================
ok              everything works
deny            authorize redirects back with ``error=access_denied``
error           the token endpoint refuses (as for a bad code)
slow            the token endpoint waits ``delay`` seconds before answering
unavailable     the token endpoint answers 503
nested          the token endpoint answers 200 with JSON nested 100,000 deep (a hostile answer)
==============  ======================================================================
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import secrets
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from fakes import http11

MODES = ("ok", "deny", "error", "slow", "unavailable", "nested")
CLIENTS = {
    "kakao": ("kakao-rest-api-key", "kakao-client-secret"),
    "github": ("github-client-id", "github-secret"),
}
"""provider -> (client id, client secret) the fake accepts."""


@dataclass(slots=True)
class FakeAccount:
    """The provider account that authorize approves as."""

    id: int
    login: str
    """GitHub's ``login``; Kakao's ``kakao_account.profile.nickname``."""
    email: str | None = None
    email_verified: bool = True


@dataclass(slots=True)
class Behaviour:
    mode: str = "ok"
    delay: float = 30.0
    kakao_user: FakeAccount = field(default_factory=lambda: FakeAccount(1001, "minji", "minji@example.com"))
    github_user: FakeAccount = field(
        default_factory=lambda: FakeAccount(2002, "octo-minji", "minji@example.com")
    )


@dataclass(slots=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    query: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(slots=True)
class _Grant:
    provider: str
    client_id: str
    redirect_uri: str
    challenge: str
    account: FakeAccount
    used: bool = False


def settings_for(url: str) -> dict[str, str]:
    """The environment variables that point chatcore at a fake at ``url``, for both providers."""
    env: dict[str, str] = {}
    for provider, (client_id, secret) in CLIENTS.items():
        upper = provider.upper()
        env[f"CHATCORE_{upper}_CLIENT_ID"] = client_id
        env[f"CHATCORE_{upper}_CLIENT_SECRET"] = secret
        env[f"CHATCORE_{upper}_AUTHORIZE_URL"] = f"{url}/{provider}/authorize"
        env[f"CHATCORE_{upper}_TOKEN_URL"] = f"{url}/{provider}/token"
    env["CHATCORE_KAKAO_USERINFO_URL"] = f"{url}/kakao/v2/user/me"
    env["CHATCORE_GITHUB_USERINFO_URL"] = f"{url}/github/user"
    return env


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class FakeOAuth:
    """The fake server. Start it with ``async with`` or :meth:`start`; stop it with :meth:`aclose`."""

    def __init__(self, **behaviour: Any) -> None:
        self.behaviour = Behaviour()
        self.configure(**behaviour)
        self.requests: list[Received] = []
        self._grants: dict[str, _Grant] = {}
        self._tokens: dict[str, tuple[str, FakeAccount]] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def configure(self, **changes: Any) -> None:
        """Change the behaviour: ``mode``, ``delay``, ``kakao_user`` / ``github_user`` (a
        :class:`FakeAccount` or a dict of its fields)."""
        if "mode" in changes and changes["mode"] not in MODES:
            raise ValueError(f"unknown mode {changes['mode']!r}; one of {MODES}")
        for name in ("kakao_user", "github_user"):
            if isinstance(changes.get(name), dict):
                changes[name] = FakeAccount(**changes[name])
        self.behaviour = dataclasses.replace(self.behaviour, **changes)

    def token_requests(self, provider: str) -> list[Received]:
        return [r for r in self.requests if r.path == f"/{provider}/token"]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        self._server = await asyncio.start_server(self._connection, host, port)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def settings(self) -> dict[str, str]:
        """The environment variables that point chatcore at this fake, for both providers."""
        return settings_for(self.url)

    async def aclose(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- serving -----------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    request = await http11.read_request(reader)
                except http11.BadRequest:
                    await http11.send_json(writer, 400, {"error": "invalid_request"})
                    break
                if request is None:
                    break
                await self._route(request, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a client that gave up, or aclose(): end quietly
        finally:
            self._tasks.discard(task)
            writer.close()
            with suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _route(self, request: http11.Request, writer: asyncio.StreamWriter) -> None:
        if request.path.startswith("/_control/"):
            await self._control(request, writer)
            return
        query = dict(parse_qsl(urlsplit(request.target).query))
        form = dict(parse_qsl(request.body.decode())) if request.method == "POST" else {}
        self.requests.append(Received(request.method, request.path, request.headers, form, query))
        provider, _, rest = request.path.lstrip("/").partition("/")
        if provider not in CLIENTS:
            await http11.send_json(writer, 404, {"message": "Not Found"})
        elif (request.method, rest) == ("GET", "authorize"):
            await self._authorize(provider, query, writer)
        elif (request.method, rest) == ("POST", "token"):
            await self._token(provider, request, form, writer)
        elif request.method == "GET" and (provider, rest) in {("kakao", "v2/user/me"), ("github", "user")}:
            await self._me(provider, request, writer)
        elif (request.method, provider, rest) == ("GET", "github", "user/emails"):
            await self._emails(request, writer)
        else:
            await http11.send_json(writer, 404, {"message": "Not Found"})

    async def _authorize(self, provider: str, query: dict[str, str], writer: asyncio.StreamWriter) -> None:
        client_id, _ = CLIENTS[provider]
        problem = None
        if query.get("client_id") != client_id:
            problem = "unknown client_id"
        elif query.get("response_type") != "code" or not query.get("redirect_uri"):
            problem = "response_type=code and redirect_uri are required"
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problem = "PKCE S256 is required by this fake"
        if problem is not None:
            await http11.send_json(writer, 400, {"error": "invalid_request", "error_description": problem})
            return
        back: dict[str, str] = {"state": query.get("state", "")}
        if self.behaviour.mode == "deny":
            back["error"] = "access_denied"
            back["error_description"] = "User denied access"
        else:
            code = secrets.token_urlsafe(16)
            account = self.behaviour.kakao_user if provider == "kakao" else self.behaviour.github_user
            self._grants[code] = _Grant(
                provider,
                client_id,
                query["redirect_uri"],
                query["code_challenge"],
                dataclasses.replace(account),
            )
            back["code"] = code
        location = f"{query['redirect_uri']}?{urlencode(back)}"
        await http11.send(writer, 302, b"", headers={"Location": location})

    async def _token(
        self, provider: str, request: http11.Request, form: dict[str, str], writer: asyncio.StreamWriter
    ) -> None:
        mode = self.behaviour.mode
        if mode == "slow":
            await asyncio.sleep(self.behaviour.delay)
        if mode == "unavailable":
            await http11.send_json(writer, 503, {"message": "Service Unavailable"})
            return
        if mode == "nested":
            await http11.send(writer, 200, b"[" * 100_000 + b"]" * 100_000)
            return
        error = "invalid_grant" if mode == "error" else self._check_token_request(provider, request, form)
        if error is not None:
            await self._token_error(provider, error, writer)
            return
        grant = self._grants[form["code"]]
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (provider, grant.account)
        body: dict[str, Any] = {"access_token": token, "token_type": "bearer"}
        if provider == "kakao":
            body.update(
                expires_in=21599, refresh_token=secrets.token_urlsafe(24), refresh_token_expires_in=5183999
            )
        else:
            body["scope"] = "read:user,user:email"
        await http11.send_json(writer, 200, body)

    def _check_token_request(
        self, provider: str, request: http11.Request, form: dict[str, str]
    ) -> str | None:
        """The name of what is wrong with a token request, or ``None``."""
        client_id, secret = CLIENTS[provider]
        basic = request.headers.get("authorization", "").lower().startswith("basic ")
        if provider == "kakao" and basic:
            return "KOE010"  # Kakao takes the client secret in the body only
        if basic:
            raw = base64.b64decode(request.headers["authorization"].split(" ", 1)[1]).decode()
            sent_id, _, sent_secret = raw.partition(":")
        else:
            sent_id, sent_secret = form.get("client_id", ""), form.get("client_secret", "")
        if (sent_id, sent_secret) != (client_id, secret):
            return "invalid_client"
        if form.get("grant_type") != "authorization_code":
            return "unsupported_grant_type"
        grant = self._grants.get(form.get("code", ""))
        if grant is None or grant.provider != provider or grant.used:
            return "invalid_grant"
        grant.used = True  # once, whatever happens next
        if form.get("redirect_uri") != grant.redirect_uri:
            return "redirect_uri_mismatch"
        if s256(form.get("code_verifier", "")) != grant.challenge:
            return "invalid_grant"
        return None

    async def _token_error(self, provider: str, error: str, writer: asyncio.StreamWriter) -> None:
        if provider == "github":  # GitHub: 200, with an error field
            body = {
                "error": error,
                "error_description": f"fake: {error}",
                "error_uri": "https://docs.github.com",
            }
            await http11.send_json(writer, 200, body)
        elif error == "KOE010":
            body = {
                "error": "invalid_client",
                "error_description": "Bad client credentials",
                "error_code": "KOE010",
            }
            await http11.send_json(writer, 401, body)
        else:
            body = {"error": error, "error_description": f"fake: {error}", "error_code": "KOE320"}
            await http11.send_json(writer, 400, body)

    def _account(self, provider: str, request: http11.Request) -> FakeAccount | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        found = self._tokens.get(token) if scheme.lower() == "bearer" else None
        return found[1] if found is not None and found[0] == provider else None

    async def _me(self, provider: str, request: http11.Request, writer: asyncio.StreamWriter) -> None:
        account = self._account(provider, request)
        if account is None:
            if provider == "kakao":
                await http11.send_json(writer, 401, {"msg": "this access token does not exist", "code": -401})
            else:
                await http11.send_json(writer, 401, {"message": "Bad credentials"})
            return
        if provider == "github":
            body = {"login": account.login, "id": account.id, "type": "User", "name": None, "email": None}
            await http11.send_json(writer, 200, body)
            return
        kakao: dict[str, Any] = {
            "profile_nickname_needs_agreement": False,
            "profile": {"nickname": account.login, "is_default_nickname": False},
            "has_email": account.email is not None,
        }
        if account.email is not None:
            kakao.update(
                email_needs_agreement=False,
                is_email_valid=True,
                is_email_verified=account.email_verified,
                email=account.email,
            )
        body = {"id": account.id, "connected_at": "2026-12-03T00:00:00Z", "kakao_account": kakao}
        await http11.send_json(writer, 200, body)

    async def _emails(self, request: http11.Request, writer: asyncio.StreamWriter) -> None:
        account = self._account("github", request)
        if account is None:
            await http11.send_json(writer, 401, {"message": "Bad credentials"})
            return
        emails = [{"email": f"{account.id}+{account.login}@users.noreply.github.com", "primary": False,
                   "verified": True, "visibility": None}]  # fmt: skip
        if account.email is not None:
            emails.append(
                {
                    "email": account.email,
                    "primary": True,
                    "verified": account.email_verified,
                    "visibility": "public",
                }
            )
        await http11.send_json(writer, 200, emails)

    async def _control(self, request: http11.Request, writer: asyncio.StreamWriter) -> None:
        if (request.method, request.path) == ("POST", "/_control/configure"):
            try:
                self.configure(**(request.json() or {}))
            except (TypeError, ValueError) as exc:
                await http11.send_json(writer, 422, {"error": str(exc)})
                return
            await http11.send_json(writer, 200, dataclasses.asdict(self.behaviour))
        elif (request.method, request.path) == ("GET", "/_control/requests"):
            await http11.send_json(writer, 200, [r.as_dict() for r in self.requests])
        elif (request.method, request.path) == ("DELETE", "/_control/requests"):
            self.requests.clear()
            await http11.send_json(writer, 200, [])
        else:
            await http11.send_json(writer, 404, {"error": "no such control"})


if __name__ == "__main__":
    from fakes.fake_oauth_process import main

    main()

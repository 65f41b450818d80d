"""``GET /metrics`` (SPEC §4.4): every metric family moves as the requests happen, and labels hold
route templates, never ids, names or text."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter, MemoryStore
from adapters.openai_llm import OpenAIGateway
from api.conftest import PASSWORD, SECRET, Api
from api.from_address import from_address
from api.helpers import post_scope
from api.prometheus_text import Samples, parse, total, value
from app_http.app import create_app
from app_http.bootstrap import build_container
from app_http.settings import Settings
from chatcore.errors import LLMTimeout
from chatcore.ports.llm import Prompt
from chatcore.testing import FrozenClock, QuickHasher, ScriptedLLM
from fakes.fake_openai import FakeOpenAI, closed_port

MESSAGES = "/chatbot/chats/{chat_id}/messages"


async def scrape(app: Litestar, client: str = "127.0.0.1", **headers: str) -> httpx.Response:
    async with from_address(app, client) as http:
        return await http.get("/metrics", headers=headers)


async def metrics_of(app: Litestar) -> Samples:
    response = await scrape(app)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


async def test_requests_are_counted_by_route_template_method_and_status(api: Api) -> None:
    headers = await api.user("minji")
    first, second = await api.chat(headers), await api.chat(headers)
    for chat_id in (first, second, first):
        assert (await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).status_code == 200
    assert (await api.client.get("/chatbot/chats/999/", headers=headers)).status_code == 404
    for path in ("/no/such/page", "/minji@example.com", f"/chatbot/chats/{first}/nothing"):
        assert (await api.client.get(path)).status_code == 404
    assert (await api.client.request("BREW", "/healthz")).status_code in {400, 405}

    response = await scrape(api.client.app)
    samples = parse(response.text)
    requests = "chatcore_http_requests_total"
    chat = "/chatbot/chats/{chat_id}"
    assert value(samples, requests, route=chat, method="GET", status="200") == 3
    assert value(samples, requests, route=chat, method="GET", status="404") == 1
    assert value(samples, requests, route="/chatbot/chats", method="POST", status="201") == 2
    assert value(samples, requests, route="/accounts/join", method="POST", status="201") == 1
    assert value(samples, requests, route="<unmatched>", method="GET", status="404") == 3
    assert total(samples, requests, method="OTHER") == 1
    assert value(samples, "chatcore_http_request_duration_seconds_count", route=chat, method="GET") == 4
    assert (
        value(samples, "chatcore_http_request_duration_seconds_bucket", route=chat, method="GET", le="+Inf")
        == 4
    )
    # Nothing a user wrote or is: no ids, no names, no e-mail, no raw paths.
    for leak in ("minji", "example.com", f"/chats/{first}/", "no/such", "nothing", "BREW"):
        assert leak not in response.text


async def test_quota_refusals_and_tutor_calls(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    statuses = [
        (
            await api.client.post(
                f"/chatbot/chats/{chat_id}/messages/", json={"content": "hi"}, headers=headers
            )
        ).status_code
        for _ in range(7)
    ]
    assert statuses == [201] * 5 + [429] * 2
    samples = await metrics_of(api.client.app)
    assert value(samples, "chatcore_quota_refusals_total") == 2
    assert value(samples, "chatcore_tutor_calls_total", outcome="ok") == 5
    assert value(samples, "chatcore_tutor_call_duration_seconds_count", outcome="ok") == 5
    assert value(samples, "chatcore_http_requests_total", route=MESSAGES, method="POST", status="429") == 2
    # Every outcome is there from the start, so an alert's rate() has a series to read.
    assert ("chatcore_tutor_calls_total", frozenset({("outcome", "llm_timeout")})) in samples


async def test_a_tutor_failure_is_counted_by_its_code_and_the_quota_is_not(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    api.llm.push(LLMTimeout())
    failed = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "hi"}, headers=headers
    )
    assert failed.status_code == 504
    samples = await metrics_of(api.client.app)
    assert value(samples, "chatcore_tutor_calls_total", outcome="llm_timeout") == 1
    assert value(samples, "chatcore_tutor_calls_total", outcome="ok") == 0
    assert value(samples, "chatcore_quota_refusals_total") == 0


async def test_login_failures_and_throttles(api: Api) -> None:
    await api.join("minji")
    statuses = []
    for _ in range(12):
        response = await api.client.post(
            "/accounts/token/", json={"username": "minji", "password": "wrong guess 1"}
        )
        statuses.append(response.status_code)
    failures, throttled = statuses.count(401), statuses.count(429)
    assert failures >= 1
    assert throttled >= 1
    assert failures + throttled == 12
    api.clock.advance(hours=1)
    await api.login("minji", PASSWORD)  # a success is neither
    samples = await metrics_of(api.client.app)
    assert value(samples, "chatcore_login_failures_total") == failures
    assert value(samples, "chatcore_throttled_total", route="/accounts/token") == throttled
    assert (
        value(samples, "chatcore_http_requests_total", route="/accounts/token", method="POST", status="200")
        == 1
    )


class GatedLLM(ScriptedLLM):
    """A scripted tutor whose streams write one piece, then wait for ``go`` before the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.go = asyncio.Event()
        self.started = asyncio.Event()

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        yield "Hello "
        self.started.set()
        await self.go.wait()
        yield "again."


@pytest.fixture
async def gated(tmp_path: Path) -> AsyncIterator[tuple[Api, GatedLLM]]:
    llm = GatedLLM()
    clock = FrozenClock()
    store = MemoryStore()
    container = build_container(
        Settings(secret_key=SECRET, data_dir=tmp_path),
        clock=clock,
        llm=llm,
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=JoseTokenService(SECRET, access_ttl=900),
        limiter=MemoryAttemptLimiter(),
    )
    async with AsyncTestClient(create_app(container)) as client:
        yield Api(client=client, container=container, clock=clock, llm=llm, store=store), llm


async def stream_by_hand(app: Litestar, path: str, token: str, leave: asyncio.Event) -> list[dict[str, Any]]:
    """POST ``path`` asking for a stream; the client leaves when ``leave`` is set. As a server
    does, ``receive`` says the client is gone once the response is complete."""
    body = [{"type": "http.request", "body": json.dumps({"content": "hello"}).encode(), "more_body": False}]
    sent: list[dict[str, Any]] = []
    gone = leave

    async def receive() -> dict[str, Any]:
        if body:
            return body.pop(0)
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            gone.set()

    scope = post_scope(
        path,
        [
            (b"content-type", b"application/json"),
            (b"accept", b"text/event-stream"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
    )
    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent


async def test_a_stream_is_open_until_it_ends_and_its_duration_covers_it(gated: tuple[Api, GatedLLM]) -> None:
    api, llm = gated
    headers = await api.user()
    chat_id = await api.chat(headers)
    token = headers["Authorization"].removeprefix("Bearer ")
    streaming = asyncio.create_task(
        stream_by_hand(api.client.app, f"/chatbot/chats/{chat_id}/messages/", token, asyncio.Event())
    )
    await asyncio.wait_for(llm.started.wait(), 5)
    samples = await metrics_of(api.client.app)
    assert value(samples, "chatcore_http_streams_open") == 1
    assert value(samples, "chatcore_tutor_calls_total", outcome="ok") == 0  # not finished yet
    await asyncio.sleep(0.2)
    llm.go.set()
    sent = await asyncio.wait_for(streaming, 5)
    assert b"event: done" in b"".join(m.get("body", b"") for m in sent)
    samples = await metrics_of(api.client.app)
    assert value(samples, "chatcore_http_streams_open") == 0
    assert value(samples, "chatcore_tutor_calls_total", outcome="ok") == 1
    assert value(samples, "chatcore_tutor_call_duration_seconds_sum", outcome="ok") >= 0.2
    assert value(samples, "chatcore_http_requests_total", route=MESSAGES, method="POST", status="201") == 1
    assert value(samples, "chatcore_http_request_duration_seconds_sum", route=MESSAGES, method="POST") >= 0.2


async def test_a_stream_the_client_leaves_is_closed_and_its_tutor_call_cancelled(
    gated: tuple[Api, GatedLLM],
) -> None:
    api, llm = gated
    headers = await api.user()
    chat_id = await api.chat(headers)
    token = headers["Authorization"].removeprefix("Bearer ")
    leave = asyncio.Event()
    streaming = asyncio.create_task(
        stream_by_hand(api.client.app, f"/chatbot/chats/{chat_id}/messages/", token, leave)
    )
    await asyncio.wait_for(llm.started.wait(), 5)
    assert value(await metrics_of(api.client.app), "chatcore_http_streams_open") == 1
    leave.set()
    await asyncio.wait_for(streaming, 5)
    samples = await metrics_of(api.client.app)
    assert value(samples, "chatcore_http_streams_open") == 0
    assert value(samples, "chatcore_tutor_calls_total", outcome="cancelled") == 1
    assert value(samples, "chatcore_tutor_calls_total", outcome="ok") == 0


@dataclass
class Upstream:
    """The app on the real OpenAI adapter, pointed at the fake OpenAI server. Driven in the test's
    own event loop (the fake serves there too), with the user ``headers`` signed in."""

    http: httpx.AsyncClient
    app: Litestar
    fake: FakeOpenAI
    headers: dict[str, str]


async def sign_in(http: httpx.AsyncClient) -> dict[str, str]:
    body = {"username": "minji", "email": "m@example.com", "password": PASSWORD, "password2": PASSWORD}
    assert (await http.post("/accounts/join/", json=body)).status_code == 201
    tokens = (await http.post("/accounts/token/", json={"username": "minji", "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {tokens['access']}"}


@asynccontextmanager
async def app_on(llm: OpenAIGateway, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Litestar]]:
    container = build_container(
        Settings(secret_key=SECRET, data_dir=tmp_path),
        llm=llm,
        uow=MemoryStore().unit_of_work,
        hasher=QuickHasher(),
        tokens=JoseTokenService(SECRET, access_ttl=900),
        limiter=MemoryAttemptLimiter(),
    )
    app = create_app(container)
    try:
        async with from_address(app) as http:
            yield http, app
    finally:
        await container.aclose()


@pytest.fixture
async def upstream(tmp_path: Path) -> AsyncIterator[Upstream]:
    async with FakeOpenAI() as fake:
        llm = OpenAIGateway(api_key="sk-test", model="fake-model", base_url=fake.base_url, timeout=2.0)
        async with app_on(llm, tmp_path) as (http, app):
            yield Upstream(http=http, app=app, fake=fake, headers=await sign_in(http))


@pytest.mark.parametrize(
    ("mode", "status", "outcome"),
    [
        ("500", 502, "llm_error"),
        ("429", 503, "llm_busy"),
        ("401", 502, "llm_misconfigured"),
        ("timeout", 504, "llm_timeout"),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
async def test_upstream_failures_are_counted_by_code(
    upstream: Upstream, mode: str, status: int, outcome: str, streamed: bool
) -> None:
    http, headers = upstream.http, upstream.headers
    chat_id = (await http.post("/chatbot/chats/", json={}, headers=headers)).json()["chat"]["id"]
    path = f"/chatbot/chats/{chat_id}/messages/"
    assert (await http.post(path, json={"content": "hi"}, headers=headers)).status_code == 201
    upstream.fake.configure(mode=mode)
    if streamed:
        stream_headers = {**headers, "Accept": "text/event-stream"}
        response = await http.post(path, json={"content": "hi"}, headers=stream_headers)
        assert response.status_code == 201
        assert f'"code":"{outcome}"' in response.text
    else:
        response = await http.post(path, json={"content": "hi"}, headers=headers)
        assert response.status_code == status, response.text
    samples = await metrics_of(upstream.app)
    assert value(samples, "chatcore_tutor_calls_total", outcome="ok") == 1
    assert value(samples, "chatcore_tutor_calls_total", outcome=outcome) == 1
    assert value(samples, "chatcore_tutor_call_duration_seconds_count", outcome=outcome) == 1
    assert total(samples, "chatcore_tutor_calls_total") == 2
    assert value(samples, "chatcore_http_streams_open") == 0
    assert value(samples, "chatcore_quota_refusals_total") == 0


async def test_an_unreachable_upstream_is_llm_unavailable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    llm = OpenAIGateway(api_key="sk-test", model="m", base_url=url, timeout=2.0)
    async with app_on(llm, tmp_path) as (http, app):
        failed = await http.post("/chatbot/chats/", json={"message": "hi"}, headers=await sign_in(http))
        assert failed.status_code == 503
        samples = await metrics_of(app)
    assert value(samples, "chatcore_tutor_calls_total", outcome="llm_unavailable") == 1

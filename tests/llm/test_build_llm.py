"""The composition root picks the tutor from the settings and says which, without the key (SPEC §2)."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from adapters.offline_tutor import OfflineTutorGateway
from adapters.openai_llm import OpenAIGateway
from app_http.bootstrap import build_llm
from app_http.settings import ConfigError, Settings
from chatcore.errors import LLMTimeout
from fakes.fake_openai import FakeOpenAI
from llm.conftest import API_KEY, prompt


async def test_with_a_key_the_openai_gateway_is_chosen_and_announced_without_the_key() -> None:
    settings = Settings(openai_api_key=API_KEY, openai_base_url="http://127.0.0.1:9/v1", llm_model="gpt-test")

    with capture_logs() as logs:
        llm = build_llm(settings)
    await llm.aclose()

    assert isinstance(llm, OpenAIGateway)
    assert llm.model == "gpt-test"
    assert [(e["event"], e["gateway"], e["model"], e["host"]) for e in logs] == [
        ("llm_gateway", "openai", "gpt-test", "127.0.0.1")
    ]
    assert API_KEY not in repr(logs)


async def test_without_a_base_url_the_sdk_default_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)

    llm = build_llm(Settings(openai_api_key=API_KEY))
    await llm.aclose()

    assert isinstance(llm, OpenAIGateway)
    assert llm.base_url_host == "api.openai.com"


def test_without_a_key_the_offline_tutor_is_chosen_and_announced() -> None:
    with capture_logs() as logs:
        llm = build_llm(Settings())

    assert isinstance(llm, OfflineTutorGateway)
    assert [(e["event"], e["gateway"], e["model"]) for e in logs] == [
        ("llm_gateway", "offline", "offline-tutor")
    ]


async def test_the_environment_reaches_the_gateway(fake: FakeOpenAI) -> None:
    settings = Settings.from_env(
        {
            "OPENAI_API_KEY": API_KEY,
            "OPENAI_BASE_URL": fake.base_url,
            "CHATCORE_LLM_MODEL": "tutor-model",
            "CHATCORE_LLM_TIMEOUT": "0.5",
        }
    )
    llm = build_llm(settings)
    try:
        await llm.complete(prompt("Hello!"))
        fake.configure(mode="timeout")
        with pytest.raises(LLMTimeout):
            await llm.complete(prompt("Hello again!"))
    finally:
        await llm.aclose()

    first = fake.chat_requests()[0]
    assert first.json()["model"] == "tutor-model"
    assert first.headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    "url", ["http://user:hunter2-secret@llm.internal/v1", "https://token@api.example.com/v1"]
)
def test_a_base_url_with_credentials_is_refused_without_showing_them(url: str) -> None:
    with pytest.raises(ConfigError, match="must not contain a user name or password") as refused:
        Settings.from_env({"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": url})
    assert "hunter2" not in str(refused.value)
    assert "token@" not in str(refused.value)

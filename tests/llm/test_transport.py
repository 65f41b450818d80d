"""The upstream's HTTP client: the proxy from the environment, read once; the endpoint's URL."""

from __future__ import annotations

import pytest

from adapters.openai_llm.transport import ChatCompletions


def _client(base_url: str) -> ChatCompletions:
    return ChatCompletions(api_key="sk-test", base_url=base_url, connect_timeout=1)


def test_the_proxy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert _client("https://api.openai.com/v1").proxy is None

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "llm.internal,localhost")
    assert _client("https://api.openai.com/v1").proxy == "http://proxy.internal:3128"
    assert _client("https://llm.internal/v1").proxy is None
    assert _client("http://api.example.com/v1").proxy is None  # no HTTP_PROXY set


def test_the_endpoint_is_the_chat_completions_path_of_the_base_url() -> None:
    assert _client("http://127.0.0.1:11434/v1/").base_url == "http://127.0.0.1:11434/v1"
    assert (
        ChatCompletions(api_key="k", base_url=None, connect_timeout=1).base_url == "https://api.openai.com/v1"
    )

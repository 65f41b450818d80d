"""The composition root on SQL storage: data outlives the process's container (SPEC §3, §4.4)."""

from __future__ import annotations

from pathlib import Path

from app_http.bootstrap import build_container, prepare_database
from app_http.container import Container
from app_http.settings import Settings
from chatcore.testing import QuickHasher, ScriptedLLM

SECRET = "container-test-secret-0123456789-abcdef"


def _container(settings: Settings) -> Container:
    return build_container(settings, hasher=QuickHasher(), llm=ScriptedLLM(["Nice to meet you!"]))


async def test_users_chats_and_todays_quota_survive_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=SECRET)
    await prepare_database(settings, upgrade=False)
    first = _container(settings)
    try:
        user = await first.accounts.register(
            username="alice", email="alice@example.com", password="correct horse", password2="correct horse"
        )
        chat = await first.chats.start_chat(user.id, title="Small talk")
        exchange = await first.tutor.ask(user.id, chat.id, "Hello there")
        assert exchange.quota.used == 1
    finally:
        await first.aclose()

    await prepare_database(settings, upgrade=False)
    second = _container(settings)
    try:
        assert (await second.accounts.profile(user.id)).user == user
        page = await second.chats.list_chats(user.id)
        assert [(c.id, c.title, c.message_count) for c in page.items] == [(chat.id, "Small talk", 2)]
        detail = await second.chats.read_chat(user.id, chat.id)
        assert [m.content for m in detail.messages] == ["Hello there", "Nice to meet you!"]
        assert (await second.tutor.quota(user.id)).used == 1
        tokens = await second.accounts.login(login="ALICE", password="correct horse", client="127.0.0.1")
        assert second.accounts.authenticate(tokens.access) == user.id
    finally:
        await second.aclose()


async def test_ready_is_true_when_the_database_answers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=SECRET)
    await prepare_database(settings, upgrade=False)
    container = _container(settings)
    try:
        assert await container.ready() is True
    finally:
        await container.aclose()


async def test_ready_is_false_when_the_database_does_not_answer(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none", secret_key=SECRET
    )
    container = _container(settings)
    try:
        assert await container.ready() is False
    finally:
        await container.aclose()

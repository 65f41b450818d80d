"""The statements one answered chat message without an Idempotency-Key sends to PostgreSQL (issue
15): the read, the slot and the learner's message in one, then the reply. (Both run in autocommit;
the ``BEGIN``/``COMMIT`` round trips are counted at asyncpg by ``bench/tutor_ask.py``.) Statements
sent through SQLAlchemy are seen by its ``before_cursor_execute`` event, those sent on asyncpg's
driver connection (adapters/sql/prepared.py) by asyncpg's query logger."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from chatcore.chats import ChatService
from chatcore.clock import SystemClock
from chatcore.model import Mode, NewMessage, Role
from chatcore.quota import QuotaPolicy
from chatcore.testing import ScriptedLLM
from chatcore.tutoring import TutorService


async def test_an_answered_message_is_two_statements(empty_postgres_url: str) -> None:
    await upgrade_to_head(empty_postgres_url)
    engine = create_engine_for(empty_postgres_url)
    sent: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    def logged(record: Any) -> None:
        capture(None, None, record.query)

    def log_on(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(logged)

    try:
        uow = SqlUnitOfWorkFactory(engine)
        clock = SystemClock()
        chats = ChatService(uow=uow, clock=clock)
        tutor = TutorService(
            uow=uow,
            llm=ScriptedLLM(["Tell me more."] * 3),
            clock=clock,
            policy=QuotaPolicy(limit=5),
            chats=chats,
        )
        async with uow() as tx:
            user = await tx.users.add(username="alice", email=None, password_hash=None, now=clock.now())
            await tx.commit()
        chat = await chats.start_chat(user.id)
        await tutor.ask(user.id, chat.id, "I am boring with my job.")
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        event.listen(engine.sync_engine.pool, "checkout", log_on)
        await tutor.ask(user.id, chat.id, "I am bored with my job.")
        await asyncio.sleep(0)  # asyncpg calls its query loggers soon after each statement
    finally:
        await engine.dispose()
    assert len(sent) == 2, sent
    assert sent[0].startswith("WITH context AS")
    assert "INSERT INTO quota_usage" in sent[0]
    assert "INSERT INTO messages" in sent[0]
    assert "INSERT INTO messages" in sent[1]


async def test_a_one_write_unit_of_work_commits_each_statement_as_it_runs(empty_postgres_url: str) -> None:
    # PostgreSQL: no BEGIN, no COMMIT, on SQLAlchemy's connection as on the driver's; so a write
    # stays even when the block is left without commit().
    await upgrade_to_head(empty_postgres_url)
    engine = create_engine_for(empty_postgres_url)
    clock = SystemClock()
    try:
        async with SqlUnitOfWorkFactory(engine)(one_write=True) as tx:
            user = await tx.users.add(username="alice", email=None, password_hash=None, now=clock.now())
            chat = await tx.chats.add(
                user_id=user.id, title="t", mode=Mode.CONVERSATION, topic="", now=clock.now()
            )
            reply = NewMessage(role=Role.ASSISTANT, content="Hi")
            await tx.messages.add_reply(chat.id, reply, now=clock.now(), user_id=user.id, message_id=0)
        async with SqlUnitOfWorkFactory(engine)(read_only=True) as tx:
            assert [m.content for m in await tx.messages.for_chat(chat.id)] == ["Hi"]
    finally:
        await engine.dispose()

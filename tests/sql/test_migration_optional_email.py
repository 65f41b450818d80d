"""Migration 0004: e-mail becomes optional without losing a row that refers to a user."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from adapters.sql import create_engine_for, upgrade_to_head
from adapters.sql.migrate import alembic_config
from contract.databases import run

T0 = datetime(2026, 12, 1, tzinfo=UTC)


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine_for(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql))
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


async def _seed(url: str) -> None:
    engine = create_engine_for(url)
    try:
        async with engine.begin() as conn:
            for name in ("alice", "bob"):
                await conn.execute(
                    text(
                        "INSERT INTO users (username, username_key, email, email_key, date_joined, is_admin)"
                        " VALUES (:n, :n, :e, :e, :t, false)"
                    ),
                    {"n": name, "e": f"{name}@example.com", "t": T0},
                )
            await conn.execute(
                text(
                    "INSERT INTO chats (user_id, title, mode, topic, created_at, updated_at)"
                    " SELECT id, 't', 'conversation', '', :t, :t FROM users"
                ),
                {"t": T0},
            )
            await conn.execute(text("DELETE FROM users WHERE username = 'bob'"))
    finally:
        await engine.dispose()


def test_upgrading_keeps_every_row_and_allows_users_without_email(empty_url: str) -> None:
    command.upgrade(alembic_config(empty_url), "0003")
    run(_seed(empty_url))
    run(upgrade_to_head(empty_url))
    # Alice's chat survived the rebuild of users (no cascade), bob's went with bob before it.
    assert run(_rows(empty_url, "SELECT u.username FROM chats c JOIN users u ON u.id = c.user_id")) == [
        ("alice",)
    ]
    insert = (
        "INSERT INTO users (username, username_key, date_joined, is_admin)"
        " VALUES ('{0}', '{0}', '2026-12-01 00:00:00', false)"
    )
    run(_rows(empty_url, insert.format("carol")))
    run(_rows(empty_url, insert.format("dave")))  # two users without an e-mail do not clash
    ids = run(_rows(empty_url, "SELECT username, id FROM users ORDER BY id"))
    # AUTOINCREMENT survived: bob's id (2) is never handed out again.
    assert [name for name, _ in ids] == ["alice", "carol", "dave"]
    assert [user_id for _, user_id in ids] == [1, 3, 4]


def test_downgrading_gives_placeholders_to_users_without_email(empty_url: str) -> None:
    run(upgrade_to_head(empty_url))
    run(
        _rows(
            empty_url,
            "INSERT INTO users (username, username_key, date_joined, is_admin)"
            " VALUES ('Carol', 'carol', '2026-12-01 00:00:00', false)",
        )
    )
    command.downgrade(alembic_config(empty_url), "0003")
    assert run(_rows(empty_url, "SELECT email, email_key FROM users")) == [
        ("Carol@localhost.invalid", "carol@localhost.invalid")
    ]

"""Grow a chatcore PostgreSQL database to production size before a load test: 10,000 users with 5
chats of 20 messages each (1,000,000 messages), 30 days of quota usage for every user, and 30
messages of history in every chat that already exists (the load test's own users and chats), so
that the requests under test read a real history from big tables.

    uv run python bench/seed_scale.py postgresql+asyncpg://user:password@127.0.0.1:5432/name

Runs as one transaction with the tables' triggers on (the chats' counters stay right), then
``VACUUM ANALYZE`` as autovacuum would after a bulk load. About a minute on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

USERS = 10_000
CHATS_PER_USER = 5
MESSAGES_PER_CHAT = 20
HISTORY_OF_EXISTING_CHATS = 30
DAYS_OF_USAGE = 30

SIZES = {
    "users": USERS,
    "chats": CHATS_PER_USER,
    "messages": MESSAGES_PER_CHAT,
    "history": HISTORY_OF_EXISTING_CHATS,
    "days": DAYS_OF_USAGE,
}
SEED = [
    """INSERT INTO users (username, username_key, password_hash, date_joined, is_admin, is_active)
        SELECT 'scale' || g, 'scale' || g, NULL, now() - make_interval(mins => g), false, true
        FROM generate_series(1, :users) AS g""",
    """INSERT INTO chats (user_id, title, mode, topic, created_at, updated_at, level)
        SELECT u.id, 'Practice ' || n, CASE WHEN n % 2 = 0 THEN 'interview' ELSE 'conversation' END,
               CASE WHEN n % 2 = 0 THEN 'backend developer' ELSE '' END, now(), now(), 'intermediate'
        FROM users AS u CROSS JOIN generate_series(1, :chats) AS n
        WHERE u.username LIKE 'scale%'""",
    """INSERT INTO messages (chat_id, role, content, created_at, status, model)
        SELECT c.id, CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
               'Message ' || g || ': ' || repeat('I would like to practise my English. ', 5),
               now() - make_interval(secs => :messages - g), 'ok', 'seed'
        FROM chats AS c CROSS JOIN generate_series(1, :messages) AS g
        WHERE c.title LIKE 'Practice %'""",
    """INSERT INTO messages (chat_id, role, content, created_at, status, model)
        SELECT c.id, CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
               'Earlier message ' || g || ': ' || repeat('Could you help me with my interview? ', 5),
               now() - make_interval(secs => :history - g), 'ok', 'seed'
        FROM chats AS c CROSS JOIN generate_series(1, :history) AS g
        WHERE c.title NOT LIKE 'Practice %'""",
    """INSERT INTO quota_usage (user_id, day, used)
        SELECT u.id, current_date - d, 1 + (u.id + d) % 5
        FROM users AS u CROSS JOIN generate_series(1, :days) AS d
        WHERE u.username LIKE 'scale%'""",
]


async def seed(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in SEED:
                started = time.monotonic()
                result = await conn.execute(text(statement), SIZES)
                took = time.monotonic() - started
                print(f"{result.rowcount:>9,} rows in {took:5.1f} s: {statement.split()[2]}")
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
            counts = await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM chats),"
                    " (SELECT count(*) FROM messages)"
                )
            )
            users, chats, messages = counts.one()
            print(f"now {users:,} users, {chats:,} chats, {messages:,} messages")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="postgresql+asyncpg:// URL of a migrated chatcore database")
    asyncio.run(seed(parser.parse_args().url))


if __name__ == "__main__":
    main()

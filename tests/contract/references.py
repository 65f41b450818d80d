"""Every stored trace of a user, found generically: a table added later is inspected too.

SQL: the live schema is reflected (so a table that a migration adds without ``ON DELETE
CASCADE`` is caught even before anyone lists it anywhere): every column with a foreign key to
``users`` or to ``chats``, every column named ``user_id``, every text column holding the
user's throttling key (``user:<id>``). Memory: every row of every table of the store, looking
at ``user_id``/``chat_id`` fields (and the audit trail's ``admin_id``/``target_user_id``), users
and chats themselves, and the leading id of tuple keys and values (how the memory tables key
rows by user).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnClause, Connection, String, Text, column, inspect, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory import MemoryStore
from chatcore.model import Chat, User
from chatcore.throttling import account_key


def _sql_checks(conn: Connection, user_id: int, chat_ids: Collection[int]) -> list[str]:
    found: list[str] = []
    schema = inspect(conn)
    for name in schema.get_table_names():
        if name == "alembic_version":
            continue
        referring: dict[str, str] = {}
        for fk in schema.get_foreign_keys(name):
            for constrained in fk["constrained_columns"]:
                referring[constrained] = fk["referred_table"]
        for col in schema.get_columns(name):
            col_name = col["name"]
            target = referring.get(col_name)
            if (name == "users" and col_name == "id") or target == "users" or col_name == "user_id":
                values: Collection[object] = {user_id}
            elif (name == "chats" and col_name == "id") or target == "chats" or col_name == "chat_id":
                values = set(chat_ids)
            elif isinstance(col["type"], String | Text):
                values = {account_key(user_id)}
            else:
                continue
            if not values:
                continue
            c: ColumnClause[Any] = column(col_name)
            hits = conn.execute(select(c).select_from(table(name, c)).where(c.in_(values))).all()
            if hits:
                found.append(f"{name}.{col_name}: {len(hits)} row(s)")
    return found


async def sql_references(engine: AsyncEngine, user_id: int, chat_ids: Collection[int]) -> list[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(_sql_checks, user_id, chat_ids)


def _mentions(value: Any, user_id: int, chat_ids: Collection[int]) -> bool:
    if isinstance(value, User):
        return value.id == user_id
    if isinstance(value, Chat) and value.id in chat_ids:
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        by_user = any(fields.get(name) == user_id for name in ("user_id", "admin_id", "target_user_id"))
        return by_user or fields.get("chat_id") in chat_ids
    if isinstance(value, tuple):
        lead = value[0] if value else None
        return (
            lead == user_id if isinstance(lead, int) else any(_mentions(v, user_id, chat_ids) for v in value)
        )
    return False


def memory_references(store: MemoryStore, user_id: int, chat_ids: Collection[int]) -> list[str]:
    found: list[str] = []
    for name, rows in vars(store.tables).items():
        if name == "sequences":
            continue
        assert isinstance(rows, dict), name
        hits = [
            k for k, v in rows.items() if _mentions(k, user_id, chat_ids) or _mentions(v, user_id, chat_ids)
        ]
        if hits:
            found.append(f"{name}: {len(hits)} row(s)")
    return found

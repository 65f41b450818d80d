"""The connection a unit of work shares with its repositories, and error translation.

Database errors that are facts about the data (a unique or foreign key violation) become
:mod:`chatcore.errors` here, at the boundary; nothing from SQLAlchemy crosses a port for them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from chatcore.errors import ChatcoreError, Conflict, EmailTaken, NotFound, UsernameTaken

Upsert = postgresql.Insert | sqlite.Insert


def translate(exc: IntegrityError) -> ChatcoreError:
    """The domain fact behind a constraint violation (constraint names are in both drivers' text)."""
    message = str(exc.orig).lower()
    if "username_key" in message:
        return UsernameTaken()
    if "email_key" in message:
        return EmailTaken()
    if "foreign key" in message:
        return NotFound()
    return Conflict()


class Transaction:
    """The open connection of one unit of work; repositories run their statements through it."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.connection: AsyncConnection | None = None

    def upsert(self, table: Table) -> Upsert:
        """``INSERT`` with the dialect's ``ON CONFLICT`` clauses (same SQL on both databases)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        if self.connection is None:
            raise RuntimeError("repositories work only inside `async with unit_of_work:`")
        try:
            return await self.connection.execute(statement, parameters)
        except IntegrityError as exc:
            raise translate(exc) from exc


class Repository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

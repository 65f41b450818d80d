"""The SQL unit of work: one connection and one transaction per ``async with`` block."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.accounts import (
    SqlApiKeyRepository,
    SqlIdentityRepository,
    SqlRefreshTokenRepository,
    SqlUserRepository,
)
from adapters.sql.admin import SqlAdminQueries, SqlAuditLog
from adapters.sql.chats import SqlChatRepository, SqlIdempotencyRepository, SqlMessageRepository
from adapters.sql.engine import READ_ONLY
from adapters.sql.learning import SqlNotebookRepository, SqlScorecardRepository
from adapters.sql.oauth import SqlOAuthRepository
from adapters.sql.quota import SqlQuotaLedger
from adapters.sql.transaction import STORAGE_ERRORS, Transaction, raise_storage_error
from chatcore.ports.storage import (
    AdminQueries,
    ApiKeyRepository,
    AuditLog,
    ChatRepository,
    IdempotencyRepository,
    IdentityRepository,
    MessageRepository,
    NotebookRepository,
    OAuthRepository,
    QuotaLedger,
    RefreshTokenRepository,
    ScorecardRepository,
    UnitOfWork,
    UserRepository,
)


class SqlUnitOfWork:
    """Every storage port over one database transaction.

    The transaction starts with the first statement (on SQLite with ``BEGIN IMMEDIATE``, see
    :mod:`adapters.sql.engine`) and is rolled back on leaving the block unless ``commit()`` was
    called; statements after a ``commit()`` run in a new transaction. Read-only units of work, and
    ``one_write`` ones on PostgreSQL, run each statement on its own instead. Repositories use Core
    statements only: no ORM identity map, no flushes; most repository calls are one round trip.
    """

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False, one_write: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        # Read-only. SQLite: a deferred BEGIN, sent with the first statement, that takes no write
        # lock. PostgreSQL: no transaction at all (each SELECT sees the latest committed data, as
        # in Django's default mode), which saves the BEGIN and ROLLBACK round trips.
        # One atomic write on PostgreSQL (UnitOfWorkFactory): no transaction either; the write
        # is one statement that commits as it runs (so a failure of it leaves it in doubt), and
        # commit() has nothing left to send. On SQLite it is an ordinary writing transaction.
        # (PostgreSQL's AUTOCOMMIT is set on SQLAlchemy's connection only before a statement goes
        # through it: the hot statements go to the driver connection, where no transaction is
        # begun for them anyway; see adapters.sql.prepared.)
        postgres = engine.dialect.name == "postgresql"
        self._options: dict[str, object] | None = None
        if read_only and not postgres:
            self._options = {READ_ONLY: True}
        self._tx = tx = Transaction(engine.dialect.name)
        tx.in_doubt_on_failure = postgres and one_write and not read_only
        tx.autocommit = self._autocommit = postgres and (read_only or one_write)
        self.users: UserRepository = SqlUserRepository(tx)
        self.identities: IdentityRepository = SqlIdentityRepository(tx)
        self.oauth: OAuthRepository = SqlOAuthRepository(tx)
        self.chats: ChatRepository = SqlChatRepository(tx)
        self.messages: MessageRepository = SqlMessageRepository(tx)
        self.quota: QuotaLedger = SqlQuotaLedger(tx)
        self.refresh_tokens: RefreshTokenRepository = SqlRefreshTokenRepository(tx)
        self.api_keys: ApiKeyRepository = SqlApiKeyRepository(tx)
        self.idempotency: IdempotencyRepository = SqlIdempotencyRepository(tx)
        self.notebook: NotebookRepository = SqlNotebookRepository(tx)
        self.scorecards: ScorecardRepository = SqlScorecardRepository(tx)
        self.admin: AdminQueries = SqlAdminQueries(tx)
        self.audit: AuditLog = SqlAuditLog(tx)

    async def __aenter__(self) -> Self:
        if self._tx.connection is not None:
            raise RuntimeError("this unit of work is already open")
        try:
            connection = await self._engine.connect()
        except STORAGE_ERRORS as exc:
            raise_storage_error(exc)
        if self._options is not None:
            try:
                connection = await connection.execution_options(**self._options)
            except BaseException:  # cancelled here, the connection must still go back to the pool
                await connection.close()
                raise
        self._tx.connection = connection
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._tx.connection = self._tx.connection, None
        if connection is not None:
            # Closing rolls back whatever was not committed and returns the connection.
            await connection.close()

    async def commit(self) -> None:
        if self._tx.connection is None:
            raise RuntimeError("commit() outside `async with unit_of_work:`")
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        if self._autocommit:
            return  # each statement committed as it ran
        try:
            await self._tx.connection.commit()
        except STORAGE_ERRORS as exc:
            raise_storage_error(exc, committing=True)


class SqlUnitOfWorkFactory:
    """Hands out :class:`SqlUnitOfWork`\\ s over one engine (a ``UnitOfWorkFactory``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self, *, read_only: bool = False, one_write: bool = False) -> UnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only, one_write=one_write)

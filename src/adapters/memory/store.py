"""The in-memory store and its unit of work."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from adapters.memory import repositories as repos
from adapters.memory.admin import MemoryAdminQueries, MemoryAuditLog
from adapters.memory.tables import Tables
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
    UserRepository,
)


class MemoryStore:
    """Holds the tables; make one per application (or per test) and hand out units of work."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = asyncio.Lock()

    def unit_of_work(self, *, read_only: bool = False, one_write: bool = False) -> MemoryUnitOfWork:
        """A unit of work (every one is serialisable). A read-only one refuses to commit and
        fails loudly if it changed anything, so domain code that writes in one is caught in
        unit tests (a real database may run it without a transaction, where writes would stick).
        ``one_write`` changes nothing here: the one write is still undone without ``commit()``."""
        return MemoryUnitOfWork(self, read_only=read_only)

    __call__ = unit_of_work


class MemoryUnitOfWork:
    """Serialisable transactions: the store's lock is held from ``__aenter__`` to ``__aexit__``."""

    def __init__(self, store: MemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._snapshot: Tables | None = None
        t = store.tables
        self.users: UserRepository = repos.MemoryUserRepository(t)
        self.identities: IdentityRepository = repos.MemoryIdentityRepository(t)
        self.oauth: OAuthRepository = repos.MemoryOAuthRepository(t)
        self.chats: ChatRepository = repos.MemoryChatRepository(t)
        self.messages: MessageRepository = repos.MemoryMessageRepository(t)
        self.quota: QuotaLedger = repos.MemoryQuotaLedger(t)
        self.refresh_tokens: RefreshTokenRepository = repos.MemoryRefreshTokenRepository(t)
        self.api_keys: ApiKeyRepository = repos.MemoryApiKeyRepository(t)
        self.idempotency: IdempotencyRepository = repos.MemoryIdempotencyRepository(t)
        self.notebook: NotebookRepository = repos.MemoryNotebookRepository(t)
        self.scorecards: ScorecardRepository = repos.MemoryScorecardRepository(t)
        self.admin: AdminQueries = MemoryAdminQueries(t)
        self.audit: AuditLog = MemoryAuditLog(t)

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        self._snapshot = self._store.tables.snapshot()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._snapshot is not None:
                wrote = self._read_only and vars(self._snapshot) != vars(self._store.tables)
                self._restore(self._snapshot)
                if wrote and exc_type is None:
                    raise RuntimeError("a read-only unit of work changed the store")
        finally:
            self._snapshot = None
            self._store.lock.release()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._snapshot = self._store.tables.snapshot()

    def _restore(self, snapshot: Tables) -> None:
        tables = self._store.tables
        for name, value in vars(snapshot).items():
            setattr(tables, name, value)
        # Repositories hold the same Tables object, whose attributes were swapped in place.

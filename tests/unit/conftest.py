"""Use-case tests: the services wired to fakes and the in-memory store (no I/O)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory import MemoryAttemptLimiter, MemoryStore
from chatcore.accounts import AccountService
from chatcore.admin import AdminService
from chatcore.chats import ChatService
from chatcore.model import User
from chatcore.quota import QuotaPolicy
from chatcore.testing import FrozenClock, HmacTokens, QuickHasher, ScriptedLLM
from chatcore.tutoring import TutorService

PASSWORD = "correct horse 1"
MAX_FAILURES = 3
THROTTLE_WINDOW = timedelta(minutes=15)
REFRESH_TTL = 3600


@pytest.fixture
def llm() -> ScriptedLLM:
    """A tutor that echoes the learner unless a test pushes replies or errors into its script."""
    return ScriptedLLM()


@pytest.fixture
def policy() -> QuotaPolicy:
    return QuotaPolicy.from_names(limit=5, zone="Asia/Seoul")


@pytest.fixture
def limiter() -> MemoryAttemptLimiter:
    return MemoryAttemptLimiter(max_failures=MAX_FAILURES, window=THROTTLE_WINDOW)


@pytest.fixture
def accounts(store: MemoryStore, clock: FrozenClock, limiter: MemoryAttemptLimiter) -> AccountService:
    return AccountService(
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=HmacTokens(b"unit-test-secret"),
        clock=clock,
        limiter=limiter,
        refresh_ttl=REFRESH_TTL,
    )


@pytest.fixture
def chats(store: MemoryStore, clock: FrozenClock) -> ChatService:
    return ChatService(uow=store.unit_of_work, clock=clock)


@pytest.fixture
def tutor(
    store: MemoryStore, clock: FrozenClock, llm: ScriptedLLM, policy: QuotaPolicy, chats: ChatService
) -> TutorService:
    return TutorService(uow=store.unit_of_work, llm=llm, clock=clock, policy=policy, chats=chats)


@pytest.fixture
def admin_service(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, limiter: MemoryAttemptLimiter
) -> AdminService:
    return AdminService(uow=store.unit_of_work, clock=clock, policy=policy, limiter=limiter)


async def _register(accounts: AccountService, username: str, *, is_admin: bool = False) -> User:
    return await accounts.register(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        password2=PASSWORD,
        is_admin=is_admin,
    )


@pytest.fixture
async def alice(accounts: AccountService) -> User:
    return await _register(accounts, "alice")


@pytest.fixture
async def bob(accounts: AccountService) -> User:
    return await _register(accounts, "bob")


@pytest.fixture
async def admin(accounts: AccountService) -> User:
    return await _register(accounts, "admin", is_admin=True)

"""The composition root: the one place that picks adapters and wires the services."""

from __future__ import annotations

import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from adapters.identity import Argon2PasswordHasher, JoseTokenService
from adapters.memory import MemoryAttemptLimiter, MemoryStore
from adapters.offline_tutor import OfflineTutorGateway
from adapters.openai_llm import OpenAIGateway
from app_http.settings import ConfigError, Settings
from chatcore.accounts import AccountService
from chatcore.clock import SystemClock
from chatcore.ports import (
    AttemptLimiter,
    Clock,
    LLMGateway,
    PasswordHasher,
    TokenService,
    UnitOfWorkFactory,
)
from chatcore.quota import QuotaPolicy
from chatcore.relay import RelayService
from chatcore.service import ChatService

log = structlog.get_logger("chatcore.bootstrap")

SECRET_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)


@dataclass
class Container:
    """Everything the HTTP app needs, built once per process."""

    settings: Settings
    accounts: AccountService
    chats: ChatService
    relay: RelayService
    llm: LLMGateway
    clock: Clock
    ready: Callable[[], Awaitable[bool]]
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()


def resolve_secret_key(settings: Settings) -> str:
    """The configured secret, or one generated once and kept in the data dir (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / SECRET_FILE
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return _read_or_create_secret(path)
    except OSError as exc:
        raise ConfigError(f"Cannot use the data directory {settings.data_dir}: {exc.strerror}.") from None


def _read_or_create_secret(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if len(secret) < 32:
            raise ConfigError(
                f"The secret key file {path} is damaged; delete it to make a new one."
            ) from None
        return secret
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


def build_llm(settings: Settings) -> LLMGateway:
    """The OpenAI gateway when ``OPENAI_API_KEY`` is set, else the offline tutor (SPEC §2, §7).

    Says which in one start-up log line: the model and the upstream host, never the key.
    """
    if settings.openai_api_key:
        gateway = OpenAIGateway(
            api_key=settings.openai_api_key,
            model=settings.llm_model,
            base_url=settings.openai_base_url or None,
            timeout=settings.llm_timeout,
        )
        log.info(
            "llm_gateway",
            gateway="openai",
            model=gateway.model,
            host=gateway.base_url_host,
            timeout=settings.llm_timeout,
        )
        return gateway
    offline = OfflineTutorGateway()
    log.info("llm_gateway", gateway="offline", model=offline.model, reason="OPENAI_API_KEY is not set")
    return offline


def build_container(settings: Settings, **overrides: Any) -> Container:
    """Wire the services from ``settings``; keyword ``overrides`` replace single parts
    (``uow``, ``llm``, ``clock``, ``hasher``, ``tokens``, ``limiter``) in tests."""
    clock: Clock = overrides.get("clock") or SystemClock()
    llm: LLMGateway = overrides.get("llm") or build_llm(settings)
    store = MemoryStore()
    uow: UnitOfWorkFactory = overrides.get("uow") or store.unit_of_work
    hasher: PasswordHasher = overrides.get("hasher") or Argon2PasswordHasher()
    tokens: TokenService = overrides.get("tokens") or JoseTokenService(
        resolve_secret_key(settings), access_ttl=settings.access_token_ttl
    )
    limiter: AttemptLimiter = overrides.get("limiter") or MemoryAttemptLimiter()
    policy = QuotaPolicy.from_names(limit=settings.daily_limit, zone=settings.quota_timezone)
    accounts = AccountService(
        uow=uow,
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        limiter=limiter,
        refresh_ttl=settings.refresh_token_ttl,
    )
    chats = ChatService(uow=uow, llm=llm, clock=clock, policy=policy)
    relay = RelayService(uow=uow, llm=llm, clock=clock, policy=policy)

    async def ready() -> bool:
        return True

    return Container(
        settings=settings,
        accounts=accounts,
        chats=chats,
        relay=relay,
        llm=llm,
        clock=clock,
        ready=overrides.get("ready") or ready,
        closers=[llm.aclose],
    )


async def prepare_database(settings: Settings, *, upgrade: bool) -> None:
    """Create or upgrade the schema when ``upgrade``; otherwise refuse an outdated one.

    The in-memory store has no schema; the SQL adapter replaces this with Alembic.
    """
    del settings, upgrade

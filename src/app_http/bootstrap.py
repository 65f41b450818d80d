"""The composition root: the one place that picks adapters and wires the services."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from adapters.identity import Argon2PasswordHasher, JoseTokenService
from adapters.memory import MemoryAttemptLimiter
from adapters.oauth import GitHubOAuthProvider, KakaoOAuthProvider, OAuthClientConfig
from adapters.sql import (
    DatabaseUnreachable,
    SqlAttemptLimiter,
    SqlUnitOfWorkFactory,
    create_engine_for,
    is_up_to_date,
    ping,
    upgrade_to_head,
)
from app_http.container import Container
from app_http.metrics import MeteredLLM, Metrics
from app_http.settings import ConfigError, OAuthClientSettings, Settings
from chatcore.accounts import AccountService
from chatcore.admin import AdminService
from chatcore.chats import ChatService
from chatcore.clock import SystemClock
from chatcore.housekeeping import Housekeeping
from chatcore.learning_service import LearningService
from chatcore.model import Provider
from chatcore.oauth import OAuthService
from chatcore.ports.clock import Clock
from chatcore.ports.llm import Tutor
from chatcore.ports.oauth import OAuthProvider
from chatcore.ports.security import AttemptLimiter, PasswordHasher, TokenService
from chatcore.ports.storage import UnitOfWorkFactory
from chatcore.privacy import PrivacyService
from chatcore.quota import QuotaPolicy
from chatcore.relay import RelayService
from chatcore.throttling import Throttle, ThrottlePolicy
from chatcore.tutoring import TutorService

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("chatcore.bootstrap")

SECRET_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
READY_TIMEOUT = 2.0
"""Seconds ``/readyz`` waits for the database's ``SELECT 1``."""


def resolve_secret_key(settings: Settings) -> str:
    """The configured secret, or one generated once and kept in the data dir (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / SECRET_FILE
    make_data_dir(settings.data_dir)
    try:
        return _read_or_create_secret(path)
    except OSError as exc:
        raise ConfigError(f"Cannot use the data directory {settings.data_dir}: {exc.strerror}.") from None


def make_data_dir(path: Path) -> None:
    """Create the data dir (the secret key, the embedded database) for its owner only (0700), or
    take group's and others' access away from one that exists; raise ``ConfigError`` if not usable."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077 and info.st_uid == os.getuid():  # made by an older version, or by hand
            path.chmod(mode & 0o700)
    except OSError as exc:
        raise ConfigError(f"Cannot use the data directory {path}: {exc.strerror}.") from None


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


def build_llm(settings: Settings) -> Tutor:
    """The OpenAI gateway when ``OPENAI_API_KEY`` is set, else the offline tutor (SPEC §2, §7).

    Says which in one start-up log line: the model and the upstream host, never the key.
    """
    if settings.openai_api_key:
        # Imported here: aiohttp is 20 MB that a keyless run never needs.
        from adapters.openai_llm import OpenAIGateway

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
    # Imported here too: its rule tables are a few MB that a run with a model never needs.
    from adapters.offline_tutor import OfflineTutorGateway

    offline = OfflineTutorGateway()
    log.info("llm_gateway", gateway="offline", model=offline.model, reason="OPENAI_API_KEY is not set")
    return offline


def build_limiter(
    settings: Settings, engine: AsyncEngine | None, closers: list[Callable[[], Awaitable[None]]]
) -> AttemptLimiter:
    """Failed-login counting shared by every worker: Redis when ``CHATCORE_REDIS_URL`` is set,
    else the database (in memory only when a test brings its own storage)."""
    if settings.redis_url:
        from adapters.redis_limits import RedisAttemptLimiter

        redis_limiter = RedisAttemptLimiter.from_url(settings.redis_url)
        closers.append(redis_limiter.aclose)
        return redis_limiter
    return MemoryAttemptLimiter() if engine is None else SqlAttemptLimiter(engine)


def build_oauth_providers(settings: Settings) -> dict[Provider, OAuthProvider]:
    """The configured providers (both client id and secret set, SPEC §2), each with the redirect
    URI under ``CHATCORE_PUBLIC_URL`` that must be registered with it."""

    def config(provider: Provider, client: OAuthClientSettings) -> OAuthClientConfig:
        return OAuthClientConfig(
            client_id=client.client_id,
            client_secret=client.client_secret,
            authorize_url=client.authorize_url,
            token_url=client.token_url,
            userinfo_url=client.userinfo_url,
            redirect_uri=f"{settings.effective_public_url}/accounts/oauth/{provider.value}/callback",
            timeout=settings.oauth_timeout,
        )

    providers: dict[Provider, OAuthProvider] = {}
    if settings.github is not None:
        providers[Provider.GITHUB] = GitHubOAuthProvider(config(Provider.GITHUB, settings.github))
    if settings.kakao is not None:
        providers[Provider.KAKAO] = KakaoOAuthProvider(config(Provider.KAKAO, settings.kakao))
    return providers


def build_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    llm: Tutor | None = None,
    uow: UnitOfWorkFactory | None = None,
    hasher: PasswordHasher | None = None,
    tokens: TokenService | None = None,
    limiter: AttemptLimiter | None = None,
    ready: Callable[[], Awaitable[bool]] | None = None,
    oauth_providers: dict[Provider, OAuthProvider] | None = None,
) -> Container:
    """Wire the services from ``settings``. Each keyword replaces one part (tests bring fakes);
    what is not given is built from the settings."""
    clock = clock or SystemClock()
    metrics = Metrics()
    llm = MeteredLLM(llm or build_llm(settings), metrics)
    # The SQL database (CHATCORE_DATABASE_URL, or SQLite in the data dir) unless a test brings
    # its own storage; the engine connects lazily, prepare_database() has checked the schema.
    engine = None
    if uow is None:
        engine = create_engine_for(settings.effective_database_url)
        uow = SqlUnitOfWorkFactory(engine)
    closers: list[Callable[[], Awaitable[None]]] = [llm.aclose]
    if hasher is None:
        argon2 = Argon2PasswordHasher()
        closers.append(argon2.aclose)
        hasher = argon2
    tokens = tokens or JoseTokenService(resolve_secret_key(settings), access_ttl=settings.access_token_ttl)
    if engine is not None:
        closers.append(engine.dispose)
    if limiter is None:
        limiter = build_limiter(settings, engine, closers)
    policy = QuotaPolicy.from_names(limit=settings.daily_limit, zone=settings.quota_timezone)
    throttle_policy = ThrottlePolicy(
        address_failures=settings.login_address_limit,
        joins_per_address=settings.signup_address_limit,
        oauth_starts_per_address=settings.oauth_address_limit,
    )
    accounts = AccountService(
        uow=uow,
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        limiter=limiter,
        refresh_ttl=settings.refresh_token_ttl,
        throttle_policy=throttle_policy,
    )
    chats = ChatService(uow=uow, clock=clock)
    # The same tutor replies and gives the feedback and scorecards (SPEC §4.7).
    tutor = TutorService(uow=uow, llm=llm, clock=clock, policy=policy, chats=chats, feedback=True)
    relay = RelayService(uow=uow, llm=llm, clock=clock, policy=policy)

    async def database_answers() -> bool:
        return engine is None or await ping(engine, within=READY_TIMEOUT)

    return Container(
        settings=settings,
        accounts=accounts,
        chats=chats,
        tutor=tutor,
        relay=relay,
        privacy=PrivacyService(uow=uow, accounts=accounts, limiter=limiter, clock=clock, policy=policy),
        oauth=OAuthService(
            uow=uow,
            accounts=accounts,
            providers=build_oauth_providers(settings) if oauth_providers is None else oauth_providers,
            clock=clock,
            throttle=Throttle(limiter=limiter, clock=clock, policy=throttle_policy),
        ),
        learning=LearningService(uow=uow, coach=llm, clock=clock, policy=policy),
        admin=AdminService(uow=uow, clock=clock, policy=policy, limiter=limiter),
        llm=llm,
        clock=clock,
        ready=ready or database_answers,
        housekeeping=Housekeeping(uow=uow, limiter=limiter, clock=clock),
        metrics=metrics,
        closers=closers,
    )


async def prepare_database(settings: Settings, *, upgrade: bool) -> None:
    """Make sure the database has this code's schema (SPEC §2, §3); raise ``ConfigError`` if not.

    The embedded SQLite database (no ``CHATCORE_DATABASE_URL``) is created in the data dir and
    upgraded here. Any other database is upgraded only with ``upgrade`` (``chatcore migrate``);
    otherwise an outdated schema stops start-up with one line that says what to run.
    """
    url = settings.effective_database_url
    try:
        if settings.embedded_database:
            make_data_dir(settings.data_dir)
            await upgrade_to_head(url)
        elif upgrade:
            await upgrade_to_head(url)
        elif not await is_up_to_date(url):
            raise ConfigError("The database schema is out of date: run `chatcore migrate`.")
    except DatabaseUnreachable as exc:
        raise ConfigError(f"The database is unreachable: {exc}.") from None

"""What the HTTP app is made of: the services, built once per process by ``app_http.bootstrap``.

This module imports no adapter, so the controllers that use the services (through Litestar's
dependency injection, see ``app_http.app``) do not pull in every adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app_http.metrics import Metrics
from app_http.settings import Settings
from chatcore.accounts import AccountService
from chatcore.chats import ChatService
from chatcore.housekeeping import Housekeeping
from chatcore.learning_service import LearningService
from chatcore.oauth import OAuthService
from chatcore.ports.clock import Clock
from chatcore.ports.llm import LLMGateway
from chatcore.privacy import PrivacyService
from chatcore.relay import RelayService
from chatcore.tutoring import TutorService


@dataclass
class Container:
    """Everything the HTTP app needs, built once per process."""

    settings: Settings
    accounts: AccountService
    chats: ChatService
    tutor: TutorService
    relay: RelayService
    privacy: PrivacyService
    oauth: OAuthService
    learning: LearningService
    llm: LLMGateway
    clock: Clock
    ready: Callable[[], Awaitable[bool]]
    """``True`` when the database answers (``/readyz``)."""
    housekeeping: Housekeeping
    metrics: Metrics
    """The worker's Prometheus metrics (``GET /metrics``)."""
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()

"""The tutor port: what is sent to the LLM (``Prompt`` of ``Turn``s) and what comes back."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Literal, Protocol

from chatcore.model import (
    Mode,
)


@dataclass(frozen=True, slots=True)
class Turn:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """What is sent to the tutor: the turns (system prompt first) and the practice settings.

    ``mode`` and ``topic`` are there for tutors that do not read the system prompt (the offline
    tutor); an LLM gets them through the system prompt, where the topic is delimited as data.
    """

    turns: tuple[Turn, ...]
    mode: Mode = Mode.CONVERSATION
    topic: str = ""


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str


class LLMGateway(Protocol):
    """The tutor that writes replies. Raises only :class:`chatcore.errors.LLMError` subclasses."""

    @property
    def model(self) -> str:
        """The model name stored with replies (``offline-tutor`` for the built-in one)."""
        ...

    async def complete(self, prompt: Prompt) -> Completion:
        """The whole reply at once."""
        ...

    def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        """The reply as text deltas, in order. Closing the iterator early cancels the upstream call."""
        ...

    async def aclose(self) -> None:
        """Release connections; called once at shutdown."""
        ...

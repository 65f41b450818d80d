"""The tutor ports: what is sent to the LLM (``Prompt`` of ``Turn``s) and what comes back.

``LLMGateway`` writes the replies. ``FeedbackGateway`` assesses the learner (SPEC §4.7): the
feedback on one learner message, and the scorecard of an interview. A chat message asks both at
once: the reply streams while the feedback is obtained by a second, concurrent call, which may
fail on its own (the reply then carries no feedback).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Literal, Protocol

from chatcore.learning import Feedback, Level, Scorecard
from chatcore.model import Mode


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
    level: Level = Level.INTERMEDIATE


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


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    """What the feedback on one learner message is about.

    ``learner_text``, ``question`` (the tutor's message just before it, ``None`` at the start of
    a chat), ``mode`` and ``level`` are there for a tutor without a model (the offline one); a
    model gets them through ``turns`` (``chatcore.tutor.feedback_turns``), where the learner's
    words are delimited as data.
    """

    learner_text: str
    question: str | None
    mode: Mode
    level: Level
    turns: tuple[Turn, ...]


@dataclass(frozen=True, slots=True)
class ScorecardRequest:
    """An interview to sum up: ``exchanges`` are (tutor question, learner answer), oldest first."""

    exchanges: tuple[tuple[str, str], ...]
    topic: str
    level: Level
    turns: tuple[Turn, ...]


class FeedbackGateway(Protocol):
    """The tutor that assesses the learner. Raises only :class:`chatcore.errors.LLMError` subclasses."""

    async def feedback(self, request: FeedbackRequest) -> Feedback | None:
        """The feedback on ``request.learner_text``, or ``None`` when the model's answer was not
        valid feedback (it is never stored half-valid)."""
        ...

    async def scorecard(self, request: ScorecardRequest) -> Scorecard:
        """The scorecard of the interview. An answer that is not a valid scorecard is an
        ``LLMUpstreamError`` (the request is then given back like any upstream failure)."""
        ...


class Tutor(LLMGateway, FeedbackGateway, Protocol):
    """A tutor that both replies and assesses (every gateway this project ships)."""

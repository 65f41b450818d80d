"""The tutor ports: what is sent to the LLM (``Prompt`` of ``Turn``s) and what comes back.

``LLMGateway`` writes the replies. A chat message's ``Prompt`` carries a ``FeedbackRequest``
(SPEC §4.7): the tutor is then asked ONCE for both the reply and the feedback on the learner's
message (one upstream call per message), and gives the feedback back with the reply
(``Completion.feedback``, or a ``Feedback`` after the text deltas of ``stream``). The feedback
may be missing (``None``) while the reply is whole: the reply is never lost for it.
``FeedbackGateway`` sums up an interview in a scorecard, a call of its own.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Literal, Protocol

from chatcore.learning import Feedback, Level, Scorecard
from chatcore.model import Mode


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    """What the feedback on one learner message is about: ``learner_text`` (the last user turn
    of the prompt), ``question`` (the tutor's message just before it, ``None`` at the start of a
    chat), ``mode`` and ``level``. A model gets them through the prompt's turns and the
    instructions ``chatcore.tutor.build_prompt`` adds; the offline tutor reads them here."""

    learner_text: str
    question: str | None
    mode: Mode
    level: Level


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
    feedback: FeedbackRequest | None = None
    """When set, the tutor also gives the feedback on the learner's last message, in the same call."""


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str
    feedback: Feedback | None = None
    """The feedback asked by ``Prompt.feedback`` (not yet checked: ``chatcore.assessing.checked``);
    ``None`` when none was asked or the answer carried no valid one."""


class LLMGateway(Protocol):
    """The tutor that writes replies. Raises only :class:`chatcore.errors.LLMError` subclasses."""

    @property
    def model(self) -> str:
        """The model name stored with replies (``offline-tutor`` for the built-in one)."""
        ...

    async def complete(self, prompt: Prompt) -> Completion:
        """The whole reply at once (with its feedback when ``prompt.feedback`` asks for it)."""
        ...

    def stream(self, prompt: Prompt) -> AsyncGenerator[str | Feedback, None]:
        """The reply as text deltas (``str``), in order; when ``prompt.feedback`` asks for it and
        the answer carried valid feedback, one ``Feedback`` last, after all the text. Closing the
        iterator early cancels the upstream call."""
        ...

    async def aclose(self) -> None:
        """Release connections; called once at shutdown."""
        ...


@dataclass(frozen=True, slots=True)
class ScorecardRequest:
    """An interview to sum up: ``exchanges`` are (tutor question, learner answer), oldest first."""

    exchanges: tuple[tuple[str, str], ...]
    topic: str
    level: Level
    turns: tuple[Turn, ...]


class FeedbackGateway(Protocol):
    """The tutor that sums up an interview. Raises only :class:`chatcore.errors.LLMError` subclasses."""

    async def scorecard(self, request: ScorecardRequest) -> Scorecard:
        """The scorecard of the interview. An answer that is not a valid scorecard is an
        ``LLMUpstreamError`` (the request is then given back like any upstream failure)."""
        ...


class Tutor(LLMGateway, FeedbackGateway, Protocol):
    """A tutor that both replies (with feedback) and writes scorecards (every gateway this project ships)."""

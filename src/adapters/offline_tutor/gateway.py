"""The offline tutor gateway: a deterministic tutor that needs no network and no key (SPEC §7).

Conversation (``conversation.py``): picks up the learner's own words, reacts, asks a follow-up,
and adds one correction note for a common mistake. Interview (``interview.py``): questions from
a bank chosen by the role's keywords, one at a time, brief feedback and follow-ups that react to
the length and specifics of each answer, a closing summary when the learner says they are done.
The same prompt always gives the same reply.

It also assesses (SPEC §4.7) with the rules of ``feedback.py``: with the reply, when the prompt
asks for it, the feedback on the learner's message (the corrections of common learner mistakes
with Korean explanations, interview scores from the answer's structure); and scorecards
(``FeedbackGateway``); deterministic too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator

from adapters.offline_tutor.conversation import conversation_reply
from adapters.offline_tutor.feedback import feedback_for, scorecard_for
from adapters.offline_tutor.interview import interview_reply
from chatcore.learning import Feedback, Scorecard
from chatcore.model import Mode
from chatcore.ports.llm import Completion, Prompt, ScorecardRequest

MODEL_NAME = "offline-tutor"
_PIECE = re.compile(r"\s*\S+")


class OfflineTutorGateway:
    """The LLM port without an LLM. Replies are marked with model ``offline-tutor``."""

    @property
    def model(self) -> str:
        return MODEL_NAME

    def reply_to(self, prompt: Prompt) -> str:
        """The reply text for ``prompt`` (pure: no I/O, no randomness)."""
        if prompt.mode is Mode.INTERVIEW:
            return interview_reply(prompt, level=prompt.level)
        return conversation_reply(prompt, level=prompt.level)

    def feedback_on(self, prompt: Prompt) -> Feedback | None:
        """The feedback ``prompt`` asks for (``None`` when it asks for none); pure too."""
        request = prompt.feedback
        if request is None:
            return None
        return feedback_for(
            request.learner_text, mode=request.mode, level=request.level, question=request.question
        )

    async def complete(self, prompt: Prompt) -> Completion:
        return Completion(text=self.reply_to(prompt), model=MODEL_NAME, feedback=self.feedback_on(prompt))

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str | Feedback, None]:
        # Word by word, each piece carrying the whitespace before it, so the pieces join back
        # into exactly the text complete() returns; then the feedback, when asked for.
        for piece in _PIECE.findall(self.reply_to(prompt)):
            yield piece
        feedback = self.feedback_on(prompt)
        if feedback is not None:
            yield feedback

    async def scorecard(self, request: ScorecardRequest) -> Scorecard:
        return scorecard_for(request.exchanges, topic=request.topic, level=request.level)

    async def aclose(self) -> None:
        return None

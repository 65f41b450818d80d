"""The feedback on a learner message (SPEC §4.7), obtained beside the reply.

A chat message starts :class:`PendingFeedback` together with the reply: the two upstream calls
run at the same time, so the feedback adds to the reply's time only what it takes beyond it.
Whatever happens to the feedback (the tutor fails, times out, answers something that is not
valid feedback), the reply is stored ``ok`` with ``feedback: null``: the feedback's failure
never fails the request nor gives its quota slot back. A request that ends without a reply
cancels its feedback.
"""

from __future__ import annotations

import asyncio

from chatcore.errors import LLMError
from chatcore.learning import MAX_CORRECTIONS, Criteria, Feedback
from chatcore.model import Mode
from chatcore.ports.llm import FeedbackGateway, FeedbackRequest

SCORE_RANGE = range(101)


def checked(feedback: Feedback, request: FeedbackRequest) -> Feedback | None:
    """``feedback`` as it may be stored for ``request``, or ``None`` when it is not valid.

    At most :data:`MAX_CORRECTIONS` corrections (the first ones), none with an empty original
    or corrected text; a score only for an interview answer to a question, every number 0-100.
    """
    corrections = tuple(c for c in feedback.corrections if c.original.strip() and c.corrected.strip())
    score = feedback.score
    if request.mode is not Mode.INTERVIEW or request.question is None:
        score = None
    if score is not None and not _valid_score(score.overall, score.criteria):
        return None
    better = (feedback.better_phrasing or "").strip() or None
    return Feedback(corrections=corrections[:MAX_CORRECTIONS], better_phrasing=better, score=score)


def _valid_score(overall: int, criteria: Criteria) -> bool:
    values = (overall, criteria.relevance, criteria.structure, criteria.clarity, criteria.grammar)
    return all(isinstance(v, int) and v in SCORE_RANGE for v in values)


class PendingFeedback:
    """The feedback being obtained for one message; started at once (needs a running loop)."""

    def __init__(self, coach: FeedbackGateway, request: FeedbackRequest) -> None:
        self._task = asyncio.ensure_future(self._obtain(coach, request))

    @staticmethod
    async def _obtain(coach: FeedbackGateway, request: FeedbackRequest) -> Feedback | None:
        try:
            feedback = await coach.feedback(request)
        except LLMError:
            return None
        return None if feedback is None else checked(feedback, request)

    async def result(self) -> Feedback | None:
        """The feedback, or ``None``; may be awaited again (a retried write of the reply)."""
        return await asyncio.shield(self._task)

    def cancel(self) -> None:
        """The request ended without a reply: the feedback is not needed."""
        self._task.cancel()

"""The feedback on a learner message (SPEC §4.7), checked before it is stored with the reply.

The tutor is asked once per chat message, for the reply and the feedback together
(``chatcore.ports.llm.Prompt.feedback``). Whatever happens to the feedback (the model ignores
the JSON format, answers invalid feedback), the reply is stored ``ok`` with ``feedback: null``:
the feedback never fails the request nor gives its quota slot back.
"""

from __future__ import annotations

from chatcore.learning import MAX_CORRECTIONS, Criteria, Feedback
from chatcore.model import Mode
from chatcore.ports.llm import FeedbackRequest

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

"""The offline tutor's feedback on a learner message and its interview scorecard (SPEC §4.7).

Deterministic, like the rest of the offline tutor: the same text gives the same feedback.
Corrections come from ``corrections.py`` (at most three, most useful first, never overlapping),
scores from ``scoring.py``, the scorecard's model answer from ``model_answer.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from adapters.offline_tutor.corrections import Found, find_mistakes
from adapters.offline_tutor.model_answer import model_answer
from adapters.offline_tutor.scoring import LONG_ANSWER_WORDS, Reading, overall, read, score, score_of
from chatcore.learning import (
    MAX_CORRECTIONS,
    Correction,
    Criteria,
    Feedback,
    Level,
    ModelAnswer,
    Scorecard,
)
from chatcore.model import Mode

_LONE_I = re.compile(r"\bi\b(?!\.e\.)")
_SENTENCE_START = re.compile(r"(?:^|(?<=[.!?])\s+)([a-z])")
_ABBREVIATIONS = ("a.m.", "p.m.", "e.g.", "i.e.", "etc.", "vs.", "mr.", "mrs.", "ms.", "dr.")


def feedback_for(learner_text: str, *, mode: Mode, level: Level, question: str | None) -> Feedback:
    """The feedback on ``learner_text``: its common mistakes, the message with them fixed, and in
    interview mode, when it answers the interviewer's ``question``, its score."""
    mistakes = find_mistakes(learner_text, limit=len(learner_text))
    corrections = tuple(_correction(found, level) for found in mistakes[:MAX_CORRECTIONS])
    answer_score = None
    if mode is Mode.INTERVIEW and question is not None:
        answer_score = score(learner_text, question=question, level=level)
    return Feedback(
        corrections=corrections,
        better_phrasing=_better_phrasing(learner_text, mistakes),
        score=answer_score,
    )


def scorecard_for(exchanges: Sequence[tuple[str, str]], *, topic: str, level: Level) -> Scorecard:
    """The scorecard of an interview: ``exchanges`` are (question, answer) pairs, oldest first."""
    if not exchanges:
        raise ValueError("a scorecard needs at least one answered question")
    readings = [read(answer, question=question, level=level) for question, answer in exchanges]
    scores = [score_of(reading, level) for reading in readings]
    criteria = Criteria(
        relevance=_mean(s.criteria.relevance for s in scores),
        structure=_mean(s.criteria.structure for s in scores),
        clarity=_mean(s.criteria.clarity for s in scores),
        grammar=_mean(s.criteria.grammar for s in scores),
    )
    weakest = min(range(len(scores)), key=lambda index: scores[index].overall)
    question = exchanges[weakest][0]
    return Scorecard(
        overall=overall(criteria),
        criteria=criteria,
        strengths=tuple(_strengths(readings, criteria)[:3]),
        improvements=tuple(_improvements(readings, exchanges, criteria)[:3]),
        model_answer=ModelAnswer(question=question, answer=model_answer(question, topic=topic, level=level)),
    )


def _correction(found: Found, level: Level) -> Correction:
    rule = found.rule
    why = rule.simple if level is Level.BEGINNER and rule.simple else rule.why
    return Correction(
        original=found.wrong,
        corrected=found.right,
        explanation=why[:1].upper() + why[1:] + ".",
        explanation_ko=rule.why_ko,
    )


def _better_phrasing(text: str, mistakes: list[Found]) -> str | None:
    """``text`` with every mistake found fixed (not only the ones listed), a capital first letter
    and an ending mark; ``None`` when there was nothing to fix (a missing full stop alone is not
    worth a better phrasing)."""
    if not mistakes:
        return None
    fixed = text
    for found in sorted(mistakes, key=lambda f: f.start, reverse=True):
        fixed = fixed[: found.start] + found.right + fixed[found.end :]
    fixed = _SENTENCE_START.sub(_capital, _LONE_I.sub("I", fixed.strip()))
    if fixed and fixed[-1].isalnum():
        fixed += "."
    return fixed if fixed != text else None


def _capital(match: re.Match[str]) -> str:
    """The first letter of a sentence in capitals, unless the "sentence" ended in "a.m." or "e.g."."""
    if match.string[: match.start()].rstrip().lower().endswith(_ABBREVIATIONS):
        return match.group(0)
    return match.group(0)[:-1] + match.group(1).upper()


def _mean(values: Iterable[int]) -> int:
    numbers = list(values)
    return round(sum(numbers) / len(numbers))


def _strengths(readings: list[Reading], criteria: Criteria) -> list[str]:
    count = len(readings)
    examples = sum(1 for r in readings if "action" in r.star)
    candidates = (
        (examples > 0, f"You described what you did yourself in {examples} of {count} answers."),
        (any(r.has_number for r in readings), "You used numbers to show the result of your work."),
        (any("result" in r.star for r in readings), "You ended with a clear result."),
        (criteria.relevance >= 70, "Your answers stayed close to the questions."),
        (criteria.clarity >= 80, "Your sentences were clear and easy to follow."),
        (criteria.grammar >= 90, "Your grammar was accurate."),
    )
    found = [text for holds, text in candidates if holds]
    answered = "the question" if count == 1 else f"all {count} questions"
    fallbacks = [
        f"You answered {answered} in English.",
        "You kept going to the end of the interview, which is the best practice.",
    ]
    return (found + fallbacks)[: max(2, min(3, len(found)))]


def _improvements(
    readings: list[Reading], exchanges: Sequence[tuple[str, str]], criteria: Criteria
) -> list[str]:
    star = frozenset().union(*(r.star for r in readings))
    words = sum(r.words for r in readings) / len(readings)
    mistake = next((m for _, a in exchanges for m in find_mistakes(a, limit=1)), None)
    candidates = (
        (words < 25, "Give longer answers: four to six sentences around one real example."),
        (
            not any(r.has_number for r in readings),
            "Add a number to show the result of your work (users, percent, time saved).",
        ),
        (
            "action" not in star,
            'Say what you did yourself with strong verbs: "I led", "I built", "I decided".',
        ),
        (
            "situation" not in star,
            'Start with the situation: when and where it happened ("When I was at ...").',
        ),
        ("result" not in star, 'End with the result: "As a result, ...".'),
        (words > LONG_ANSWER_WORDS, "Keep each answer to about two minutes."),
        (any(r.fillers >= 2 for r in readings), "Use fewer filler words (um, you know, kind of)."),
        (criteria.relevance < 60, "Answer the question directly: use its key words in your first sentence."),
    )
    found = [text for holds, text in candidates if holds]
    if mistake is not None:
        found.append(f'Watch "{mistake.wrong}" → "{mistake.right}": {mistake.rule.why}.')
    fallbacks = [
        "Prepare a 60-second introduction of yourself.",
        "Prepare two questions to ask the interviewer at the end.",
    ]
    return (found + fallbacks)[: max(2, min(3, len(found)))]

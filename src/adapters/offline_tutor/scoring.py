"""Interview scores of the offline tutor, read from the shape of an answer (deterministic).

- **relevance**: the answer shares content words with the question (for "tell me about
  yourself", it talks about the speaker) and speaks from experience; "I don't know" and
  one-liners score low.
- **structure**: the cues of a STAR answer (Situation "when I was...", Task "my role was...",
  Action "I led / built / decided...", Result "as a result", "increased", "reduced"), a number
  that measures the result, a reason ("because").
- **clarity**: sentences of a listenable length, few filler words ("um", "you know"), an answer
  that is neither too short nor rambling.
- **grammar**: the common mistakes found per word; a very short answer shows little grammar, so
  its grammar score is capped.

``overall`` is the weighted mean: relevance 30 %, structure 30 %, clarity 20 %, grammar 20 %.
The level shifts what "short" means and how much a mistake costs (beginners are judged more
gently, advanced learners more strictly); the cues are the same for everyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.offline_tutor.corrections import find_mistakes
from adapters.offline_tutor.words import STOPWORDS, tokens
from chatcore.learning import Criteria, Level, Score

WEIGHTS = {"relevance": 0.3, "structure": 0.3, "clarity": 0.2, "grammar": 0.2}
LONG_ANSWER_WORDS = 180
_SHORT_WORDS = {Level.BEGINNER: 8, Level.INTERMEDIATE: 12, Level.ADVANCED: 20}
_MISTAKE_COST = {Level.BEGINNER: 300, Level.INTERMEDIATE: 400, Level.ADVANCED: 500}
"""Grammar points lost per mistake per word: one mistake in 20 words costs 15, 20 or 25."""

_STAR = {
    "situation": re.compile(
        r"\b(when i was|when we were|when i worked|at my (last|previous|current|first) (job|company|role"
        r"|team|school|internship)|in my (last|previous|current|first) (job|role|team|company|project"
        r"|internship)|last (year|month|semester|summer)|once|one time|for example|for instance"
        r"|during (my|the|a|an|our)|there was a time)\b",
        re.IGNORECASE,
    ),
    "task": re.compile(
        r"\b(my (role|task|job|goal|responsibility) (was|is)|i was (responsible|in charge|asked|tasked)"
        r"|the (goal|problem|challenge|task) was|we needed to|i needed to|i had to|our goal)\b",
        re.IGNORECASE,
    ),
    "action": re.compile(
        r"\b(i|we) (led|built|decided|designed|created|wrote|organi[sz]ed|proposed|implemented"
        r"|developed|managed|analy[sz]ed|fixed|introduced|improved|started|planned|talked|trained"
        r"|solved|set up|changed|automated|tested|launched|made|helped|asked|explained|taught)\b",
        re.IGNORECASE,
    ),
    "result": re.compile(
        r"\b(as a result|in the end|finally|so that|result(ed)? in|increased|reduced|improved"
        r"|saved|grew|cut|doubled|achieved|dropped|won|succeeded|learned|thanks to)\b",
        re.IGNORECASE,
    ),
}
_NUMBER = re.compile(
    r"\d|\b(two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|fifty|hundred|thousand"
    r"|million|percent|half|twice|double)\b",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"\b(um+|uh+|erm|hmm+|you know|i mean|kind of|sort of|basically)\b|, like,|\blike, ",
    re.IGNORECASE,
)
_REASON = re.compile(r"\b(because|since|that's why|the reason|so that|this is why)\b", re.IGNORECASE)
_NO_ANSWER = re.compile(r"\b(i don'?t know|no idea|not sure|i have no|nothing)\b", re.IGNORECASE)
_ABOUT_YOU = re.compile(r"\b(yourself|your background|introduce)\b", re.IGNORECASE)
_FIRST_PERSON = frozenset({"i", "my", "we", "our", "me", "i'm", "i've"})
_SENTENCES = re.compile(r"[^.!?]+")


@dataclass(frozen=True, slots=True)
class Reading:
    """What the scores are made of: kept so a scorecard can say why."""

    words: int
    short: float
    """How far below the level's "short" the answer is: 0 (long enough) to 1 (no words)."""
    star: frozenset[str]
    has_number: bool
    has_reason: bool
    first_person: bool
    """The answer speaks from experience: "I", "my", "we"."""
    no_answer: bool
    about_self: bool
    """The question asks about the speaker and the answer talks about the speaker."""
    fillers: int
    mistakes: int
    shared: frozenset[str]
    """The question's content words the answer uses."""
    longest_sentence: int


def read(answer: str, *, question: str, level: Level) -> Reading:
    words = tokens(answer)
    sentences = [len(s.split()) for s in _SENTENCES.findall(answer) if s.strip()]
    first_person = bool({w.lower() for w in words} & _FIRST_PERSON)
    return Reading(
        words=len(words),
        short=max(0.0, 1 - len(words) / _SHORT_WORDS[level]),
        star=frozenset(part for part, cue in _STAR.items() if cue.search(answer)),
        has_number=bool(_NUMBER.search(answer)),
        has_reason=bool(_REASON.search(answer)),
        first_person=first_person,
        no_answer=bool(_NO_ANSWER.search(answer)) and len(words) < _SHORT_WORDS[level],
        about_self=first_person and bool(_ABOUT_YOU.search(question)),
        fillers=len(_FILLER.findall(answer)),
        mistakes=len(find_mistakes(answer, limit=len(words) + 1)),
        shared=content_words(question) & content_words(answer),
        longest_sentence=max(sentences, default=0),
    )


def score(answer: str, *, question: str, level: Level) -> Score:
    """The interview score of ``answer`` to ``question``, every number from 0 to 100."""
    return score_of(read(answer, question=question, level=level), level)


def score_of(reading: Reading, level: Level) -> Score:
    criteria = Criteria(
        relevance=_relevance(reading),
        structure=_structure(reading),
        clarity=_clarity(reading),
        grammar=_grammar(reading, level),
    )
    return Score(overall=overall(criteria), criteria=criteria)


def overall(criteria: Criteria) -> int:
    return _bounded(sum(getattr(criteria, name) * weight for name, weight in WEIGHTS.items()))


def content_words(text: str) -> frozenset[str]:
    """The words that carry meaning, in a rough stem ("designed" ~ "design")."""
    return frozenset(_stem(w.lower()) for w in tokens(text) if w.lower() not in STOPWORDS and len(w) > 2)


def _stem(word: str) -> str:
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def _relevance(reading: Reading) -> int:
    if reading.words == 0 or reading.no_answer:
        return 5
    points = 40 + min(len(reading.shared) + (2 if reading.about_self else 0), 3) * 12
    if reading.first_person:
        points += 12
    if reading.star & {"situation", "action"}:
        points += 12
    return _bounded(points - 40 * reading.short)


def _structure(reading: Reading) -> int:
    if reading.no_answer:
        return 0
    points = 10 + 20 * len(reading.star) + (10 if reading.has_number else 0)
    points += 10 if reading.has_reason else 0
    return _bounded(min(points, 30) if reading.short else points)


def _clarity(reading: Reading) -> int:
    points = 100 - 8 * reading.fillers - 50 * reading.short
    if reading.longest_sentence > 45:
        points -= 30
    elif reading.longest_sentence > 30:
        points -= 15
    if reading.words > LONG_ANSWER_WORDS:
        points -= 20
    return _bounded(points)


def _grammar(reading: Reading, level: Level) -> int:
    """Points lost per mistake per word; a short answer shows little grammar, so it can only
    earn part of the score."""
    if reading.words == 0:
        return 0
    points = 100 - _MISTAKE_COST[level] * reading.mistakes / reading.words
    return _bounded(min(points, 100 - 50 * reading.short))


def _bounded(points: float) -> int:
    return max(0, min(100, round(points)))

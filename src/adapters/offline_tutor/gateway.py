"""The offline tutor gateway: a deterministic tutor that needs no network and no key (SPEC §7).

Conversation: picks up the learner's own words, reacts, asks a follow-up, and adds one
correction note for a common mistake. Interview: asks questions from a bank chosen by the
role's keywords, one at a time, with brief feedback on the length and specifics of each
answer, and a closing summary when the learner says they are done. The same input always
gives the same reply.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncGenerator

from adapters.offline_tutor.corrections import find_correction
from adapters.offline_tutor.questions import questions_for
from chatcore.model import Mode
from chatcore.ports import Completion, Prompt, Turn

MODEL_NAME = "offline-tutor"
_DONE = re.compile(r"\b(i'?m done|i am done|that'?s all|finish|end the interview|stop|quit)\b", re.I)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "so",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "about",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "my",
        "your",
        "our",
        "their",
        "me",
        "him",
        "her",
        "them",
        "this",
        "that",
        "these",
        "those",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "not",
        "no",
        "yes",
        "can",
        "could",
        "would",
        "should",
        "will",
        "just",
        "very",
        "really",
        "like",
        "what",
        "when",
        "where",
        "why",
        "how",
        "which",
        "who",
        "there",
        "here",
        "then",
        "than",
        "too",
        "also",
        "because",
        "if",
        "as",
        "from",
        "by",
        "up",
        "out",
    ]
)
_OPENERS = (
    "That sounds interesting!",
    "Thanks for sharing that.",
    "Oh, I see.",
    "Nice, I like hearing about that.",
    "That's a good point.",
)
_FOLLOW_UPS = (
    "What do you enjoy most about {topic}?",
    "How did you first get interested in {topic}?",
    "Could you tell me a bit more about {topic}?",
    "What would you like to do next with {topic}?",
    "How do people in Korea usually feel about {topic}?",
)
_GENERIC = (
    "What did you do last weekend?",
    "What kind of job would you like to have abroad?",
    "What is something you learned recently?",
    "Which city would you most like to visit, and why?",
)


def _pick(options: tuple[str, ...], seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return options[digest[0] % len(options)]


def _keyword(text: str) -> str | None:
    words = [w.strip(".,!?;:'\"()").lower() for w in text.split()]
    candidates = [w for w in words if len(w) > 3 and w.isalpha() and w not in _STOPWORDS]
    return max(candidates, key=len) if candidates else None


def _users(turns: tuple[Turn, ...]) -> list[str]:
    return [t.content for t in turns if t.role == "user"]


def _assistants(turns: tuple[Turn, ...]) -> list[str]:
    return [t.content for t in turns if t.role == "assistant"]


def conversation_reply(prompt: Prompt) -> str:
    said = _users(prompt.turns)
    last = said[-1] if said else ""
    parts = [_pick(_OPENERS, last)]
    topic = _keyword(last) or (prompt.topic or None)
    if topic:
        parts.append(f'You mentioned "{topic}".')
        parts.append(_pick(_FOLLOW_UPS, last + str(len(said))).format(topic=topic))
    else:
        parts.append("Let's keep talking. " + _pick(_GENERIC, last + str(len(said))))
    if len(last.split()) < 4:
        parts.append("Try answering in a full sentence or two: it's great practice.")
    correction = find_correction(last)
    reply = " ".join(parts)
    return f"{reply}\n\n{correction.note()}" if correction else reply


def _feedback(answer: str) -> str:
    words = answer.split()
    has_example = any(
        w.lower().strip(".,") in {"when", "example", "once", "project", "time", "because"} for w in words
    )
    has_number = any(ch.isdigit() for ch in answer)
    if len(words) < 12:
        return (
            "Feedback: that answer is quite short. Interviewers want detail: add a concrete "
            "example using Situation, Task, Action, Result."
        )
    tips = []
    tips.append(
        "Good, that answer has a clear example."
        if has_example
        else "Add a specific example to make it memorable."
    )
    tips.append(
        "Numbers make results convincing; nice use of them."
        if has_number
        else "If you can, add a number (time saved, users, percent) to show the result."
    )
    if len(words) > 180:
        tips.append("It is a little long; aim for about one to two minutes when speaking.")
    return "Feedback: " + " ".join(tips)


def interview_reply(prompt: Prompt) -> str:
    role = prompt.topic or "this position"
    bank = questions_for(prompt.topic)
    answers = _users(prompt.turns)
    asked = len(_assistants(prompt.turns))
    last = answers[-1] if answers else ""
    if _DONE.search(last) and asked > 0:
        return (
            f"Thank you, that's the end of our practice interview for {role}.\n"
            f"Summary: you answered {asked} question(s). Strengths: you stayed engaged and gave "
            "real answers. To practise: structure each answer as Situation, Task, Action, Result, "
            "and finish with the result in numbers where you can."
        )
    question = bank[min(asked, len(bank) - 1)] if asked < len(bank) else _pick(bank, last)
    correction = find_correction(last)
    if asked == 0:
        opening = f"Hello, and welcome to your practice interview for {role}. Let's begin."
        return f"{opening}\n\n{question}"
    body = f"{_feedback(last)}\n\nNext question: {question}"
    return f"{body}\n\n{correction.note()}" if correction else body


class OfflineTutorGateway:
    """The LLM port without an LLM. Replies are marked with model ``offline-tutor``."""

    @property
    def model(self) -> str:
        return MODEL_NAME

    def reply_to(self, prompt: Prompt) -> str:
        if prompt.mode is Mode.INTERVIEW:
            return interview_reply(prompt)
        return conversation_reply(prompt)

    async def complete(self, prompt: Prompt) -> Completion:
        return Completion(text=self.reply_to(prompt), model=MODEL_NAME)

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        for piece in re.findall(r"\S+\s*", self.reply_to(prompt)):
            yield piece

    async def aclose(self) -> None:
        return None

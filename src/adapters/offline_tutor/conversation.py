"""Conversation mode of the offline tutor: react to what the learner said, pick up their own
words, ask one follow-up that fits (past, plans, feelings, a question back), and add one
correction note for a common mistake. The chat's level picks the wording: short, simple
questions for beginners, more open ones for advanced learners."""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.offline_tutor.corrections import find_correction
from adapters.offline_tutor.words import pick, pick_fresh, reflect, specific_word, tokens, wordset
from chatcore.learning import Level
from chatcore.ports.llm import Prompt

_GREETING = re.compile(r"^\W*(hi|hello|hey|good (morning|afternoon|evening)|nice to meet you)\b", re.I)
_PAST = wordset("yesterday last ago went was were did had saw visited met made ate tried took bought")
_FUTURE = wordset("tomorrow next will going plan planning soon hope want")
_MOODS = {
    "That sounds tiring. I hope you can rest a bit.": wordset("tired exhausted sleepy busy"),
    "I'm sorry to hear that.": wordset("sad upset worried nervous stressed angry sick lonely"),
    "That's great to hear!": wordset("happy glad excited great amazing wonderful fun love"),
}
_OPENERS = (
    "That sounds interesting!",
    "Thanks for telling me.",
    "Oh, I see.",
    "Nice, I like hearing about that.",
    "That's a good point.",
)
_ABOUT = (
    "What do you enjoy most about {it}?",
    "How did you first get interested in {it}?",
    "What is the hardest part of {it} for you?",
    "Could you tell me a bit more about {it}?",
    "How often do you think about {it} in your daily life?",
)
_PAST_QUESTIONS = (
    "What was the best part of it?",
    "How did you feel about it afterwards?",
    "Would you do it again? Why or why not?",
    "Was anything surprising or difficult about it?",
)
_FUTURE_QUESTIONS = (
    "What are you most looking forward to?",
    "How are you preparing for it?",
    "What would make it a success for you?",
    "Is there anything you are worried about?",
)
_STARTERS = (
    "What did you do last weekend?",
    "What kind of job would you like to have one day?",
    "What is something you learned recently?",
    "Which city would you most like to visit, and why?",
    "What do you usually do to relax after a long day?",
)


@dataclass(frozen=True, slots=True)
class _Wording:
    openers: tuple[str, ...]
    about: tuple[str, ...]
    past: tuple[str, ...]
    future: tuple[str, ...]
    starters: tuple[str, ...]


_WORDING = {
    Level.BEGINNER: _Wording(
        openers=("Nice!", "Thank you for telling me.", "I see.", "Oh, good!", "That's great."),
        about=(
            "Do you like {it}?",
            "Why do you like {it}?",
            "Can you tell me more about {it}?",
            "Is {it} easy or hard for you?",
        ),
        past=("Did you like it?", "Who was with you?", "What was the best part?", "How did you feel?"),
        future=("Are you excited?", "What will you do first?", "Who will go with you?", "Are you ready?"),
        starters=(
            "What did you do today?",
            "What food do you like?",
            "What is your job?",
            "Where do you live?",
            "What do you do on weekends?",
        ),
    ),
    Level.INTERMEDIATE: _Wording(_OPENERS, _ABOUT, _PAST_QUESTIONS, _FUTURE_QUESTIONS, _STARTERS),
    Level.ADVANCED: _Wording(
        openers=_OPENERS,
        about=(
            "What drew you to {it} in the first place?",
            "How has {it} changed the way you see things?",
            "What would you tell someone who knows nothing about {it}?",
            "What do people most often misunderstand about {it}?",
        ),
        past=(
            "What made it memorable for you?",
            "Looking back, would you change anything about it?",
            "What did it teach you, if anything?",
            "How did it compare with what you had expected?",
        ),
        future=(
            "What are you hoping to get out of it?",
            "What could make it go even better than you expect?",
            "How are you preparing, practically and mentally?",
            "Which part are you least sure about, and why?",
        ),
        starters=(
            "What's something you've changed your mind about recently?",
            "If you could master one skill this year, what would it be, and why?",
            "Which city would you like to live in for a year, and what would you do there?",
            "What's a small habit that has made a big difference for you?",
        ),
    ),
}


def conversation_reply(prompt: Prompt, *, level: Level = Level.INTERMEDIATE) -> str:
    """The next reply of a friendly conversation partner, from the learner's turns alone, worded
    for the chat's ``level``."""
    said = [t.content for t in prompt.turns if t.role == "user"]
    earlier = [t.content for t in prompt.turns if t.role == "assistant"]
    last = said[-1].strip() if said else ""
    seed = f"{last}|{len(said)}"
    lowered = {w.lower() for w in tokens(last)}
    correction = find_correction(last, simple=level is Level.BEGINNER)
    wording = _WORDING[level]
    if not last or (_GREETING.match(last) and len(lowered) <= 6):
        body = _greeting(prompt.topic, seed, earlier, wording)
    elif last.endswith("?"):
        body = (
            "Good question! I'm the offline practice tutor, so I can't look things up, but I'd love "
            "to hear your view first. "
            + pick_fresh(("What do you think?", "What's your own answer?"), seed, earlier)
        )
    else:
        # Telling a sentence back would repeat its mistake: then only pick up a word from it.
        echo = _picked_word(last) if correction else _echo(last)
        parts = (_reaction(lowered, seed, wording), echo, _follow_up(last, lowered, seed, earlier, wording))
        body = " ".join(part for part in parts if part)
    if 0 < len(last.split()) < 4 and not _GREETING.match(last):
        body += " Try answering in a full sentence or two: it's great practice."
    return f"{body}\n\n{correction.note()}" if correction else body


def _greeting(topic: str, seed: str, earlier: list[str], wording: _Wording) -> str:
    if topic:
        return f"Hi! Nice to meet you. Let's talk about {topic}. What would you like to say about it first?"
    return "Hi! Nice to meet you. Let's practise some English together. " + pick_fresh(
        wording.starters, seed, earlier
    )


def _reaction(lowered: set[str], seed: str, wording: _Wording) -> str:
    for reaction, moods in _MOODS.items():
        if lowered & moods:
            return reaction
    return pick(wording.openers, seed)


def _echo(last: str) -> str:
    told_back = reflect(last)
    return f"So {told_back}." if told_back else _picked_word(last)


def _picked_word(last: str) -> str:
    word = specific_word(last)
    return f'You mentioned "{word}".' if word else ""


def _follow_up(last: str, lowered: set[str], seed: str, earlier: list[str], wording: _Wording) -> str:
    if lowered & _FUTURE or "going to" in last.lower():
        return pick_fresh(wording.future, seed, earlier)
    if lowered & _PAST:
        return pick_fresh(wording.past, seed, earlier)
    word = specific_word(last)
    if word:
        return pick_fresh([q.format(it=word) for q in wording.about], seed, earlier)
    return "Let's keep talking. " + pick_fresh(wording.starters, seed, earlier)

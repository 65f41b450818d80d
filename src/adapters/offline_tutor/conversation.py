"""Conversation mode of the offline tutor: react to what the learner said, pick up their own
words, ask one follow-up that fits (past, plans, feelings, a question back), and add one
correction note for a common mistake."""

from __future__ import annotations

import re

from adapters.offline_tutor.corrections import find_correction
from adapters.offline_tutor.words import pick, pick_fresh, reflect, specific_word, tokens, wordset
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


def conversation_reply(prompt: Prompt) -> str:
    """The next reply of a friendly conversation partner, from the learner's turns alone."""
    said = [t.content for t in prompt.turns if t.role == "user"]
    earlier = [t.content for t in prompt.turns if t.role == "assistant"]
    last = said[-1].strip() if said else ""
    seed = f"{last}|{len(said)}"
    lowered = {w.lower() for w in tokens(last)}
    correction = find_correction(last)
    if not last or (_GREETING.match(last) and len(lowered) <= 6):
        body = _greeting(prompt.topic, seed, earlier)
    elif last.endswith("?"):
        body = (
            "Good question! I'm the offline practice tutor, so I can't look things up, but I'd love "
            "to hear your view first. "
            + pick_fresh(("What do you think?", "What's your own answer?"), seed, earlier)
        )
    else:
        # Telling a sentence back would repeat its mistake: then only pick up a word from it.
        echo = _picked_word(last) if correction else _echo(last)
        parts = (_reaction(lowered, seed), echo, _follow_up(last, lowered, seed, earlier))
        body = " ".join(part for part in parts if part)
    if 0 < len(last.split()) < 4 and not _GREETING.match(last):
        body += " Try answering in a full sentence or two: it's great practice."
    return f"{body}\n\n{correction.note()}" if correction else body


def _greeting(topic: str, seed: str, earlier: list[str]) -> str:
    if topic:
        return f"Hi! Nice to meet you. Let's talk about {topic}. What would you like to say about it first?"
    return "Hi! Nice to meet you. Let's practise some English together. " + pick_fresh(
        _STARTERS, seed, earlier
    )


def _reaction(lowered: set[str], seed: str) -> str:
    for reaction, moods in _MOODS.items():
        if lowered & moods:
            return reaction
    return pick(_OPENERS, seed)


def _echo(last: str) -> str:
    told_back = reflect(last)
    return f"So {told_back}." if told_back else _picked_word(last)


def _picked_word(last: str) -> str:
    word = specific_word(last)
    return f'You mentioned "{word}".' if word else ""


def _follow_up(last: str, lowered: set[str], seed: str, earlier: list[str]) -> str:
    if lowered & _FUTURE or "going to" in last.lower():
        return pick_fresh(_FUTURE_QUESTIONS, seed, earlier)
    if lowered & _PAST:
        return pick_fresh(_PAST_QUESTIONS, seed, earlier)
    word = specific_word(last)
    if word:
        return pick_fresh([q.format(it=word) for q in _ABOUT], seed, earlier)
    return "Let's keep talking. " + pick_fresh(_STARTERS, seed, earlier)

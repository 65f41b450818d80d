"""The shape of a correction rule of the offline tutor, and small helpers to write rules with.

A rule finds a pattern and builds the natural version of the matched words, with a reason in
English (a simpler one for beginners when the plain reason is not simple already) and in Korean.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Fix = Callable[[re.Match[str]], str]
"""The natural version of the matched words, or ``""`` when this match is fine after all."""


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: re.Pattern[str]
    fix: Fix
    why: str
    why_ko: str
    simple: str = ""
    """The reason in simpler words, for beginners; empty when ``why`` is simple already."""
    fine_after: frozenset[str] = frozenset()
    """Words that make the match correct when they come just before it ("does he have")."""


def say(text: str) -> Fix:
    return lambda match: text


def swap(table: dict[str, str]) -> Fix:
    """Keep the first group and replace the second through ``table`` ("didn't went" -> "didn't go")."""
    return lambda match: f"{match.group(1)} {same_case(match.group(2), table[match.group(2).lower()])}"


def same_case(model: str, word: str) -> str:
    """``word`` with the capital first letter of ``model`` if it has one ("Went" -> "Go")."""
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


PHRASE_ENDS = (
    r"(?=\s*(?:[.,!?;:)~]|$|(?:for|about|on|from|to|with|of|and|or|but|because|so|that|which|please"
    r"|today|now|yesterday|tomorrow|is|was|are|were|i|you|he|she|we|they|it|in|at|here|there|after"
    r"|before|every|last|this|next|again|too|together|alone)\b))"
)
"""The phrase ends here (a mark or a small word follows): "a feedback." or "go to home after
work", not "a feedback loop" or "go to home page"."""


def rx(pattern: str, *, ignore_case: bool = True) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


def names(words: dict[str, str]) -> str:
    return "|".join(words)


_SOUNDS_LIKE_YOU = ("uni", "use", "usu", "uti", "eu", "one", "once")
_SILENT_H = ("hour", "honest", "honour", "honor", "heir")


_LETTERS_WITH_A_VOWEL_SOUND = "AEFHILMNORSX"
"""Letters whose names start with a vowel sound: "an MBA", "an HR manager", but "a UX designer"."""


def article(word: str) -> str:
    """The indefinite article for ``word`` by its first sound ("a university", "an hour")."""
    first = word.split(maxsplit=1)[0] if word.split() else ""
    if first.isupper() and len(first) <= 5:
        return "an" if first[:1] in _LETTERS_WITH_A_VOWEL_SOUND else "a"
    low = word.lower()
    vowel_sound = low[:1] in "aeiou" and not low.startswith(_SOUNDS_LIKE_YOU)
    return "an" if vowel_sound or low.startswith(_SILENT_H) else "a"


def following(match: re.Match[str]) -> str:
    """The text after the match, for rules that look ahead ("arrived to Seoul" -> "in")."""
    return match.string[match.end() :]

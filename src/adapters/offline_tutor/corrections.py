"""Finding common mistakes of English learners in a message: the rules of ``grammar.py`` (verb
forms), ``konglish.py`` (words made in Korea) and ``usage.py`` (articles, nouns, prepositions).

The conversation and interview replies note the first mistake only (rules are ordered by how
much the fix helps): one gentle correction at a time. The feedback on a message lists up to a
few, never overlapping. Rules err on the side of silence: a missed mistake costs little, a
wrong correction teaches something false.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from adapters.offline_tutor import grammar, konglish, usage
from adapters.offline_tutor.rules import Rule

RULES: tuple[Rule, ...] = (*grammar.RULES, *konglish.RULES, *usage.RULES)
"""Most useful first: a wrong verb form or a word English speakers would not understand before
a missing article, a preposition or a small letter "i"."""


@dataclass(frozen=True, slots=True)
class Correction:
    wrong: str
    right: str
    why: str

    def note(self) -> str:
        return f'Correction: "{self.wrong}" → "{self.right}" ({self.why}).'


@dataclass(frozen=True, slots=True)
class Found:
    """One mistake: where it is in the text, the natural version, and the rule that found it."""

    start: int
    end: int
    wrong: str
    right: str
    rule: Rule


def find_correction(text: str, *, simple: bool = False) -> Correction | None:
    """The first common mistake in ``text``, with its natural version, or ``None``; ``simple``
    gives the reason in the simpler words for beginners where the rule has them."""
    first = next(_matches(text), None)
    if first is None:
        return None
    why = first.rule.simple if simple and first.rule.simple else first.rule.why
    return Correction(wrong=first.wrong, right=first.right, why=why)


def find_mistakes(text: str, *, limit: int) -> list[Found]:
    """Up to ``limit`` mistakes in ``text`` that do not overlap, the most useful first."""
    found: list[Found] = []
    taken = bytearray(len(text))
    for candidate in _matches(text):
        if len(found) == limit:
            break
        if not any(taken[candidate.start : candidate.end]):
            found.append(candidate)
            taken[candidate.start : candidate.end] = b"\x01" * (candidate.end - candidate.start)
    return found


def _matches(text: str) -> Iterator[Found]:
    for rule in RULES:
        for match in rule.pattern.finditer(text):
            before = text[max(0, match.start() - 40) : match.start()].split()  # the word just before
            if before and before[-1].lower().strip(",;:") in rule.fine_after:
                continue
            right = rule.fix(match)
            if right and right != match.group(0):
                yield Found(match.start(), match.end(), match.group(0), right, rule)

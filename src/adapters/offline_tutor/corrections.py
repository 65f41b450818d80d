"""Common mistakes of English learners (many typical for Korean speakers), as simple rules.

Each rule finds a pattern and builds the natural version with a short reason. The tutor
reports the first match only (rules are ordered by how much the fix helps): one gentle
correction at a time. Rules err on the side of silence: a missed mistake costs little, a
wrong correction teaches something false.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from adapters.offline_tutor.words import wordset


@dataclass(frozen=True, slots=True)
class Correction:
    wrong: str
    right: str
    why: str

    def note(self) -> str:
        return f'Correction: "{self.wrong}" → "{self.right}" ({self.why}).'


Fix = Callable[[re.Match[str]], str]


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: re.Pattern[str]
    fix: Fix
    why: str
    fine_after: frozenset[str] = frozenset()
    """Words that make the match correct when they come just before it ("does he have")."""


def _say(text: str) -> Fix:
    return lambda match: text


def _swap(table: dict[str, str]) -> Fix:
    """Keep the first group and replace the second through ``table`` ("didn't went" -> "didn't go")."""
    return lambda match: f"{match.group(1)} {table[match.group(2).lower()]}"


_AUXILIARIES = wordset(
    "do does did don't doesn't didn't can could will would shall should must might may can't cannot "
    "won't wouldn't couldn't shouldn't let let's make makes made help helps helped to"
)
_THIRD = {"have": "has", "do": "does", "go": "goes", "want": "wants", "like": "likes", "make": "makes"}
_THIRD |= {"work": "works", "need": "needs", "know": "knows", "live": "lives", "study": "studies"}
_PLAIN = {third: plain for plain, third in _THIRD.items()}
_BASE = {"went": "go", "saw": "see", "came": "come", "did": "do", "had": "have", "made": "make"}
_BASE |= {"took": "take", "got": "get", "ate": "eat", "bought": "buy", "wrote": "write", "gave": "give"}
_BASE |= {"told": "tell", "said": "say", "thought": "think", "met": "meet", "found": "find"}
_FEELING = {"interesting": "interested", "exciting": "excited", "boring": "bored"}
_FEELING |= {"confusing": "confused", "tiring": "tired", "disappointing": "disappointed"}
_ING = {"see": "seeing", "meet": "meeting", "hear": "hearing", "work": "working", "talk": "talking"}
_ING |= {"visit": "visiting", "join": "joining", "start": "starting"}
_UNCOUNTABLE = "information|advice|homework|money|furniture|knowledge|equipment|luggage|baggage"
_VOWEL_WORDS = "apple|hour|honest|idea|interview|engineer|office|answer|example|event|exam|email"
_VOWEL_WORDS += "|opportunity|important|interesting|easy|old|umbrella|architect|artist|actor"
_SINGULAR = {"informations": "information", "advices": "advice", "homeworks": "homework"}
_SINGULAR |= {"furnitures": "furniture", "knowledges": "knowledge", "equipments": "equipment"}

_JOBS = "developer|engineer|student|teacher|designer|nurse|doctor|manager|programmer|analyst"
_JOBS += "|accountant|consultant|intern|researcher|scientist|architect|marketer|lawyer"
_NO_ARTICLE = r"(?!(?:a|an|the|my|your|his|her|our|their|not|also|now|still|very|so|really)\b)"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _rx(pattern: str, *, ignore_case: bool = True) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


def _names(words: dict[str, str]) -> str:
    return "|".join(words)


RULES: tuple[Rule, ...] = (
    Rule(_rx(r"\b(?:i am|i'm) agree\b"), _say("I agree"), "'agree' is a verb, so no 'am'"),
    Rule(
        _rx(rf"\b(i am|i'm|i was|i feel)((?: so| very| really)?) ({_names(_FEELING)})\b"),
        lambda m: f"{m.group(1)}{m.group(2)} {_FEELING[m.group(3).lower()]}",
        "'-ed' says how you feel; '-ing' describes what makes you feel that way",
    ),
    Rule(
        _rx(rf"\b(i am|i'm|he is|she is|he's|she's) {_NO_ARTICLE}((?:[a-z-]+ )?)({_JOBS})\b"),
        lambda m: f"{m.group(1)} {_article(m.group(2) or m.group(3))} {m.group(2)}{m.group(3)}",
        "a job title needs 'a' or 'an'",
    ),
    Rule(_rx(r"\binteresting in\b"), _say("interested in"), "you are 'interested in' something"),
    Rule(
        _rx(r"\b(discuss|discussed|discusses|discussing) about\b"),
        lambda m: m.group(1),
        "'discuss' takes no 'about'",
    ),
    Rule(_rx(r"\bexplain me\b"), _say("explain to me"), "we explain something to someone"),
    Rule(
        _rx(r"\bmore (better|worse|easier|bigger|faster|cheaper|smaller)\b"),
        lambda m: m.group(1),
        "this word is already comparative",
    ),
    Rule(_rx(r"\bcan able to\b"), _say("can / am able to"), "use one of them, not both"),
    Rule(
        _rx(rf"\b(didn't|did not) ({_names(_BASE)})\b"),
        _swap(_BASE),
        "after 'didn't' use the base form of the verb",
    ),
    Rule(
        _rx(r"\b(he|she|it) don't\b"),
        lambda m: f"{m.group(1)} doesn't",
        "he, she and it take 'doesn't'",
    ),
    Rule(
        _rx(rf"\b(he|she|it) ({_names(_THIRD)})\b"),
        _swap(_THIRD),
        "with he, she or it the verb takes -s",
        fine_after=_AUXILIARIES,
    ),
    Rule(
        _rx(rf"\b(i|you|we|they) ({_names(_PLAIN)})\b"),
        _swap(_PLAIN),
        "with I, you, we or they the verb has no -s",
        fine_after=frozenset({"what", "which"}),
    ),
    Rule(
        _rx(r"\b(go|goes|going|went|come|comes|coming|came|get|got) to (home|abroad)\b"),
        lambda m: f"{m.group(1)} {m.group(2)}",
        "'home' and 'abroad' need no 'to'",
    ),
    Rule(_rx(r"\bmarried with\b"), _say("married to"), "we say 'married to' someone"),
    Rule(
        _rx(
            r"\bsince ((?:\d+|two|three|four|five|six|seven|eight|nine|ten|a few|many) "
            r"(?:years?|months?|weeks?|days?|hours?))\b(?! ago)"
        ),
        lambda m: f"for {m.group(1)}",
        "'for' goes with a length of time; 'since' with a starting point",
    ),
    Rule(
        _rx(rf"\b(look(?:ing)? forward to) ({_names(_ING)})\b"),
        _swap(_ING),
        "'look forward to' is followed by the -ing form",
    ),
    Rule(
        _rx(rf"\bmany ({_UNCOUNTABLE})\b"),
        lambda m: f"much {m.group(1)}",
        "this noun is uncountable: use 'much' or 'a lot of'",
    ),
    Rule(
        _rx(rf"\b({_names(_SINGULAR)})\b"),
        lambda m: _SINGULAR[m.group(1).lower()],
        "this noun has no plural",
    ),
    Rule(
        _rx(rf"\ba ({_VOWEL_WORDS})\b"),
        lambda m: f"an {m.group(1)}",
        "'an' before a vowel sound",
    ),
    Rule(
        _rx(r"\bvery (enjoy|like|love|want)\b"),
        lambda m: f"really {m.group(1)}",
        "'very' cannot modify a verb",
    ),
    Rule(
        _rx(r"\b(return|returned|returns) back\b"), lambda m: m.group(1), "'return' already means 'go back'"
    ),
    Rule(_rx(r"\bi\b(?!\.e\.)", ignore_case=False), _say("I"), "'I' is always a capital letter"),
)


def find_correction(text: str) -> Correction | None:
    """The first common mistake in ``text``, with its natural version, or ``None``."""
    for rule in RULES:
        for match in rule.pattern.finditer(text):
            before = text[: match.start()].split()
            if before and before[-1].lower().strip(",;:") in rule.fine_after:
                continue
            return Correction(wrong=match.group(0), right=rule.fix(match), why=rule.why)
    return None

"""Common mistakes of English learners (many typical for Korean speakers), as simple rules.

Each rule finds a pattern and offers the natural version with a short reason. The tutor
reports the first match only: one gentle correction at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Correction:
    wrong: str
    right: str
    why: str

    def note(self) -> str:
        return f'Correction: "{self.wrong}" → "{self.right}" ({self.why}).'


_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"\b(i am|i'm) agree\b", re.I), "I agree", "'agree' is a verb, so no 'am'"),
    (re.compile(r"\bdiscuss about\b", re.I), "discuss", "'discuss' takes no 'about'"),
    (re.compile(r"\bexplain me\b", re.I), "explain to me", "we explain something to someone"),
    (re.compile(r"\bmore better\b", re.I), "better", "'better' is already comparative"),
    (
        re.compile(r"\b(he|she|it) (have|do|go|want|like|make|work)\b", re.I),
        "",
        "third person singular",
    ),
    (
        re.compile(r"\b(i|you|we|they) (has|does|goes|wants|likes)\b", re.I),
        "",
        "subject-verb agreement",
    ),
    (re.compile(r"\bcan able to\b", re.I), "can / am able to", "use one of them, not both"),
    (
        re.compile(r"\bdidn't (went|saw|came|did|had|made|took)\b", re.I),
        "",
        "after 'didn't' use the base form",
    ),
    (
        re.compile(r"\ba (apple|hour|honest|idea|interview|engineer|office|answer)\b", re.I),
        "",
        "'an' before a vowel sound",
    ),
    (
        re.compile(r"\bmany (information|advice|homework|money|furniture)\b", re.I),
        "",
        "this noun is uncountable: use 'much' or 'a lot of'",
    ),
    (
        re.compile(r"\b(informations|advices|homeworks|furnitures)\b", re.I),
        "",
        "this noun has no plural",
    ),
    (re.compile(r"\bvery (enjoy|like|want)\b", re.I), "", "'very' cannot modify a verb"),
    (re.compile(r"(^|[.!?]\s+)i\b"), "I", "'I' is always a capital letter"),
)

_BASE_FORMS = {
    "went": "go",
    "saw": "see",
    "came": "come",
    "did": "do",
    "had": "have",
    "made": "make",
    "took": "take",
}
_THIRD = {
    "have": "has",
    "do": "does",
    "go": "goes",
    "want": "wants",
    "like": "likes",
    "make": "makes",
    "work": "works",
}
_PLAIN = {v: k for k, v in _THIRD.items()}
_SINGULAR = {
    "informations": "information",
    "advices": "advice",
    "homeworks": "homework",
    "furnitures": "furniture",
}


def _fix(match: re.Match[str], template: str) -> str:
    text = match.group(0)
    words = text.split()
    lower = [w.lower() for w in words]
    if template:
        return template
    if lower[0] in {"he", "she", "it"}:
        return f"{words[0]} {_THIRD[lower[1]]}"
    if lower[0] in {"i", "you", "we", "they"}:
        return f"{words[0]} {_PLAIN[lower[1]]}"
    if lower[0] == "didn't":
        return f"didn't {_BASE_FORMS[lower[1]]}"
    if lower[0] == "a":
        return f"an {words[1]}"
    if lower[0] == "many":
        return f"much {words[1]}"
    if lower[0] == "very":
        return f"really {words[1]}"
    if lower[0] in _SINGULAR:
        return _SINGULAR[lower[0]]
    return text


def find_correction(text: str) -> Correction | None:
    """The first common mistake in ``text``, with its natural version, or ``None``."""
    for pattern, template, why in _RULES:
        match = pattern.search(text)
        if match:
            wrong = match.group(0).strip(" .!?")
            right = _fix(match, template).strip(" .!?") if template != "I" else "I"
            if template == "I":
                wrong = "i"
            return Correction(wrong=wrong, right=right, why=why)
    return None

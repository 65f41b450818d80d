"""Small text helpers of the offline tutor: deterministic choice, picking up the learner's words."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence


def wordset(text: str) -> frozenset[str]:
    """A set of words written as one space-separated string."""
    return frozenset(text.split())


STOPWORDS = wordset(
    "a an the and or but so to of in on at for with about is are was were be been being am i you he "
    "she it we they my your our their me him her them this that these those do does did have has had "
    "not no yes can could would should will just very really like what when where why how which who "
    "there here then than too also because if as from by up out into over some any all much many more "
    "most lot lots thing things something anything everything get got go went going gone come came "
    "make made want wanted think thought know knew feel felt good great nice fine okay ok well maybe "
    "today yesterday tomorrow now time times day days week weeks year years usually often always "
    "sometimes never again still even only really actually pretty quite kind sort little bit people "
    "person love loved enjoy enjoyed hello thanks thank please sure i'm it's don't didn't i've i'd "
    "let's that's there's can't won't doesn't isn't wasn't ago last next after before while during"
)
DETERMINERS = wordset("the a an my our your his her their this that these those some")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'+#.-]*[A-Za-z0-9+#]|[A-Za-z]")


def pick(options: Sequence[str], seed: str) -> str:
    """One of ``options``, the same one for the same ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def pick_fresh(options: Sequence[str], seed: str, avoid: Iterable[str]) -> str:
    """Like :func:`pick`, but skipping options that already appear in ``avoid`` (earlier replies)."""
    said = " ".join(avoid)
    start = options.index(pick(options, seed))
    for offset in range(len(options)):
        option = options[(start + offset) % len(options)]
        if option not in said:
            return option
    return options[start]


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def specific_word(text: str) -> str | None:
    """The word a listener would pick up: a name or term, else a noun after "my/the/a", else the
    longest uncommon word. ``None`` when the text has nothing specific."""
    matches = list(_TOKEN.finditer(text))
    words = [m.group(0) for m in matches]
    lowered = [w.lower() for w in words]
    for match, word in zip(matches, words, strict=True):
        starts_sentence = not text[: match.start()].strip() or text[: match.start()].rstrip()[-1] in ".!?"
        named = word[0].isupper() and not starts_sentence and word.lower() not in STOPWORDS
        if named or (any(ch.isdigit() for ch in word) and len(word) > 1):
            return word
    for index, word in enumerate(lowered[:-1]):
        phrase = []
        for follower in words[index + 1 : index + 3]:
            if follower.lower() in STOPWORDS or len(follower) < 3:
                break
            phrase.append(follower)
        if word in DETERMINERS and phrase:
            return " ".join(phrase)  # "my job interview" -> "job interview"
    candidates = [w for w, low in zip(words, lowered, strict=True) if len(w) > 3 and low not in STOPWORDS]
    return max(candidates, key=len) if candidates else None


_REFLECT = {
    "i": "you",
    "i'm": "you're",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "am": "are",
    "we": "you",
    "our": "your",
    "us": "you",
}


def reflect(text: str, *, max_words: int = 14) -> str | None:
    """The learner's first sentence told back to them ("I went to my hometown" -> "you went to
    your hometown"), or ``None`` if it does not start with I/my/we or is long."""
    first = re.split(r"(?<=[.!?])\s+", text.strip())[0].rstrip(".!?")
    words = first.split()
    lowered = {w.lower().strip(",;:") for w in words}
    if (
        not 3 <= len(words) <= max_words
        or words[0].lower() not in {"i", "i'm", "i've", "my", "we"}
        or lowered & {"you", "your", "you're", "yours"}
    ):
        return None  # "you" would have to become "I", and the verbs with it: not worth the risk
    out: list[str] = []
    for index, word in enumerate(words):
        low = word.lower()
        if low == "was" and index > 0 and words[index - 1].lower() == "i":
            out.append("were")
        else:
            out.append(_REFLECT.get(low, word if index else low))
    return " ".join(out)

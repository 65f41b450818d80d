"""Grammar rules of the offline tutor: verb forms, agreement and tense, the mistakes English
learners (Korean speakers among them) make most, most useful first."""

from __future__ import annotations

import re

from adapters.offline_tutor.rules import Rule, following, names, rx, same_case, say, swap
from adapters.offline_tutor.words import wordset


def _third(plain: str) -> str:
    """The he/she/it form of a verb ("go" -> "goes", "study" -> "studies")."""
    if plain == "have":
        return "has"
    if plain.endswith(("s", "sh", "ch", "x", "o")):
        return plain + "es"
    if plain.endswith("y") and plain[-2:-1] not in "aeiou":
        return plain[:-1] + "ies"
    return plain + "s"


_PAST = {"go": "went", "eat": "ate", "meet": "met", "buy": "bought", "have": "had", "do": "did"}
_PAST |= {"come": "came", "take": "took", "make": "made", "get": "got", "leave": "left", "sleep": "slept"}
_PAST |= {"drink": "drank", "give": "gave", "write": "wrote", "watch": "watched", "play": "played"}
_PAST |= {"study": "studied", "visit": "visited", "work": "worked", "stay": "stayed", "cook": "cooked"}
_PAST |= {"walk": "walked", "call": "called", "start": "started", "finish": "finished", "move": "moved"}
_PAST |= {"travel": "travelled", "arrive": "arrived", "enjoy": "enjoyed", "see": "saw"}
_PAST |= {_third(plain): past for plain, past in list(_PAST.items())}
_BE_PAST = {
    "am": "was",
    "is": "was",
    "are": "were",
    "don't": "didn't",
    "doesn't": "didn't",
    "can't": "couldn't",
}
_ACTIONS = {verb: past for verb, past in _PAST.items() if verb not in {"have", "has", "see", "sees"}}
"""Verbs that name one finished action ("I go to Busan last week"); not "have", "see" or
verbs of thinking, which often start a new clause ("I see he left yesterday")."""

_VERBS = "have do go want like make work need know live study eat play watch come get take think "
_VERBS += (
    "feel look try teach speak drink cook walk use sleep enjoy call start finish love hate miss say tell "
)
_VERBS += "give write"
_THIRD = {plain: _third(plain) for plain in _VERBS.split()}
_PLAIN = {third: plain for plain, third in _THIRD.items()}
_BASE = {"went": "go", "saw": "see", "came": "come", "did": "do", "had": "have", "made": "make"}
_BASE |= {"took": "take", "got": "get", "ate": "eat", "bought": "buy", "wrote": "write", "gave": "give"}
_BASE |= {"told": "tell", "said": "say", "thought": "think", "met": "meet"}
_BASE |= {third: plain for plain, third in _THIRD.items() if plain not in {"do", "go", "have"}}
_BASE |= {"goes": "go", "has": "have", "does": "do"}
"""Not "found" ("we will found a company" is right)."""
_FEELING = {"interesting": "interested", "exciting": "excited", "boring": "bored"}
_FEELING |= {"confusing": "confused", "tiring": "tired", "disappointing": "disappointed"}
_FEELING |= {"surprising": "surprised", "embarrassing": "embarrassed", "frustrating": "frustrated"}
_FEELING |= {"satisfying": "satisfied", "shocking": "shocked", "depressing": "depressed"}
_ING = {"see": "seeing", "meet": "meeting", "hear": "hearing", "work": "working", "talk": "talking"}
_ING |= {"visit": "visiting", "join": "joining", "start": "starting", "go": "going", "get": "getting"}

_BEFORE_PLAIN_VERB = wordset(
    "do does did don't doesn't didn't can could will would shall should must might may can't cannot "
    "won't wouldn't couldn't shouldn't let let's make makes made help helps helped to "
    "see saw watch watched hear heard feel felt notice noticed have had that suggest suggested "
    "recommend recommended insist insisted watching seeing hearing helping letting making "
    "having noticing"
)
"""After these, "he go" is right ("does he go", "let it go", "I suggest that he go")."""
_FAMILY = "mother|father|mom|dad|mum|brother|sister|friend|boss|wife|husband|son|daughter|teacher"
_FAMILY += "|manager|girlfriend|boyfriend|grandmother|grandfather|roommate|cousin"
_PAST_TIME = (
    r"yesterday|last (?:night|week|weekend|month|year|summer|winter|spring|autumn|fall|semester"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|(?:a|an|one|two|three|four|five|six|\d+|a few|a couple of) (?:days?|weeks?|months?|years?|hours?) ago"
)
_NEW_CLAUSE = (
    r"and|but|because|so|when|if|every|usually|always|often|sometimes|will|now|today|since|until|till"
    r"|from|before|after|while|who|that|which|i|you|he|she|we|they|tomorrow|next|as|than|like|same"
    r"|of|about|compared|unlike|including|except|instead"
)
_PAST_PARTICIPLE = (
    r"been|done|gone|had|made|met|got|bought|brought|thought|taught|caught|felt|left|lost|kept|spent"
    r"|sent|heard|built|paid|read|run|begun|drunk|won|found|held|told|said|sold|slept|stood|become"
    r"|come|\w+(?:ed|en|wn|ne)"
)


def _to_past(start: str, verb: str, after: str, before: str) -> str:
    """ "Yesterday I go" -> "Yesterday I went"; the same words when a past participle follows
    ("last year I have been"): that needs a rewrite this rule cannot make."""
    low = verb.lower()
    if low in ("have", "has") and rx(rf"^ (?:{_PAST_PARTICIPLE})\b").match(after):
        return ""
    if rx(r"\b(?:since|until|till|from)\s*$").search(before):
        return ""  # "since yesterday I have..." is right
    return f"{start} {same_case(verb, _PAST.get(low) or _BE_PAST[low])}"


def _base_after_modal(match: re.Match[str]) -> str:
    """ "can speaks" -> "can speak"; silence for "May has 31 days" or "Will likes tea" (names)."""
    modal = match.group(1)
    if modal[:1].isupper() and modal.lower() in ("may", "will", "can", "must", "might"):
        return ""
    return f"{modal} {same_case(match.group(2), _BASE[match.group(2).lower()])}"


RULES: tuple[Rule, ...] = (
    Rule(
        rx(rf"\b((?:{_PAST_TIME}),? (?:i|we|they|he|she|you)) ({names(_PAST)}|{names(_BE_PAST)})\b"),
        lambda m: _to_past(m.group(1), m.group(2), following(m), m.string[: m.start()]),
        "this happened in the past, so the verb takes the past form",
        "과거에 일어난 일(yesterday, last week, ~ ago)이라서 동사를 과거형으로 써요.",
        simple="it is in the past: use the past form",
    ),
    Rule(
        rx(
            rf"\b(i|we|they|he|she) ({names(_ACTIONS)})\b(?=(?:(?!\b(?:{_NEW_CLAUSE})\b)[^.,;:!?])*?"
            rf"\b(?:{_PAST_TIME})\b(?!'s))"
        ),
        lambda m: f"{m.group(1)} {_ACTIONS[m.group(2).lower()]}",
        "this happened in the past, so the verb takes the past form",
        "과거에 일어난 일(yesterday, last week, ~ ago)이라서 동사를 과거형으로 써요.",
        simple="it is in the past: use the past form",
        fine_after=_BEFORE_PLAIN_VERB,
    ),
    Rule(
        rx(r"\b(i am|i'm) not agree\b"),
        lambda m: same_case(m.group(1), "I don't agree"),
        "'agree' is a verb: say 'I don't agree'",
        "'agree'는 동사라서 부정할 때 'am not'이 아니라 'don't'를 써요: 'I don't agree'.",
    ),
    Rule(
        rx(r"\b(i am|i'm) agree\b"),
        lambda m: same_case(m.group(1), "I agree"),
        "'agree' is a verb, so no 'am'",
        "'agree'는 동사라서 'am' 없이 'I agree'라고 해요.",
    ),
    Rule(
        rx(
            rf"\b(i am|i'm|i was|i feel|i felt|we are|we're|we were)((?: so| very| really| not| a bit"
            rf"| a little| quite)?) ({names(_FEELING)})\b"
        ),
        lambda m: f"{m.group(1)}{m.group(2)} {_FEELING[m.group(3).lower()]}",
        "'-ed' says how you feel; '-ing' describes what makes you feel that way",
        "-ed는 내가 느끼는 감정, -ing는 그 감정을 주는 대상을 말해요. "
        "'I'm bored'는 '나는 지루해요', 'I'm boring'은 '나는 지루한 사람이에요'라는 뜻이에요.",
        simple="use '-ed' for how you feel",
    ),
    Rule(
        rx(r"\binteresting in\b"),
        say("interested in"),
        "you are 'interested in' something",
        "'~에 관심이 있다'는 'interested in'이라고 해요.",
    ),
    Rule(
        rx(r"\b(i am|i'm) (work|live|study|want|need|know|have|go|think)(?![\w'-])"),
        lambda m: f"{same_case(m.group(1), 'I')} {m.group(2)}",
        "with a verb like 'work' or 'live', say 'I work', not 'I am work'",
        "'work', 'live' 같은 동사 앞에는 'am'을 쓰지 않아요: 'I work at ...'. "
        "지금 하는 중이라면 'I'm working'처럼 -ing를 써요.",
        simple="say 'I work', not 'I am work'",
    ),
    Rule(
        rx(r"\b(can|can't|cannot) able to\b"),
        lambda m: m.group(1),
        "'can' and 'be able to' mean the same: use one of them",
        "'can'과 'be able to'는 같은 뜻이라 둘 중 하나만 써요.",
    ),
    Rule(
        rx(
            rf"\b(didn't|did not|doesn't|does not|don't|do not|can|could|can't|cannot|will|won't"
            rf"|would|should|must|might|may) ({names(_BASE)})\b"
        ),
        _base_after_modal,
        "after 'do', 'did' or a word like 'can' and 'will', use the base form of the verb",
        "do/does/did나 can, will 같은 조동사 뒤에는 동사원형을 써요.",
        simple="after this word, use the simple verb",
        fine_after=wordset("the a an his her my your their our free own good"),
    ),
    Rule(
        rx(r"\b(he|she|it) don't\b"),
        lambda m: f"{m.group(1)} doesn't",
        "he, she and it take 'doesn't'",
        "주어가 he, she, it이면 'don't' 대신 'doesn't'를 써요.",
    ),
    Rule(
        rx(rf"\b(he|she|it) ({names(_THIRD)})\b"),
        swap(_THIRD),
        "with he, she or it the verb takes -s",
        "주어가 he, she, it이면 현재형 동사에 -s(-es)를 붙여요.",
        fine_after=_BEFORE_PLAIN_VERB,
    ),
    Rule(
        rx(rf"\b((?:my|his|her|our|your|their) (?:{_FAMILY})) ({names(_THIRD)})\b"),
        swap(_THIRD),
        "with one person as the subject the verb takes -s",
        "주어가 한 사람(my mother, my friend 등)이면 현재형 동사에 -s(-es)를 붙여요.",
        fine_after=_BEFORE_PLAIN_VERB | {"and", "or", "nor", "&"},
    ),
    Rule(
        rx(rf"\b(i|you|we|they) ({names(_PLAIN)})\b"),
        swap(_PLAIN),
        "with I, you, we or they the verb has no -s",
        "주어가 I, you, we, they이면 동사에 -s를 붙이지 않아요.",
        fine_after=frozenset({"what", "which"}),
    ),
    Rule(
        rx(
            r"\b(i am|i'm|i was|i feel|i felt|he is|she is)((?: so| very| really| a bit| a little)?) stress\b"
        ),
        lambda m: f"{m.group(1)}{m.group(2)} stressed",
        "to say how you feel, use 'stressed'",
        "'스트레스를 받았다'는 형용사 'stressed'를 써요: 'I'm stressed'.",
    ),
    Rule(
        rx(
            r"\bsince ((?:\d+|two|three|four|five|six|seven|eight|nine|ten|a few|many) "
            r"(?:years?|months?|weeks?|days?|hours?))\b(?! ago)"
        ),
        lambda m: f"for {m.group(1)}",
        "'for' goes with a length of time; 'since' with a starting point",
        "기간(3년 동안) 앞에는 'for', 시작 시점(2019년부터) 앞에는 'since'를 써요.",
    ),
    Rule(
        rx(rf"\b(look(?:ing)? forward to) ({names(_ING)})\b"),
        swap(_ING),
        "'look forward to' is followed by the -ing form",
        "'look forward to'의 'to'는 전치사라서 뒤에 동사의 -ing 형태가 와요.",
    ),
    Rule(
        rx(
            r"\bmore (better|worse|easier|bigger|faster|cheaper|smaller|happier|harder|taller|shorter|older"
            r"|younger|higher|lower|larger|longer|stronger|busier|prettier|nicer|warmer|colder|hotter)\b"
        ),
        lambda m: m.group(1),
        "this word is already comparative",
        "이 단어는 이미 비교급이라서 'more'를 붙이지 않아요.",
    ),
    Rule(
        rx(r"\bvery (enjoy|like|love|want|hate|enjoyed|liked|loved|wanted|hated)\b"),
        lambda m: f"really {m.group(1)}",
        "'very' cannot describe a verb: say 'really' (or 'very much' after it)",
        "'very'는 동사를 꾸밀 수 없어요. 'really like'나 'like ... very much'라고 해요.",
        simple="say 'really like', not 'very like'",
    ),
)

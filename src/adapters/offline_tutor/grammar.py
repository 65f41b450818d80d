"""Grammar rules of the offline tutor: common mistakes of English learners, many typical for
Korean speakers (verb forms, agreement, articles, countable nouns), most useful first."""

from __future__ import annotations

from adapters.offline_tutor.rules import Rule, article, names, rx, same_case, say, swap
from adapters.offline_tutor.words import wordset

_AUXILIARIES = wordset(
    "do does did don't doesn't didn't can could will would shall should must might may can't cannot "
    "won't wouldn't couldn't shouldn't let let's make makes made help helps helped to "
    "see saw watch watched hear heard feel felt notice noticed have had"
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

RULES: tuple[Rule, ...] = (
    Rule(
        rx(r"\b(i am|i'm) agree\b"),
        lambda m: same_case(m.group(1), "I agree"),
        "'agree' is a verb, so no 'am'",
        "'agree'는 동사라서 'am' 없이 'I agree'라고 해요.",
    ),
    Rule(
        rx(rf"\b(i am|i'm|i was|i feel)((?: so| very| really)?) ({names(_FEELING)})\b"),
        lambda m: f"{m.group(1)}{m.group(2)} {_FEELING[m.group(3).lower()]}",
        "'-ed' says how you feel; '-ing' describes what makes you feel that way",
        "-ed는 내가 느끼는 감정, -ing는 그 감정을 주는 대상을 말해요. "
        "'I'm bored'는 '나는 지루해요', 'I'm boring'은 '나는 지루한 사람이에요'라는 뜻이에요.",
        simple="use '-ed' for how you feel",
    ),
    Rule(
        rx(rf"\b(i am|i'm|he is|she is|he's|she's) {_NO_ARTICLE}((?:[a-z-]+ )?)({_JOBS})\b"),
        lambda m: f"{m.group(1)} {article(m.group(2) or m.group(3))} {m.group(2)}{m.group(3)}",
        "a job title needs 'a' or 'an'",
        "직업 이름 앞에는 'a'나 'an'을 붙여요.",
    ),
    Rule(
        rx(r"\binteresting in\b"),
        say("interested in"),
        "you are 'interested in' something",
        "'~에 관심이 있다'는 'interested in'이라고 해요.",
    ),
    Rule(
        rx(r"\b(discuss|discussed|discusses|discussing) about\b"),
        lambda m: m.group(1),
        "'discuss' takes no 'about'",
        "'discuss'에 이미 '~에 대해 이야기하다'라는 뜻이 있어서 'about'을 붙이지 않아요.",
    ),
    Rule(
        rx(r"\bexplain me\b"),
        say("explain to me"),
        "we explain something to someone",
        "'explain'은 '누구에게'를 말할 때 'to'가 필요해요: 'explain it to me'.",
    ),
    Rule(
        rx(r"\bmore (better|worse|easier|bigger|faster|cheaper|smaller)\b"),
        lambda m: m.group(1),
        "this word is already comparative",
        "이 단어는 이미 비교급이라서 'more'를 붙이지 않아요.",
    ),
    Rule(
        rx(r"\bcan able to\b"),
        say("can"),
        "'can' and 'be able to' mean the same: use one of them",
        "'can'과 'be able to'는 같은 뜻이라 둘 중 하나만 써요.",
    ),
    Rule(
        rx(rf"\b(didn't|did not) ({names(_BASE)})\b"),
        swap(_BASE),
        "after 'didn't' use the base form of the verb",
        "'didn't' 뒤에는 동사원형을 써요.",
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
        fine_after=_AUXILIARIES,
    ),
    Rule(
        rx(rf"\b(i|you|we|they) ({names(_PLAIN)})\b"),
        swap(_PLAIN),
        "with I, you, we or they the verb has no -s",
        "주어가 I, you, we, they이면 동사에 -s를 붙이지 않아요.",
        fine_after=frozenset({"what", "which"}),
    ),
    Rule(
        rx(r"\b(go|goes|going|went|come|comes|coming|came|get|got) to (home|abroad)\b"),
        lambda m: f"{m.group(1)} {m.group(2)}",
        "'home' and 'abroad' need no 'to'",
        "'home'과 'abroad'는 '집으로', '해외로'라는 뜻이 이미 있어서 앞에 'to'를 쓰지 않아요.",
    ),
    Rule(
        rx(r"\bmarried with\b"),
        say("married to"),
        "we say 'married to' someone",
        "'~와 결혼했다'는 'married with'가 아니라 'married to'라고 해요.",
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
        rx(rf"\bmany ({_UNCOUNTABLE})\b"),
        lambda m: f"much {m.group(1)}",
        "this noun is uncountable: use 'much' or 'a lot of'",
        "셀 수 없는 명사라서 'many' 대신 'much'나 'a lot of'를 써요.",
    ),
    Rule(
        rx(rf"\b({names(_SINGULAR)})\b"),
        lambda m: same_case(m.group(1), _SINGULAR[m.group(1).lower()]),
        "this noun is uncountable, so it has no plural",
        "이 명사는 셀 수 없는 명사라서 복수형 -s를 붙이지 않아요.",
        simple="this word has no -s form",
    ),
    Rule(
        rx(rf"\b(a) ({_VOWEL_WORDS})\b"),
        lambda m: f"{same_case(m.group(1), 'an')} {m.group(2)}",
        "'an' before a vowel sound",
        "모음 소리로 시작하는 단어 앞에는 'a' 대신 'an'을 써요.",
    ),
    Rule(
        rx(r"\bvery (enjoy|like|love|want)\b"),
        lambda m: f"really {m.group(1)}",
        "'very' cannot modify a verb",
        "'very'는 동사를 꾸밀 수 없어요. 'really'나 'very much'를 쓰세요.",
    ),
    Rule(
        rx(r"\b(return|returned|returns) back\b"),
        lambda m: m.group(1),
        "'return' already means 'go back'",
        "'return'에 이미 '돌아가다'라는 뜻이 있어서 'back'이 필요 없어요.",
    ),
    Rule(
        rx(r"\bi\b(?!\.e\.)", ignore_case=False),
        say("I"),
        "'I' is always a capital letter",
        "'I'(나)는 문장 어디에 있든 항상 대문자로 써요.",
    ),
)

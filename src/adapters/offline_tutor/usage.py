"""Usage rules of the offline tutor: articles, countable nouns, prepositions and word choice that
English learners (Korean speakers especially) get wrong, most useful first."""

from __future__ import annotations

import re

from adapters.offline_tutor.rules import PHRASE_ENDS, Rule, article, following, names, rx, same_case, say

_JOBS = "developer|engineer|student|teacher|designer|nurse|doctor|manager|programmer|analyst"
_JOBS += "|accountant|consultant|intern|researcher|scientist|architect|marketer|lawyer|pilot"
_JOBS += "|dentist|pharmacist|journalist|writer|photographer|musician|singer|actor|artist|chef"
_JOBS += "|secretary|freelancer|housewife|officer|clerk|professor|cashier|mechanic|salesperson"
_FUNCTION = (
    r"a|an|the|my|your|his|her|our|their|its|this|that|these|those|not|also|now|still|very|so|really"
    r"|already|just|only|never|always|both|each|every|such|no|one|two|three|in|at|on|for|with|from|to"
    r"|by|of|about|like|as|into|sure|here|there|back|out|off|up|down|ready|afraid|glad|best|worst"
    r"|first|last|same|next|most|least|more|less|and|or|but|than|then|when|if|because|what|who|which"
)
_DESCRIBING_WORD = rf"(?!(?:{_FUNCTION})\b)(?![a-z]+(?:ly|ing)\b)[a-z-]+ "
"""A word that may describe the job ("backend", "English"), not "in", "very" or "meeting"."""
_UNCOUNTABLE = {"information": "information", "advice": "advice", "homework": "homework"}
_UNCOUNTABLE |= {"furniture": "furniture", "knowledge": "knowledge", "equipment": "equipment"}
_UNCOUNTABLE |= {"luggage": "luggage", "baggage": "baggage", "feedback": "feedback", "software": "software"}
_PLURAL = {f"{noun}s": noun for noun in _UNCOUNTABLE}
_ANY_FORM = _UNCOUNTABLE | _PLURAL
_STRONG = "amazing|awesome|excellent|fantastic|terrible|horrible|huge|enormous|exhausted|starving"
_STRONG += "|freezing|furious|gorgeous|brilliant|awful|incredible"
_ABSOLUTE = "perfect|unique|impossible"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_TELL = {"say": "tell", "said": "told", "says": "tells", "saying": "telling"}
_ADVERB_FIRST = "|".join(("shopping", "swimming", "hiking", "fishing", "camping", "skiing", "jogging"))


_BECOME = ("to become", "became", "become")


def _job(match: re.Match[str]) -> str:
    if match.group(1).lower() in _BECOME and match.group(3).lower() == "manager":
        return ""  # "she became manager of the team" is right: one person holds that post
    words = f"{match.group(2)}{match.group(3)}"
    return f"{match.group(1)} {article(words)} {words}"


def _arrive(match: re.Match[str]) -> str:
    """ "arrived to Seoul" -> "arrived in Seoul"; "arrived to the airport" -> "arrived at"."""
    verb, home = match.group(1), match.group(2)
    if home:
        return f"{verb} home"
    place = following(match).split()
    return f"{verb} in" if place and place[0][:1].isupper() and place[0] != "The" else f"{verb} at"


RULES: tuple[Rule, ...] = (
    Rule(
        rx(
            rf"\b(i am|i'm|he is|she is|he's|she's|to be|to become|became|work as|worked as|works as"
            rf"|working as) ((?:{_DESCRIBING_WORD}){{0,2}})({_JOBS})(?![\w'-])(?! (?-i:[A-Z]))"
        ),
        _job,
        "a job title needs 'a' or 'an'",
        "직업을 말할 때는 앞에 'a'나 'an'을 붙여요: 'I am a student'.",
    ),
    Rule(
        rx(rf"\b(an?) ({names(_ANY_FORM)})\b{PHRASE_ENDS}"),
        lambda m: f"{same_case(m.group(1), 'some')} {_ANY_FORM[m.group(2).lower()]}",
        "this noun is uncountable: no 'a', but 'some' (or 'a piece of')",
        "셀 수 없는 명사라서 'a'를 붙이지 않아요. 'some'이나 'a piece of'를 써요.",
        simple="you cannot count this word: say 'some'",
    ),
    Rule(
        rx(rf"\bmany ({names(_ANY_FORM)})\b{PHRASE_ENDS}"),
        lambda m: f"{same_case(m.group(0), 'a lot of')} {_ANY_FORM[m.group(1).lower()]}",
        "this noun is uncountable: use 'a lot of' (or 'much'), not 'many'",
        "셀 수 없는 명사라서 'many' 대신 'a lot of'나 'much'를 써요.",
        simple="you cannot count this word: say 'a lot of'",
    ),
    Rule(
        rx(rf"\b({names(_PLURAL)})\b"),
        lambda m: same_case(m.group(1), _PLURAL[m.group(1).lower()]),
        "this noun is uncountable, so it has no plural",
        "이 명사는 셀 수 없는 명사라서 복수형 -s를 붙이지 않아요.",
        simple="this word has no -s form",
    ),
    Rule(
        rx(r"\bi have a plan to\b"),
        say("I'm planning to"),
        "to talk about what you intend to do, 'I'm planning to' (or 'I plan to') sounds natural",
        "앞으로 할 일을 말할 때는 'I have a plan to'보다 'I'm planning to'나 'I plan to'가 자연스러워요.",
        simple="say 'I'm planning to'",
    ),
    Rule(
        rx(
            r"\b(discuss|discussed|discusses|discussing|explain|explained|explains|explaining"
            r"|emphasize|emphasized|emphasise|emphasised|mention|mentioned|mentions) about\b"
        ),
        lambda m: m.group(1),
        "this verb takes its object directly, with no 'about'",
        "'discuss', 'explain', 'mention' 같은 동사는 '~에 대해'라는 뜻을 품고 있어서 "
        "'about' 없이 바로 목적어를 써요.",
        fine_after=frozenset({"no", "a", "the", "any"}),
    ),
    Rule(
        rx(r"\bexplain me\b"),
        say("explain to me"),
        "we explain something to someone",
        "'explain'은 '누구에게'를 말할 때 'to'가 필요해요: 'explain it to me'.",
    ),
    Rule(
        rx(r"\b(reply|replied|replies|replying) (me|him|her|us|them|you)\b"),
        lambda m: f"{m.group(1)} to {m.group(2)}",
        "we reply to someone",
        "'~에게 답장하다'는 'reply to + 사람'이라고 해요.",
    ),
    Rule(
        rx(
            r"\b(listen|listens|listened|listening) "
            r"(music|songs?|the radio|podcasts?|k-pop|me|him|her|us|them)\b"
        ),
        lambda m: f"{m.group(1)} to {m.group(2)}",
        "we listen to something",
        "'~을 듣다'는 'listen to'라고 해요. 'to'를 빼먹지 마세요.",
    ),
    Rule(
        rx(
            r"\b(ask|asks|asked|asking|tell|tells|told|telling|contact|contacts|contacted|contacting) to "
            r"(me|him|her|us|them)\b"
        ),
        lambda m: f"{m.group(1)} {m.group(2)}",
        "this verb takes the person directly, with no 'to'",
        "'ask', 'tell', 'contact'는 사람을 바로 목적어로 써요: 'tell me', 'contact him'.",
        fine_after=frozenset({"in", "a", "the"}),
    ),
    Rule(
        rx(r"\b(wait|waits|waited|waiting) (you|me|him|her|us|them)\b"),
        lambda m: f"{m.group(1)} for {m.group(2)}",
        "we wait for someone",
        "'~를 기다리다'는 'wait for + 사람'이라고 해요.",
    ),
    Rule(
        rx(r"\b(say|said|says|saying) (me|him|us)\b"),
        lambda m: f"{_TELL[m.group(1).lower()]} {m.group(2)}",
        "'say' does not take a person after it; 'tell' does",
        "'say' 뒤에는 사람이 바로 오지 않아요. 사람에게 말할 때는 'tell me'처럼 'tell'을 써요.",
    ),
    Rule(
        rx(r"\b(arrive|arrived|arrives|arriving) to( home)?\b"),
        _arrive,
        "we arrive in a city or country, at a place, and arrive home",
        "'도착하다'는 'arrive to'가 아니라 도시·나라는 'arrive in', 장소는 'arrive at'이라고 해요.",
        simple="say 'arrive in' a city and 'arrive at' a place",
    ),
    Rule(
        rx(
            rf"\b(go|goes|going|went|come|comes|coming|came|get|got) to (home|abroad|overseas|downtown)\b"
            rf"{PHRASE_ENDS}"
        ),
        lambda m: f"{m.group(1)} {m.group(2)}",
        "'home' and 'abroad' need no 'to'",
        "'home', 'abroad'에는 '집으로', '해외로'라는 뜻이 이미 있어서 앞에 'to'를 쓰지 않아요.",
    ),
    Rule(
        rx(rf"\b(go|goes|going|went) to ({_ADVERB_FIRST})\b{PHRASE_ENDS}"),
        lambda m: f"{m.group(1)} {m.group(2)}",
        "we say 'go shopping', 'go hiking', with no 'to'",
        "'쇼핑하러 가다'는 'go shopping'이에요. -ing 활동 앞에는 'to'를 쓰지 않아요.",
    ),
    Rule(
        rx(
            r"\bmarried with(?= (?:him|her|me|you|my (?:boyfriend|girlfriend|partner|fiance|fiancee|friend)\b"
            rf"|an? (?:[a-z]+ )?(?:man|woman|guy|girl|foreigner|{_JOBS})\b|(?-i:[A-Z][a-z]+)\b))"
        ),
        say("married to"),
        "we say 'married to' someone",
        "'~와 결혼했다'는 'married with'가 아니라 'married to'라고 해요.",
    ),
    Rule(
        rx(r"\b(different|similar) with\b"),
        lambda m: f"{m.group(1)} {'from' if m.group(1).lower() == 'different' else 'to'}",
        "we say 'different from' and 'similar to'",
        "'~와 다르다'는 'different from', '~와 비슷하다'는 'similar to'라고 해요.",
    ),
    Rule(
        rx(rf"\bin (the )?weekend(s?)\b{PHRASE_ENDS}"),
        lambda m: "on weekends" if m.group(2) else "on the weekend",
        "we say 'on the weekend' (or 'at the weekend' in British English)",
        "'주말에'는 'in the weekend'가 아니라 'on the weekend'(미국식)나 'at the weekend'(영국식)라고 해요.",
    ),
    Rule(
        rx(rf"\b(in|at) ({_DAYS})(s?)\b(?!')"),
        lambda m: f"on {m.group(2)}{m.group(3)}",
        "days take 'on': 'on Monday'",
        "요일 앞에는 'on'을 써요: 'on Monday'.",
    ),
    Rule(
        rx(rf"\bin night\b{PHRASE_ENDS}"),
        say("at night"),
        "we say 'at night'",
        "'밤에'는 'at night'이라고 해요.",
    ),
    Rule(
        rx(rf"\bat the (morning|afternoon|evening)\b{PHRASE_ENDS}"),
        lambda m: f"in the {m.group(1)}",
        "parts of the day take 'in': 'in the morning'",
        "아침·오후·저녁에는 'in the morning'처럼 'in'을 써요.",
    ),
    Rule(
        rx(
            r"\balmost (people|students|koreans|korean people|workers|companies|children|kids|teachers"
            r"|men|women)\b"
        ),
        lambda m: f"almost all {m.group(1)}",
        "'almost' needs 'all' before a group: 'almost all people' (or 'most people')",
        "'대부분의 사람들'은 'almost people'이 아니라 'almost all people'이나 'most people'이라고 해요.",
    ),
    Rule(
        rx(r"\balmost of\b"),
        lambda m: same_case(m.group(0), "most of"),
        "we say 'most of' (or 'almost all of')",
        "'~의 대부분'은 'most of'나 'almost all of'라고 해요.",
    ),
    Rule(
        rx(r"\baccording to me\b"),
        lambda m: same_case(m.group(0), "in my opinion"),
        "'according to' introduces someone else's words; for yourself say 'in my opinion'",
        "'according to'는 다른 사람이나 자료의 말을 전할 때 써요. 내 생각은 'in my opinion'이라고 해요.",
    ),
    Rule(
        rx(rf"\bvery ({_STRONG})\b"),
        lambda m: f"really {m.group(1)}",
        "this adjective is already strong: use 'really' or 'absolutely', not 'very'",
        "이 형용사는 이미 '아주 ~한'이라는 뜻이라 'very' 대신 'really'나 'absolutely'를 써요.",
        simple="say 'really' with strong words like this",
    ),
    Rule(
        rx(rf"\bvery ({_ABSOLUTE})\b"),
        lambda m: m.group(1),
        "this adjective cannot be more or less: drop 'very'",
        "이 형용사는 정도를 나타낼 수 없는 말이라서 'very'를 붙이지 않아요.",
    ),
    Rule(
        rx(
            r"\b(a) (apple|hour|honest|idea|interview|engineer|office|answer|example|event|exam|email"
            r"|opportunity|important|interesting|easy|old|umbrella|architect|artist|actor|english)\b"
        ),
        lambda m: f"{same_case(m.group(1), 'an')} {m.group(2)}",
        "'an' before a vowel sound",
        "모음 소리로 시작하는 단어 앞에는 'a' 대신 'an'을 써요.",
    ),
    Rule(
        rx(r"\b(an) (university|useful|usual|european|one|uniform|user|union|unique)\b"),
        lambda m: f"{same_case(m.group(1), 'a')} {m.group(2)}",
        "'a' before a 'you' or 'w' sound, even when the word starts with a vowel letter",
        "철자는 모음이어도 'you'나 'w' 소리로 시작하면 'an'이 아니라 'a'를 써요: 'a university'.",
    ),
    Rule(
        rx(r"\b(return|returned|returns) back\b"),
        lambda m: m.group(1),
        "'return' already means 'go back'",
        "'return'에 이미 '돌아가다'라는 뜻이 있어서 'back'이 필요 없어요.",
    ),
    Rule(
        rx(r"(?<![(\[])(?<!for )\bi\b(?!\.e\.)(?![)\]=+<>-])", ignore_case=False),
        say("I"),
        "'I' is always a capital letter",
        "'I'(나)는 문장 어디에 있든 항상 대문자로 써요.",
    ),
)

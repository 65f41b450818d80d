"""Konglish: English-looking words and phrases made in Korea, which English speakers do not use
(or use with another meaning), with the words they do use."""

from __future__ import annotations

import re

from adapters.offline_tutor.rules import PHRASE_ENDS, Rule, following, rx, same_case, say
from adapters.offline_tutor.words import tokens, wordset

_CHEERED = wordset("interview interviews exam exams test tests presentation audition game match today")
_NOT_A_CHEER = wordset(
    "are were is was am be been being stop stopped start started keep kept about of the a for against "
    "with and or like love hate enjoy no without not them him her us me they dogs cats street good nice "
    "great bad fist sword gun dog cat kick"
)
_EVERYONE = wordset("everyone everybody guys all")
_COMPUTER = wordset(
    "computer pc battery charger screen keyboard wifi internet slow crashed install installed windows "
    "mac macbook program software code coding gaming ram cpu laptop monitor mouse usb"
)
_CODE_NOTEBOOKS = wordset("jupyter colab kaggle ipython python databricks observable notebooks")
"""A "notebook" where code runs is right in English."""
_DRINKS = wordset("drink drinks drank drinking soju beer makgeolli cheers wine")
_CHEAT = {"do": "cheat", "does": "cheats", "did": "cheated", "doing": "cheating"}
_WORK_PART_TIME = {"do": "work part-time", "did": "worked part-time", "doing": "working part-time"}


def _cheer(match: re.Match[str]) -> str:
    """ "Fighting!" -> "You can do it!"; "interview fighting" -> "good luck with your interview";
    "Korea fighting" -> "go, Korea". Silence when "fighting" means fighting."""
    before = match.string[max(0, match.start() - 40) : match.start()].split()
    cheered = match.group(1)
    if cheered is None:
        if before and before[-1].lower().strip(",.!?;:") in _NOT_A_CHEER and before[-1][-1:] not in ",.!?":
            return ""
        return same_case(match.group(0), "you can do it")
    if cheered.lower() in _NOT_A_CHEER or (before and before[-1][-1:] not in ".,!?~"):
        return ""  # "X fighting!" cheers only as a sentence of its own, not "... about interview fighting"
    if cheered.lower() in _CHEERED:
        return same_case(cheered, f"good luck with your {cheered.lower()}")
    if cheered.lower() in _EVERYONE:
        return same_case(cheered, "good luck, everyone")
    if cheered[:1].isupper() and cheered != "I":
        return f"{same_case(cheered, 'go')}, {cheered}"
    return ""


def _is_cheer_position(match: re.Match[str]) -> bool:
    """Alone, or after a comma or a sentence, and closing the sentence ("Fighting!", "Thanks, fighting")."""
    rest = following(match).lstrip()
    return not rest or rest[0] in "!.,~" or rest.startswith(("ㅎ", "ㅋ", ":)", "^^"))


def _fighting(match: re.Match[str]) -> str:
    return _cheer(match) if _is_cheer_position(match) else ""


def _notebook(match: re.Match[str]) -> str:
    said = {w.lower() for w in tokens(match.string)}
    if said & _CODE_NOTEBOOKS:
        return ""
    if match.group(2) or said & _COMPUTER:
        return same_case(match.group(1), "laptop")
    return ""


def _one_shot(match: re.Match[str]) -> str:
    if following(match).lstrip().startswith("!") or {w.lower() for w in tokens(match.string)} & _DRINKS:
        return same_case(match.group(0), "bottoms up")
    return ""


RULES: tuple[Rule, ...] = (
    Rule(
        rx(r"(?:\b([A-Za-z]+) )?\b(?:fighting|hwaiting|paiting)\b"),
        _fighting,
        "'fighting' means a fight in English; to cheer someone on say 'You can do it!', 'Good luck!' "
        "or 'Go, Korea!'",
        "'fighting'은 영어로 '싸움'이라는 뜻이라 응원할 때 쓰지 않아요. "
        "'You can do it!', 'Good luck!', 'Go, Korea!'처럼 말해요.",
        simple="to cheer, say 'You can do it!' or 'Good luck!'",
    ),
    Rule(
        rx(r"\beye[- ]?shopping\b"),
        lambda m: same_case(m.group(0), "window shopping"),
        "looking at shops without buying is 'window shopping'",
        "'아이쇼핑'은 콩글리시예요. 영어로는 'window shopping'이라고 해요.",
    ),
    Rule(
        rx(r"\bskinship\b"),
        lambda m: same_case(m.group(0), "physical affection"),
        "'skinship' is not an English word: say 'physical affection' (hugs, holding hands)",
        "'스킨십'은 콩글리시예요. 'physical affection'이나 'hugging', 'holding hands'처럼 말해요.",
        simple="say 'physical affection'",
    ),
    Rule(
        rx(r"\bhand[- ]?phones?\b"),
        lambda m: same_case(m.group(0), "cell phones" if m.group(0).lower().endswith("s") else "cell phone"),
        "in English it is a 'cell phone' (or 'mobile phone', or just 'phone')",
        "'핸드폰'은 콩글리시예요. 'cell phone'이나 'mobile phone', 간단히 'phone'이라고 해요.",
    ),
    Rule(
        rx(r"\b(notebook)( computer| pc)?\b"),
        _notebook,
        "a portable computer is a 'laptop'; a 'notebook' is paper for writing",
        "휴대용 컴퓨터는 'laptop'이라고 해요. 영어의 'notebook'은 보통 공책을 뜻해요.",
    ),
    Rule(
        rx(r"\bone[- ]shot\b"),
        _one_shot,
        "to drink a glass all at once, English speakers say 'Bottoms up!'",
        "'원샷'은 콩글리시예요. 잔을 한 번에 비우자고 할 때는 'Bottoms up!'이라고 해요.",
    ),
    Rule(
        rx(r"\bselcas?\b"),
        lambda m: same_case(m.group(0), "selfies" if m.group(0).lower().endswith("s") else "selfie"),
        "a photo of yourself is a 'selfie'",
        "'셀카'는 영어로 'selfie'라고 해요.",
    ),
    Rule(
        rx(r"\b(my|an|our|the|his|their|new|big|small|old) apart\b(?! from)"),
        lambda m: f"{m.group(1)} apartment",
        "'apart' means 'separated'; the home is an 'apartment'",
        "'아파트'는 영어로 'apartment'예요. 'apart'는 '떨어져서'라는 뜻이에요.",
    ),
    Rule(
        rx(
            r"\b(it's|it is|this is|that's|that is|it was|this was) (?:a )?service\b"
            r"(?=\s*(?:[.!?,~)]|$))"
        ),
        lambda m: f"{m.group(1)} on the house",
        "something free from a shop or restaurant is 'on the house' (or 'free')",
        "가게에서 공짜로 주는 '서비스'는 영어로 'on the house'나 'free'라고 해요.",
    ),
    Rule(
        rx(r"\b((?:gave|give|gives|giving) (?:me|us|him|her|them) (?:[a-z]+ ){1,2})(?:as|for) service\b"),
        lambda m: f"{m.group(1)}for free",
        "something free from a shop or restaurant is 'free' (or 'on the house')",
        "가게에서 공짜로 주는 '서비스'는 영어로 'for free'나 'on the house'라고 해요.",
    ),
    Rule(
        rx(r"\b(?:blind meeting|sogaeting|sogeting|so-gae-ting)\b"),
        lambda m: same_case(m.group(0), "blind date"),
        "a date set up by a friend is a 'blind date'",
        "'소개팅'은 영어로 'blind date'라고 해요.",
    ),
    Rule(
        rx(
            r"\b(go|went|going|had|have) (?:to |on )?(?:a )?meeting with "
            r"(?:some |a few |two |three |four )?(girls|boys)\b"
        ),
        lambda m: f"{m.group(1)} on a group blind date with {m.group(2)}",
        "a 'meeting' is for work; a group date set up by friends is a 'group blind date'",
        "'미팅'은 영어에서 회의를 뜻해요. 여럿이 하는 소개팅은 'group blind date'라고 해요.",
    ),
    Rule(
        rx(r"\b(do|does|did|doing) cunning\b"),
        lambda m: _CHEAT[m.group(1).lower()],
        "copying in an exam is 'cheating'; 'cunning' means clever in a sneaky way",
        "시험 '커닝'은 영어로 'cheating'이에요. 'cunning'은 '교활한'이라는 뜻이에요.",
    ),
    Rule(
        rx(r"\b(?:(do|did|doing)|(a|my|an)) (?:arbeit|arbite|alba)\b"),
        lambda m: (
            _WORK_PART_TIME[m.group(1).lower()]
            if m.group(1)
            else f"{same_case(m.group(2), 'a')} part-time job"
        ),
        "in English it is a 'part-time job'",
        "'아르바이트(알바)'는 독일어에서 온 말이에요. 영어로는 'part-time job'이라고 해요.",
    ),
    Rule(
        rx(r"\b(?:(do|did|doing) )?dutch[- ]pay\b"),
        lambda m: same_case(
            m.group(0), "splitting the bill" if (m.group(1) or "").lower() == "doing" else "split the bill"
        ),
        "to share the cost, say 'split the bill' (or 'go Dutch')",
        "'더치페이'는 영어로 'split the bill'이나 'go Dutch'라고 해요.",
    ),
    Rule(
        rx(rf"\b(go|goes|went|going) to (?:the )?health\b{PHRASE_ENDS}"),
        lambda m: f"{m.group(1)} to the gym",
        "a place to exercise is a 'gym'",
        "운동하는 '헬스장'은 영어로 'gym'이라고 해요.",
    ),
    Rule(
        rx(r"\b(on|in|my|through|via|use|using) SNS\b", ignore_case=False),
        lambda m: f"{m.group(1)} social media",
        "English speakers say 'social media'",
        "'SNS'는 영어권에서 잘 쓰지 않아요. 'social media'라고 해요.",
    ),
    Rule(
        rx(r"\b(?:a |the |my )?(?:hotchkiss|hochikisu)\b"),
        lambda m: re.sub(r"(?i)hotchkiss|hochikisu", "stapler", m.group(0)),
        "the tool that joins paper is a 'stapler'",
        "'호치키스'는 상표 이름이에요. 영어로는 'stapler'라고 해요.",
    ),
    Rule(
        rx(r"\b(?:(?:on )?(?:the|a|my)) running machines?\b"),
        lambda m: re.sub(r"(?i)running machine", "treadmill", m.group(0)),
        "in English it is a 'treadmill'",
        "'러닝머신'은 영어로 'treadmill'이라고 해요.",
    ),
    Rule(
        rx(r"\bauto[- ]?bikes?\b"),
        lambda m: same_case(m.group(0), "motorcycles" if m.group(0).lower().endswith("s") else "motorcycle"),
        "in English it is a 'motorcycle' (or 'motorbike')",
        "'오토바이'는 영어로 'motorcycle'이나 'motorbike'라고 해요.",
    ),
    Rule(
        rx(r"\bsign ?pens?\b"),
        lambda m: same_case(
            m.group(0), "felt-tip pens" if m.group(0).lower().endswith("s") else "felt-tip pen"
        ),
        "in English it is a 'felt-tip pen' (or 'marker')",
        "'사인펜'은 영어로 'felt-tip pen'이나 'marker'라고 해요.",
    ),
    Rule(
        rx(r"\by-shirts?\b"),
        lambda m: same_case(
            m.group(0), "dress shirts" if m.group(0).lower().endswith("s") else "dress shirt"
        ),
        "in English it is a 'dress shirt'",
        "'와이셔츠'는 영어로 'dress shirt'라고 해요.",
    ),
    Rule(
        rx(r"\b(wear|wears|wore|wearing|bought|buy) (?:a |an |my |her )?one[- ]?piece\b"),
        lambda m: f"{m.group(1)} a dress",
        "a one-piece dress is simply a 'dress' ('one-piece' is a swimsuit)",
        "'원피스'는 영어로 그냥 'dress'라고 해요. 영어의 'one-piece'는 보통 수영복을 뜻해요.",
    ),
    Rule(
        rx(r"\bmorning calls?\b"),
        lambda m: same_case(
            m.group(0), "wake-up calls" if m.group(0).lower().endswith("s") else "wake-up call"
        ),
        "a call that wakes you up is a 'wake-up call'",
        "'모닝콜'은 영어로 'wake-up call'이라고 해요.",
    ),
    Rule(
        rx(r"\bremocon\b"),
        lambda m: same_case(m.group(0), "remote control"),
        "in English it is a 'remote control' (or just 'remote')",
        "'리모컨'은 영어로 'remote control'이나 'remote'라고 해요.",
    ),
    Rule(
        rx(r"\bgagman\b"),
        lambda m: same_case(m.group(0), "comedian"),
        "in English it is a 'comedian'",
        "'개그맨'은 영어로 'comedian'이라고 해요.",
    ),
    Rule(
        rx(r"\bback mirror\b"),
        lambda m: same_case(m.group(0), "rearview mirror"),
        "in English it is a 'rearview mirror'",
        "'백미러'는 영어로 'rearview mirror'라고 해요.",
    ),
    Rule(
        rx(r"\bA/S\b", ignore_case=False),
        say("repair service"),
        "for fixing a product you bought, say 'repair service' (or 'warranty service')",
        "제품 'A/S'는 영어로 'repair service'나 'warranty service'라고 해요.",
    ),
)

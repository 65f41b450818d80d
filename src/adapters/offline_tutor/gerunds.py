"""Where English wants the -ing form of a verb and learners write the base form ("enjoy to
play", "looking forward to see you", "thank you for come")."""

from __future__ import annotations

from adapters.offline_tutor.rules import Rule, names, rx, swap
from adapters.offline_tutor.words import wordset

_ING = {"see": "seeing", "meet": "meeting", "hear": "hearing", "work": "working", "talk": "talking"}
_ING |= {"visit": "visiting", "join": "joining", "start": "starting", "go": "going", "get": "getting"}
_ING |= {"play": "playing", "watch": "watching", "read": "reading", "cook": "cooking", "sing": "singing"}
_ING |= {"travel": "travelling", "swim": "swimming", "run": "running", "dance": "dancing"}
_ING |= {"study": "studying", "learn": "learning", "walk": "walking", "listen": "listening"}
_ING |= {"write": "writing", "draw": "drawing", "shop": "shopping", "hike": "hiking", "bake": "baking"}
_ING |= {"drive": "driving", "ride": "riding", "take": "taking", "help": "helping", "teach": "teaching"}
_ING |= {"wake": "waking", "make": "making", "eat": "eating", "live": "living", "speak": "speaking"}
_ING |= {"solve": "solving", "lead": "leading", "explain": "explaining", "use": "using", "come": "coming"}
_VERB = names(_ING)
_NOUN_TOO = wordset("work help travel dance play use lead study talk drive draw run start visit shop make")
_ONLY_A_VERB = names({verb: ing for verb, ing in _ING.items() if verb not in _NOUN_TOO})
"""After "good at" or "interested in" a noun fits too ("good at work", "interested in travel")."""

RULES: tuple[Rule, ...] = (
    Rule(
        rx(rf"\b(look(?:ing)? forward to) ({_VERB})\b"),
        swap(_ING),
        "'look forward to' is followed by the -ing form",
        "'look forward to'의 'to'는 전치사라서 뒤에 동사의 -ing 형태가 와요.",
    ),
    Rule(
        rx(
            rf"\b(enjoy|enjoys|enjoyed|enjoying|finish|finished|finishes|avoid|avoided|consider|considered"
            rf"|practise|practised|practice|practiced) to ({_VERB})\b"
        ),
        lambda m: f"{m.group(1)} {_ING[m.group(2).lower()]}",
        "this verb is followed by the -ing form, not 'to'",
        "'enjoy', 'finish', 'avoid' 같은 동사 뒤에는 'to + 동사'가 아니라 -ing 형태가 와요: 'enjoy playing'.",
        simple="say 'enjoy playing', not 'enjoy to play'",
    ),
    Rule(
        rx(
            rf"\b(good at|bad at|interested in|tired of|afraid of|thank you for|thanks for)"
            rf" ({_ONLY_A_VERB})\b"
        ),
        swap(_ING),
        "after a preposition (at, in, of, for) the verb takes the -ing form",
        "at, in, of, for 같은 전치사 뒤에 동사가 오면 -ing 형태로 써요: 'good at cooking'.",
        simple="after 'at', 'in', 'of' or 'for', use the -ing form",
    ),
    Rule(
        rx(
            rf"\b((?:i'm|i am|you're|you are|he's|he is|she's|she is|we're|we are|get|got"
            rf"|getting) used to) ({_VERB})\b"
        ),
        swap(_ING),
        "'be used to' (be familiar with) is followed by the -ing form; 'I used to' (in the past) is not",
        "'be used to'(~에 익숙하다)의 'to'는 전치사라서 -ing 형태가 와요. "
        "'I used to + 동사원형'(예전에 ~했다)과 달라요.",
    ),
)

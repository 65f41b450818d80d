"""Interview mode of the offline tutor: questions from a bank chosen by the role's keywords, one
at a time; brief feedback on each answer; a follow-up when an answer is short or names something
worth digging into; a closing summary when the learner is done (or the bank runs out).

For beginners the feedback and follow-ups use short, simple sentences (the questions stay the
same: they are the interview).

The state of the interview is read back from the transcript, so the same turns always give the
same reply and nothing is stored outside the chat.
"""

from __future__ import annotations

import itertools
import re

from adapters.offline_tutor.corrections import Correction, find_correction
from adapters.offline_tutor.questions import questions_for
from adapters.offline_tutor.words import pick, specific_word, tokens, wordset
from chatcore.learning import Level
from chatcore.ports.llm import Prompt, Turn

FOLLOW_UP = "Follow-up:"
NEXT = "Next question:"
FIRST = "First question:"
SHORT_ANSWER_WORDS = 12
LONG_ANSWER_WORDS = 180

_DONE = re.compile(
    r"\b(i'?m done|i am done|i'?m finished|i am finished|that'?s all|that is all|no more questions"
    r"|let'?s (stop|finish|end|wrap up)"
    r"|(end|finish|stop|wrap up) (the|this|our) (interview|practice|session))\b",
    re.IGNORECASE,
)
_ALONE = re.compile(r"^\W*(done|finish(ed)?|stop|quit|end|bye|goodbye)\W*$", re.IGNORECASE)
_EXAMPLE = wordset(
    "when once example instance project situation task result led built solved improved achieved"
)
_DIG_INTO = (
    'You mentioned "{it}". What exactly was your part in that, and how did it turn out?',
    'Tell me more about "{it}": what was the biggest challenge there?',
    'You brought up "{it}". What would you do differently next time?',
)
_DIG_INTO_SIMPLY = (
    'You said "{it}". What did you do there?',
    'Tell me more about "{it}". What was hard?',
    'You said "{it}". What happened in the end?',
)
_USUALLY = {
    "short": "Feedback: that answer is quite short. Interviewers want detail: add a concrete example "
    "using Situation, Task, Action, Result.",
    "example": "Good, that answer has a clear example.",
    "no example": "Add a specific example to make it memorable.",
    "detail": 'Mentioning "{it}" is a good start; build a short example around it.',
    "number": "Numbers make results convincing; nice use of them.",
    "no number": "If you can, add a number (time saved, users, percent) to show the result.",
    "long": "It is a little long; aim for about one to two minutes when speaking.",
    "follow-up": "Could you give me a concrete example? Describe one situation, what you did, and what "
    "happened.",
}
_SIMPLY = {
    "short": "Feedback: your answer is short. Please give one example: what happened, what you did, "
    "and the result.",
    "example": "Good, you gave an example.",
    "no example": "Please add an example from your life.",
    "detail": 'You said "{it}". Good! Now tell a short story about it.',
    "number": "Good, you used numbers.",
    "no number": "Try to add a number, like time or money you saved.",
    "long": "Your answer is a little long. Try to make it shorter.",
    "follow-up": "Can you give me an example? What happened, and what did you do?",
}


def is_done(text: str) -> bool:
    """The learner asks to finish ("I'm done", "let's stop") - not a long answer that says "stop"."""
    return bool(_ALONE.match(text)) or (len(text.split()) <= 15 and bool(_DONE.search(text)))


def interview_reply(prompt: Prompt, *, level: Level = Level.INTERMEDIATE) -> str:
    """The interviewer's next turn for the role in ``prompt.topic``, worded for ``level``."""
    simply = level is Level.BEGINNER
    role = prompt.topic or "this position"
    bank = questions_for(prompt.topic)
    asked = [t.content for t in prompt.turns if t.role == "assistant"]
    last = next((t.content.strip() for t in reversed(prompt.turns) if t.role == "user"), "")
    if not asked:
        return (
            f"Hello, and welcome to your practice interview for {role}. I'll ask one question at a "
            'time: answer as you would in a real interview, and say "I\'m done" whenever you want '
            f"your summary.\n\n{FIRST} {bank[0]}"
        )
    answers = _answers(prompt.turns)
    if is_done(last):
        return summary(role, answers[:-1])
    reply = feedback(last, simply=simply)
    dig = None if FOLLOW_UP in asked[-1] else follow_up(last, simply=simply)
    if dig:
        reply += f"\n\n{FOLLOW_UP} {dig}"
    else:
        earlier = "\n".join(asked)
        question = next((q for q in bank if q not in earlier), None)
        if question is None:
            return f"{reply}\n\nThat was my last question.\n\n{summary(role, answers)}"
        reply += f"\n\n{NEXT} {question}"
    correction = find_correction(last, simple=simply)
    return f"{reply}\n\n{correction.note()}" if correction else reply


def feedback(answer: str, *, simply: bool = False) -> str:
    """One or two sentences on the answer's length, example, numbers and specifics."""
    say = _SIMPLY if simply else _USUALLY
    words = answer.split()
    if len(words) < SHORT_ANSWER_WORDS:
        return say["short"]
    detail = specific_word(answer)
    if _has_example(answer):
        tips = [say["example"]]
    elif detail:
        tips = [say["detail"].format(it=detail)]
    else:
        tips = [say["no example"]]
    tips.append(say["number"] if _has_number(answer) else say["no number"])
    if len(words) > LONG_ANSWER_WORDS:
        tips.append(say["long"])
    return "Feedback: " + " ".join(tips)


def follow_up(answer: str, *, simply: bool = False) -> str | None:
    """A question about this answer, or ``None`` when it is detailed enough to move on."""
    if len(answer.split()) < SHORT_ANSWER_WORDS:
        return (_SIMPLY if simply else _USUALLY)["follow-up"]
    detail = specific_word(answer)
    if detail and not _has_number(answer) and len(answer.split()) <= LONG_ANSWER_WORDS:
        return pick(_DIG_INTO_SIMPLY if simply else _DIG_INTO, answer).format(it=detail)
    return None


def summary(role: str, answers: list[str]) -> str:
    """The closing summary: overall impression, two strengths, two things to practise."""
    if not answers:
        return (
            "No problem, we can stop here. You haven't answered a question yet; send me a message "
            "whenever you're ready and we'll start again."
        )
    count = len(answers)
    average = round(sum(len(a.split()) for a in answers) / count)
    examples = sum(1 for a in answers if _has_example(a))
    strengths = [
        *([f"you gave concrete examples in {examples} of {count} answers"] if examples else []),
        *(["you used numbers to show results"] if any(_has_number(a) for a in answers) else []),
        *(["your answers had a good length"] if 40 <= average <= LONG_ANSWER_WORDS else []),
        *([f"you kept going through {count} questions"] if count >= 3 else []),
        "you stayed engaged and answered every question",
        "you kept a polite, professional tone",
    ]
    mistake: Correction | None = next((c for c in map(find_correction, answers) if c), None)
    practise = [
        *(["give longer answers built on Situation, Task, Action, Result"] if average < 25 else []),
        *(
            ["add measurable results (numbers, percentages, time saved)"]
            if not any(map(_has_number, answers))
            else []
        ),
        *([f'watch "{mistake.wrong}" → "{mistake.right}" ({mistake.why})'] if mistake else []),
        *(["keep each answer to about two minutes"] if average > LONG_ANSWER_WORDS else []),
        "prepare a 60-second introduction of yourself",
        "prepare two questions to ask the interviewer at the end",
    ]
    plural = "question" if count == 1 else "questions"
    return (
        f"Thank you, that's the end of our practice interview for {role}.\n\n"
        f"Summary: you answered {count} {plural}, with about {average} words per answer.\n"
        f"Strengths: {strengths[0]}; {strengths[1]}.\n"
        f"To practise: {practise[0]}; {practise[1]}.\n\n"
        "Good luck with your interview!"
    )


def _answers(turns: tuple[Turn, ...]) -> list[str]:
    """The learner's turns that answer an interviewer's turn (not a greeting before the first)."""
    return [
        turn.content
        for before, turn in itertools.pairwise(turns)
        if turn.role == "user" and before.role == "assistant"
    ]


def _has_example(answer: str) -> bool:
    return bool({w.lower() for w in tokens(answer)} & _EXAMPLE)


def _has_number(answer: str) -> bool:
    return any(ch.isdigit() for ch in answer)

"""A model answer to an interview question, built from a STAR-shaped template (deterministic).

The question's own words, told from the candidate's side ("a challenge you faced" -> "a
challenge I faced"), open the answer; the role fills the situation; the rest is the shape a
strong answer has: situation, task, action, a measured result, what was learned.
"""

from __future__ import annotations

import re

from adapters.offline_tutor.rules import article
from chatcore.learning import Level

_OPENERS = (
    (re.compile(r"^(?:can|could) you (?:please )?tell me about (.+)$", re.I), "Let me tell you about {}."),
    (re.compile(r"^tell me about (.+)$", re.I), "Let me tell you about {}."),
    (re.compile(r"^(?:can|could) you (?:please )?(?:walk me through|describe) (.+)$", re.I),
     "Let me describe {}."),
    (re.compile(r"^(?:walk me through|describe) (.+)$", re.I), "Let me describe {}."),
    (re.compile(r"^how do you (.+)$", re.I), "Let me show you how I {}, with a real example."),
    (re.compile(r"^how would you (.+)$", re.I), "Here is how I would {}, based on what I did before."),
    (re.compile(r"^what is one (.+)$", re.I), "One {} is from my last project."),
    (re.compile(r"^why do you (.+)$", re.I), "Let me explain why I {}, with a real example."),
)  # fmt: skip
_OBJECT_BEFORE = frozenset(
    {"to", "with", "for", "about", "at", "in", "on", "into", "from", "and", "or", "but"}
)
"""After "you", these words show it is an object: "people who disagreed with you" -> "with me"."""
_REFLECT = {
    "your": "my",
    "yours": "mine",
    "yourself": "myself",
    "are": "am",
    "were": "was",
}


def model_answer(question: str, *, topic: str, level: Level) -> str:
    """A strong answer to ``question`` for the role in ``topic``."""
    role = _role(topic)
    core = re.split(r"(?<=[.?!])\s+", question.strip())[0].rstrip(".?! ")
    lowered = core.lower()
    if "yourself" in lowered and ("tell" in lowered or "about" in lowered):
        return _introduction(role, level)
    if lowered.startswith(("why are you interested", "why do you want")):
        return _motivation(role, level)
    if "five years" in lowered or "see yourself" in lowered:
        return _future(role, level)
    if "questions for us" in lowered or "any questions" in lowered:
        return _questions(role)
    return _star(_opening(core), role, level)


def _opening(core: str) -> str:
    for pattern, shape in _OPENERS:
        match = pattern.match(core)
        if match:
            return shape.format(_reflect(match.group(1)))
    return "Let me answer with a concrete example."


def _reflect(phrase: str) -> str:
    words = phrase.split()
    out = []
    for index, word in enumerate(words):
        low = word.lower()
        after_you = index > 0 and words[index - 1].lower() == "you"
        if low in ("are", "were") and not after_you:
            out.append(word)  # "people who are" stays; only "you are" becomes "I am"
        elif low == "you":
            follower = words[index + 1].lower() if index + 1 < len(words) else None
            out.append("me" if follower is None or follower in _OBJECT_BEFORE else "I")
        else:
            out.append(_REFLECT.get(low, word))
    return " ".join(out)


def _star(opening: str, role: str, level: Level) -> str:
    if level is Level.BEGINNER:
        return (
            f"{opening} In my last project, we had a big problem and little time. "
            "My job was to fix the most important part. "
            "I made a simple plan, I talked to my team every day, and I finished my part first. "
            "As a result, we finished one week early and had 30 percent fewer errors. "
            f"I learned to plan carefully, and I will do the same {_as(role)}."
        )
    return (
        f"{opening} In my last role, our team faced a tight deadline on an important project. "
        "My task was to take ownership of the most critical part and keep everyone aligned. "
        "I broke the work into small steps, agreed on priorities with the people involved, and "
        "checked progress with the team every morning. "
        "As a result, we delivered a week early and reduced errors by 30 percent. "
        f"What I learned is to plan in small steps and communicate early, which is exactly how I "
        f"would work {_as(role)}."
    )


def _introduction(role: str, level: Level) -> str:
    if level is Level.BEGINNER:
        return (
            f"Hello, my name is Minji. I want to work {_as(role)}. "
            "I studied hard for this job, and I worked on two team projects. "
            "In one project, I made a tool that saved my team five hours a week. "
            "I like learning new things and working with people."
        )
    return (
        f"I'm someone who has been preparing for a career {_as(role)} for the last few years. "
        "In my most recent project I was responsible for a key part of a team effort: I built a "
        "small tool that saved my team about five hours a week. "
        "That taught me how much I enjoy solving real problems for real people. "
        "Now I'm looking for a role where I can keep growing and make that kind of impact."
    )


def _motivation(role: str, level: Level) -> str:
    if level is Level.BEGINNER:
        return (
            f"I want to work {_as(role)} because I enjoy this work. "
            "In my last project, I helped my team finish on time, and it felt great. "
            "Your company helps many people, and I want to be part of that."
        )
    return (
        f"I'm interested in this position because working {_as(role)} matches what I do best and what I "
        "want to learn next. In my last project I improved a process that saved my team hours "
        "every week, and I enjoyed seeing that kind of result. Your company's focus on its users "
        "is exactly the environment where I can contribute from day one and keep growing."
    )


def _future(role: str, level: Level) -> str:
    if level is Level.BEGINNER:
        return (
            f"In five years, I want to be a strong {_bare(role)}. "
            "I want to lead small projects and help new team members."
        )
    return (
        f"In five years I see myself as an experienced {_bare(role)} "
        "who leads projects from idea to launch. I plan to get there by taking on more "
        "responsibility step by step and by mentoring newer team members, as I already did with "
        "two interns in my last role."
    )


def _questions(role: str) -> str:
    return (
        f"Yes, thank you. What would success look like {_in_first_months(role)}? "
        "And how does the team share feedback on each other's work?"
    )


def _role(topic: str) -> str:
    """The role named in the topic, without an article or "role" around it: "the UX designer
    role" -> "UX designer"."""
    role = re.sub(r"^(?:the|a|an)\s+", "", topic.strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+(?:role|position|job)$", "", role, flags=re.IGNORECASE).strip(" .")


def _as(role: str) -> str:
    """ "as a nurse", or "in this role" when the learner named none."""
    return f"as {article(role)} {role}" if role else "in this role"


def _bare(role: str) -> str:
    return role or "professional"


def _in_first_months(role: str) -> str:
    if not role:
        return "in the first six months in this role"
    return f"for {article(role)} {role} in the first six months"

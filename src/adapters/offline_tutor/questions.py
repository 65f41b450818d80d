"""Interview question banks, chosen by keywords of the role the learner names."""

from __future__ import annotations

OPENING = "Could you start by telling me a little about yourself and your background?"
CLOSING = "Do you have any questions for us?"
GENERAL = (
    "Why are you interested in this position?",
    "Tell me about a challenge you faced at work or school and how you handled it.",
    "Describe a time you worked in a team with people who disagreed. What did you do?",
    "What is one achievement you are especially proud of?",
    "How do you usually learn a new skill quickly?",
    "Where do you see yourself in five years?",
)

BANKS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("backend", "api", "software", "developer", "engineer", "programmer", "programming", "devops"): (
        "Can you walk me through a system you designed and the trade-offs you made?",
        "How would you design an API that must stay correct when many requests arrive at once?",
        "Tell me about a production incident you helped resolve. What did you learn?",
        "How do you make sure your code is well tested before it ships?",
        "How do you approach database schema changes on a live system?",
    ),
    ("frontend", "web", "react", "ui", "javascript"): (
        "How do you keep a large front-end codebase maintainable?",
        "How do you make a web page fast on a slow mobile connection?",
        "Tell me about a time you worked closely with a designer.",
        "How do you make sure your interfaces are accessible?",
    ),
    ("data", "analyst", "scientist", "machine", "ml", "ai"): (
        "Tell me about a data project where your analysis changed a decision.",
        "How do you explain a complex result to people without a technical background?",
        "How do you check that your data is reliable before you use it?",
        "Describe a model you built. How did you know it was good enough?",
    ),
    ("design", "designer", "ux", "product"): (
        "Walk me through your design process on a recent project.",
        "How do you handle feedback you disagree with?",
        "How do you decide what to build first when everything seems important?",
        "Tell me about a time user research surprised you.",
    ),
    ("marketing", "sales", "business", "customer"): (
        "Tell me about a campaign or deal you are proud of. What was your part?",
        "How do you handle a difficult customer?",
        "How do you measure whether your work is successful?",
        "How would you introduce our product to a new market?",
    ),
    ("finance", "financial", "accountant", "accounting", "bank", "banking", "fintech", "auditor"): (
        "How do you make sure your numbers are accurate when a deadline is tight?",
        "Tell me about a time you found an error in a report. What did you do?",
        "How do you explain financial results to people outside finance?",
    ),
    ("nurse", "nursing", "doctor", "medical", "hospital", "care", "health"): (
        "Tell me about a time you had to stay calm under pressure.",
        "How do you communicate with patients who are worried or upset?",
        "How do you make sure nothing is missed during a handover?",
    ),
    ("teacher", "teaching", "tutor", "education"): (
        "How do you keep a class engaged?",
        "Tell me about a student who struggled and how you helped.",
        "How do you adapt a lesson for different levels?",
    ),
    ("hotel", "restaurant", "hospitality", "service", "server", "waiter", "barista", "chef"): (
        "Tell me about a time you turned an unhappy guest into a happy one.",
        "How do you stay organised during the busiest hours?",
        "Why do you enjoy working with people?",
    ),
}


def _matches(word: str, keyword: str) -> bool:
    # Prefixes let "designers" or "engineering" count; short keywords ("ui", "care") must be exact.
    return word == keyword or (len(keyword) >= 5 and word.startswith(keyword))


def questions_for(role: str) -> tuple[str, ...]:
    """The interview plan for ``role``: an opening question, the role-specific questions that
    match its words interleaved with general ones, and a closing question."""
    words = {w.strip(".,()/-:;'\"").lower() for w in role.replace("/", " ").split()}
    specific: list[str] = []
    for keywords, bank in BANKS.items():
        if any(_matches(word, keyword) for word in words for keyword in keywords):
            specific.extend(q for q in bank if q not in specific)
    middle: list[str] = []
    general = list(GENERAL)
    while specific or general:
        if specific:
            middle.append(specific.pop(0))
        if general:
            middle.append(general.pop(0))
    return (OPENING, *middle, CLOSING)

"""The offline tutor teaches without a key: it follows the learner, corrects one common mistake,
runs an interview for the named role, and always answers the same way to the same turns."""

from __future__ import annotations

import pytest

from adapters.offline_tutor import OfflineTutorGateway
from adapters.offline_tutor.questions import BANKS, CLOSING, GENERAL, OPENING
from chatcore.model import Mode
from llm.conftest import prompt

BACKEND = "backend developer at a fintech company"
DETAILED = (
    "At my last job I led the migration of our payment API to PostgreSQL. When traffic doubled, "
    "I split the slow queries and added caching, and latency dropped by 40 percent in two weeks."
)
tutor = OfflineTutorGateway()


def _interview(role: str, *answers: str) -> list[str]:
    """Play an interview: the tutor opens, then each answer gets a reply. All tutor turns."""
    said: list[str] = ["Hi, I'm ready."]
    replies = [tutor.reply_to(prompt(*said, mode=Mode.INTERVIEW, topic=role))]
    for answer in answers:
        said += [replies[-1], answer]
        replies.append(tutor.reply_to(prompt(*said, mode=Mode.INTERVIEW, topic=role)))
    return replies


def _talk(*said: str, topic: str = "") -> str:
    return tutor.reply_to(prompt(*said, topic=topic))


def _bank_for(keyword: str) -> tuple[str, ...]:
    return next(bank for keywords, bank in BANKS.items() if keyword in keywords)


async def test_replies_are_marked_offline_tutor_and_deterministic() -> None:
    chosen = prompt("I went to Busan with my family last weekend.")

    first = await tutor.complete(chosen)
    again = await OfflineTutorGateway().complete(chosen)

    assert first.model == tutor.model == "offline-tutor"
    assert first.text == again.text


def test_the_interview_opens_with_one_question_for_the_role() -> None:
    opening = _interview(BACKEND)[0]

    assert BACKEND in opening
    assert opening.count("?") == 1
    assert OPENING in opening


@pytest.mark.parametrize(
    ("role", "keyword"),
    [(BACKEND, "backend"), ("Nurse at a children's hospital", "nurse"), ("UX designer", "designer")],
)
def test_interview_questions_come_from_the_bank_of_the_roles_keywords(role: str, keyword: str) -> None:
    second_question = _interview(role, DETAILED)[1]

    assert "Next question:" in second_question
    assert any(question in second_question for question in _bank_for(keyword))


def test_a_role_without_known_keywords_gets_general_questions() -> None:
    second_question = _interview("astronaut", DETAILED)[1]

    assert any(question in second_question for question in GENERAL)


def test_a_short_answer_gets_told_so_and_a_follow_up_asks_for_an_example() -> None:
    reply = _interview(BACKEND, "I am good at Java.")[1]

    assert "quite short" in reply
    assert "Follow-up:" in reply
    assert "example" in reply.split("Follow-up:")[1]


def test_a_detailed_answer_is_praised_for_its_example_and_numbers_and_the_interview_moves_on() -> None:
    reply = _interview(BACKEND, DETAILED)[1]

    assert "clear example" in reply
    assert "Numbers" in reply
    assert "Follow-up:" not in reply


def test_a_follow_up_digs_into_the_specifics_of_the_answer() -> None:
    answer = "We used Kafka for our events because the team needed reliable delivery between many services."

    reply = _interview(BACKEND, answer)[1]

    assert "Follow-up:" in reply
    assert "Kafka" in reply.split("Follow-up:")[1]


def test_after_a_follow_up_comes_the_next_question_not_another_follow_up() -> None:
    replies = _interview(BACKEND, "I like Java.", "I once built a small shop in Java for my uncle.")

    assert "Follow-up:" in replies[1]
    assert "Next question:" in replies[2]


def test_saying_done_ends_the_interview_with_a_summary() -> None:
    replies = _interview(BACKEND, DETAILED, DETAILED, "I'm done, thank you.")

    summary = replies[-1]
    assert "Summary: you answered 2 questions" in summary
    assert "Strengths:" in summary
    assert "To practise:" in summary
    assert "?" not in summary


def test_stop_inside_a_long_answer_does_not_end_the_interview() -> None:
    answer = (
        "When our payment service went down I could not stop thinking about it, "
        "so I wrote a runbook that 12 teams use today."
    )

    reply = _interview(BACKEND, answer)[1]

    assert "Summary" not in reply
    assert "Next question:" in reply


def test_questions_are_never_repeated_and_the_interview_ends_when_they_run_out() -> None:
    replies = _interview("astronaut", *[DETAILED] * 10)

    questions = [r.split("question:")[1].strip() for r in replies if "question:" in r]
    assert len(questions) == len(set(questions)) == len(GENERAL) + 2
    assert CLOSING in questions
    assert "That was my last question" in replies[-1]
    assert "Summary:" in replies[-1]


def test_the_conversation_picks_up_the_learners_words_and_asks_a_follow_up() -> None:
    reply = _talk("I went to Busan with my family last weekend.")

    assert "Busan" in reply
    assert "your family" in reply
    assert reply.rstrip().endswith("?")


def test_the_conversation_asks_about_plans_when_the_learner_talks_about_the_future() -> None:
    reply = _talk("Next month I will start a new job at a game company in Pangyo.")

    assert "Pangyo" in reply or "game company" in reply
    assert reply.rstrip().endswith("?")


@pytest.mark.parametrize(
    ("mistake", "natural"),
    [
        ("I am agree with your opinion about remote work.", "I agree"),
        ("Yesterday I didn't went to the office because of the rain.", "didn't go"),
        ("She have a new job in Seoul and she like it.", "She has"),
        ("I'm very interesting in machine learning.", "I'm very interested"),
        ("I am backend developer with three years of experience.", "a backend developer"),
        ("We discussed about the project schedule this morning.", '"discussed"'),
    ],
)
def test_a_common_mistake_gets_one_gentle_correction_note(mistake: str, natural: str) -> None:
    reply = _talk(mistake)

    assert reply.count("Correction:") == 1
    assert natural in reply.split("Correction:")[1]


def test_a_correction_note_is_not_repeated_as_an_echo_of_the_mistake() -> None:
    reply = _talk("I am agree with your opinion about remote work.")

    assert "you are agree" not in reply.lower()


@pytest.mark.parametrize(
    "correct",
    [
        "Does he have a car? I think it works well for him.",
        "I agree with you, and I want to discuss the plan tomorrow.",
        "I have lived in Seoul since 2019 and I love it.",
    ],
)
def test_correct_english_gets_no_correction(correct: str) -> None:
    assert "Correction:" not in _talk(correct)


def test_a_greeting_opens_the_chosen_subject() -> None:
    reply = _talk("Hello!", topic="travelling in Japan")

    assert "travelling in Japan" in reply
    assert reply.rstrip().endswith("?")


def test_a_one_word_answer_is_encouraged_into_a_sentence() -> None:
    assert "full sentence" in _talk("Cooking.")


def test_a_question_from_the_learner_is_turned_back_to_them() -> None:
    reply = _talk("What is your favourite food?")

    assert "offline practice tutor" in reply
    assert reply.rstrip().endswith("?")

"""The offline tutor's feedback: real corrections for common learner mistakes (with Korean
explanations), silence on correct English, interview scores from the shape of an answer, and
a scorecard with strengths, improvements and a model answer."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.offline_tutor import OfflineTutorGateway
from adapters.offline_tutor.corrections import RULES
from adapters.offline_tutor.feedback import feedback_for, scorecard_for
from adapters.offline_tutor.scoring import WEIGHTS
from chatcore.learning import MAX_CORRECTIONS, Criteria, Feedback, Level, Score
from chatcore.model import Mode
from llm.conftest import prompt

HANGUL = re.compile("[\uac00-\ud7a3]")
QUESTION = "Tell me about a challenge you faced at work or school and how you handled it."
STAR_ANSWER = (
    "When I was at my last job, our payment service was too slow during sales. My role was to find "
    "the cause. I analyzed the slowest queries, I built a cache and I decided to split the biggest "
    "table. As a result, latency dropped by 40 percent and we handled twice the traffic."
)

MISTAKES: list[tuple[str, list[tuple[str, str]]]] = [
    # tense agreement
    ("Yesterday I go to the park with my dog.", [("Yesterday I go", "Yesterday I went")]),
    ("I go to Busan last weekend.", [("I go", "I went")]),
    ("I play soccer with my friends last Sunday.", [("I play", "I played")]),
    ("Last night I am so tired.", [("Last night I am", "Last night I was")]),
    ("Yesterday I have to work late.", [("Yesterday I have", "Yesterday I had")]),
    ("We meet our new manager two days ago.", [("We meet", "We met")]),
    # verb forms after do / did / can
    ("Yesterday I didn't went to the office.", [("didn't went", "didn't go")]),
    ("He doesn't likes coffee.", [("doesn't likes", "doesn't like")]),
    ("She can speaks English very well.", [("can speaks", "can speak")]),
    ("I am work at Samsung.", [("I am work", "I work")]),
    ("I can't able to go.", [("can't able to", "can't")]),
    ("He is more taller than me.", [("more taller", "taller")]),
    # agree
    ("I am agree with your opinion.", [("I am agree", "I agree")]),
    ("I am not agree with him.", [("I am not agree", "I don't agree")]),
    # boring / bored and friends
    ("I am boring at home these days.", [("I am boring", "I am bored")]),
    ("I'm so exciting about the trip.", [("I'm so exciting", "I'm so excited")]),
    ("I was very confusing in the meeting.", [("I was very confusing", "I was very confused")]),
    ("I'm interesting in machine learning.", [("I'm interesting", "I'm interested")]),
    ("I'm stress because of work.", [("I'm stress", "I'm stressed")]),
    # third-person -s and its opposite
    ("He go to work by bus.", [("He go", "He goes")]),
    ("She have two brothers.", [("She have", "She has")]),
    ("My mother like cooking.", [("My mother like", "My mother likes")]),
    ("It don't matter.", [("It don't", "It doesn't")]),
    ("They likes pizza.", [("They likes", "They like")]),
    # articles
    ("I am student.", [("I am student", "I am a student")]),
    ("I want to be engineer.", [("to be engineer", "to be an engineer")]),
    ("I'm backend developer at a startup.", [("I'm backend developer", "I'm a backend developer")]),
    ("I am university student.", [("I am university student", "I am a university student")]),
    ("It was a interesting question.", [("a interesting", "an interesting")]),
    # countable nouns
    ("I need some informations about the job.", [("informations", "information")]),
    ("Can you give me a advice?", [("a advice", "some advice")]),
    ("We bought new furnitures.", [("furnitures", "furniture")]),
    ("I don't have many informations.", [("many informations", "a lot of information")]),
    # prepositions
    ("We discussed about the budget.", [("discussed about", "discussed")]),
    ("She is married with a doctor.", [("married with", "married to")]),
    ("We arrived to Seoul at noon.", [("arrived to", "arrived in")]),
    ("I will arrive to the airport soon.", [("arrive to", "arrive at")]),
    ("What do you do in the weekend?", [("in the weekend", "on the weekend")]),
    ("Please reply me soon.", [("reply me", "reply to me")]),
    ("I am waiting you.", [("waiting you", "waiting for you")]),
    ("I like to listen music on the bus.", [("listen music", "listen to music")]),
    ("Can you explain me the rules?", [("explain me", "explain to me")]),
    ("My style is different with my sister's.", [("different with", "different from")]),
    ("We went to shopping after lunch.", [("went to shopping", "went shopping")]),
    ("The class starts in Monday.", [("in Monday", "on Monday")]),
    ("I worked here since three years.", [("since three years", "for three years")]),
    # Konglish
    ("Fighting!", [("Fighting", "You can do it")]),
    ("Interview fighting!", [("Interview fighting", "Good luck with your interview")]),
    ("Korea fighting!", [("Korea fighting", "Go, Korea")]),
    ("Fighting, Minji!", [("Fighting", "You can do it")]),
    ("I like eye shopping in Myeongdong.", [("eye shopping", "window shopping")]),
    ("Koreans think skinship is important.", [("skinship", "physical affection")]),
    ("I lost my handphone.", [("handphone", "cell phone")]),
    ("My notebook is too slow for coding.", [("notebook", "laptop")]),
    ("One shot!", [("One shot", "Bottoms up")]),
    ("Let's take a selca.", [("selca", "selfie")]),
    ("I live in a big apart in Seoul.", [("big apart", "big apartment")]),
    ("The kimchi was free, it's service.", [("it's service", "it's on the house")]),
    ("My friend set up a sogaeting for me.", [("sogaeting", "blind date")]),
    ("He did cunning on the test.", [("did cunning", "cheated")]),
    ("I go to health after work.", [("go to health", "go to the gym")]),
    ("She wore a one piece to the party.", [("wore a one piece", "wore a dress")]),
    ("Can I get a morning call at 7?", [("morning call", "wake-up call")]),
    # word choice
    ("I have a plan to study abroad.", [("I have a plan to", "I'm planning to")]),
    ("The view was very amazing.", [("very amazing", "really amazing")]),
    ("I very like Korean food.", [("very like", "really like")]),
    ("This one is more better.", [("more better", "better")]),
    ("According to me, it is a good idea.", [("According to me", "In my opinion")]),
    ("Almost Koreans like kimchi.", [("Almost Koreans", "almost all Koreans")]),
    # several at once: the most useful first, at most three
    (
        "Yesterday I go to a cafe and i am boring.",
        [("Yesterday I go", "Yesterday I went"), ("i am boring", "i am bored")],
    ),
    (
        "i am student and she have many informations. interview fighting!",
        [
            ("she have", "she has"),
            ("interview fighting", "good luck with your interview"),
            ("i am student", "i am a student"),
        ],
    ),
]

CORRECT = [
    "At my last job I led the migration of our payment API to PostgreSQL.",
    "When traffic doubled, I split the slow queries and added caching, and latency dropped by 40 percent.",
    "It is a service that helps small shops, and we sell software as a service.",
    "They were so bored that they left early, because the movie was boring.",
    "I went home early yesterday because I was tired.",
    "I'm looking forward to meeting you.",
    "I have lived in Seoul since 2019 and I love it.",
    "Does he have a car? I think it works well for him.",
    "I think I saw him yesterday.",
    "I suggest that he go home.",
    "I am meeting teacher candidates tomorrow.",
    "I have a software engineer interview and a feedback loop to design.",
    "Most of my friends work in Seoul, and almost all students passed.",
    "My sister teaches math at a high school.",
    "I'm a backend developer at a fintech company.",
    "We arrived at the airport at 6 a.m. and arrived in Busan at noon.",
    "I watched my brother play soccer. Let him go. Make it work.",
    "I heard she left the company last year.",
    "I was fighting with my brother. Stop fighting!",
    "I bought a new notebook for my English class.",
    "I had one shot at the title.",
    "Apart from that, everything is fine.",
    "I got a lot of useful advice, and thanks for the feedback.",
    "I will found a company in Monday's meeting.",
    "I used AWS SNS to send notifications.",
    "I usually go to the gym on the weekend.",
    "Did she go to Busan last week?",
    "I don't know.",
    # sentences that look like the mistakes above, but are right
    "Since yesterday I have felt sick, and last year we have grown by 20 percent.",
    "They work as hard as last year, and I play better than last year.",
    "They call it the best game of last year. I watch last week's video.",
    "May has 31 days, and Will likes tea.",
    "My mom and my dad like hiking. I was watching my son play.",
    "He is doctor Kim's patient, and she became manager of the team.",
    "She is married with two children.",
    "I went to downtown Seoul and to the home page, then to swimming lessons.",
    "We love weekend trips, and I work night shifts at the morning meeting.",
    "I used a Jupyter notebook with Python to train the model on my laptop.",
    "What sets her apart is her attitude.",
    "It's service with a smile, and the service was quick.",
    "I had a meeting with some women from the marketing team.",
    "I need a sharp pencil for drawing, and the engine is a smoothly running machine.",
    "for i in range(10): print(i)",
    "I'm like my dad. I am going home. I'm thinking about it.",
    "They were fighting, and I left.",
    "We talked about interview fighting techniques.",
]


def _feedback(text: str, level: Level = Level.INTERMEDIATE) -> Feedback:
    return feedback_for(text, mode=Mode.CONVERSATION, level=level, question=None)


@pytest.mark.parametrize(("sentence", "expected"), MISTAKES)
def test_a_common_mistake_gets_its_correction(sentence: str, expected: list[tuple[str, str]]) -> None:
    corrections = _feedback(sentence).corrections

    assert [(c.original, c.corrected) for c in corrections] == expected
    for correction in corrections:
        assert correction.original in sentence
        assert correction.explanation.endswith(".")
        assert HANGUL.search(correction.explanation_ko)


@pytest.mark.parametrize("sentence", CORRECT)
def test_correct_english_gets_no_correction(sentence: str) -> None:
    assert _feedback(sentence) == Feedback(corrections=(), better_phrasing=None, score=None)


def test_the_table_is_big_enough() -> None:
    assert len(MISTAKES) >= 40
    assert len(CORRECT) >= 10


def test_every_rule_explains_itself_in_english_and_in_korean() -> None:
    for rule in RULES:
        assert rule.why, rule.pattern.pattern
        assert not HANGUL.search(rule.why), rule.pattern.pattern
        assert HANGUL.search(rule.why_ko), rule.pattern.pattern


def test_at_most_three_corrections_the_most_useful_first() -> None:
    text = "i am student. She have a dog. I am boring. We discussed about it. I lost my handphone."

    corrections = _feedback(text).corrections

    assert len(corrections) == MAX_CORRECTIONS
    assert [c.original for c in corrections] == ["I am boring", "She have", "handphone"]


def test_the_better_phrasing_is_the_whole_message_with_the_corrections_applied() -> None:
    feedback = _feedback("yesterday i go to the park and she have a dog")

    assert feedback.better_phrasing == "Yesterday I went to the park and she has a dog."


@pytest.mark.parametrize(("sentence", "expected"), MISTAKES[::7])
def test_the_replys_correction_note_is_the_first_correction_of_the_feedback(
    sentence: str, expected: list[tuple[str, str]]
) -> None:
    reply = OfflineTutorGateway().reply_to(prompt(sentence))

    original, corrected = expected[0]
    assert f'Correction: "{original}" → "{corrected}"' in reply


def test_the_better_phrasing_starts_each_sentence_with_a_capital() -> None:
    feedback = _feedback("we met at 9 a.m. and talked. yesterday i go home at 6 p.m. then i slept")

    assert (
        feedback.better_phrasing
        == "We met at 9 a.m. and talked. Yesterday I went home at 6 p.m. then I slept."
    )


def test_the_better_phrasing_fixes_every_mistake_found_even_past_the_third() -> None:
    feedback = _feedback("i am student and she have many informations. interview fighting!")

    assert len(feedback.corrections) == MAX_CORRECTIONS
    assert feedback.better_phrasing == (
        "I am a student and she has a lot of information. Good luck with your interview!"
    )


def test_beginners_get_the_simpler_explanation() -> None:
    beginner = _feedback("I am boring today.", Level.BEGINNER).corrections[0]
    advanced = _feedback("I am boring today.", Level.ADVANCED).corrections[0]

    assert beginner.corrected == advanced.corrected == "I am bored"
    assert len(beginner.explanation) < len(advanced.explanation)
    assert beginner.explanation_ko == advanced.explanation_ko


def _score(answer: str, level: Level = Level.INTERMEDIATE, question: str | None = QUESTION) -> Feedback:
    return feedback_for(answer, mode=Mode.INTERVIEW, level=level, question=question)


def _scored(answer: str, level: Level = Level.INTERMEDIATE, question: str = QUESTION) -> Score:
    score = _score(answer, level, question).score
    assert score is not None
    return score


def test_only_an_interview_answer_to_a_question_is_scored() -> None:
    assert _feedback(STAR_ANSWER).score is None
    assert _score(STAR_ANSWER, question=None).score is None
    assert _score(STAR_ANSWER).score is not None


def test_a_star_answer_with_numbers_scores_well_above_i_dont_know() -> None:
    strong = _scored(STAR_ANSWER)
    weak = _scored("I don't know.")
    short = _scored("I handled it well.")

    assert strong.overall >= 75
    assert strong.overall > short.overall > weak.overall
    assert strong.criteria.structure > short.criteria.structure
    assert weak.criteria.relevance < 30


def test_the_overall_score_is_the_documented_weighted_mean() -> None:
    score = _scored(STAR_ANSWER + " Um, you know, it was kind of hard.")

    c = score.criteria
    expected = WEIGHTS["relevance"] * c.relevance + WEIGHTS["structure"] * c.structure
    expected += WEIGHTS["clarity"] * c.clarity + WEIGHTS["grammar"] * c.grammar
    assert score.overall == round(expected)
    assert sum(WEIGHTS.values()) == pytest.approx(1)


def test_filler_words_cost_clarity_and_mistakes_cost_grammar() -> None:
    clean = _scored(STAR_ANSWER)
    filled = _scored(STAR_ANSWER.replace("I analyzed", "Um, I, like, you know, analyzed"))
    wrong = _scored(STAR_ANSWER + " I am agree that she have a big challenge.")

    assert filled.criteria.clarity < clean.criteria.clarity
    assert wrong.criteria.grammar < clean.criteria.grammar


def test_advanced_learners_are_scored_more_strictly_than_beginners() -> None:
    answer = "When I was student, I go to the library and I study hard. She have good grades."

    beginner = _scored(answer, Level.BEGINNER)
    advanced = _scored(answer, Level.ADVANCED)

    assert beginner.criteria.grammar > advanced.criteria.grammar
    assert beginner.overall > advanced.overall


def test_the_scorecard_averages_the_answers_and_answers_the_weakest_question() -> None:
    exchanges = [
        (QUESTION, STAR_ANSWER),
        ("How do you keep a class engaged?", "I don't know."),
        ("Why are you interested in this position?", "Because I like teaching children very much."),
    ]

    card = scorecard_for(exchanges, topic="teacher at an elementary school", level=Level.INTERMEDIATE)

    scores = [_scored(a, question=q) for q, a in exchanges]
    relevance = round(sum(s.criteria.relevance for s in scores) / 3)
    assert card.criteria.relevance == relevance
    assert 0 <= card.overall <= 100
    assert 2 <= len(card.strengths) <= 3
    assert 2 <= len(card.improvements) <= 3
    assert len(set(card.strengths)) == len(card.strengths)
    assert card.model_answer.question == "How do you keep a class engaged?"
    assert card.model_answer.answer.startswith("Let me show you how I keep a class engaged")
    assert "teacher at an elementary school" in card.model_answer.answer
    assert "As a result" in card.model_answer.answer


def test_the_scorecard_names_what_is_missing() -> None:
    card = scorecard_for(
        [(QUESTION, "I worked hard and my team liked it, so everything was fine in the end for everyone.")],
        topic="nurse",
        level=Level.BEGINNER,
    )

    assert any("number" in text for text in card.improvements)
    assert card.model_answer.question == QUESTION
    assert card.model_answer.answer.startswith("Let me tell you about a challenge I faced at work or school")


def test_the_scorecard_names_a_mistake_to_watch() -> None:
    answer = STAR_ANSWER + " My manager say she has never seen such a fast fix."

    card = scorecard_for([(QUESTION, answer)], topic="backend developer", level=Level.INTERMEDIATE)

    watch = 'Watch "My manager say" → "My manager says": with one person as the subject the verb takes -s.'
    assert watch in card.improvements


def test_a_strong_interview_gets_specific_strengths() -> None:
    card = scorecard_for([(QUESTION, STAR_ANSWER)] * 2, topic="backend developer", level=Level.ADVANCED)

    assert "You described what you did yourself in 2 of 2 answers." in card.strengths
    assert "You used numbers to show the result of your work." in card.strengths


def test_a_scorecard_needs_an_answer() -> None:
    with pytest.raises(ValueError, match="at least one"):
        scorecard_for([], topic="nurse", level=Level.INTERMEDIATE)


def test_feedback_and_scorecards_are_deterministic() -> None:
    assert _score(STAR_ANSWER) == _score(STAR_ANSWER)
    pairs = [(QUESTION, STAR_ANSWER), ("Where do you see yourself in five years?", "Leading a team.")]
    assert scorecard_for(pairs, topic="x", level=Level.ADVANCED) == scorecard_for(
        pairs, topic="x", level=Level.ADVANCED
    )


LEARNER_TEXT = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzIAYSHFK ,.!?'-0123456789\n한국")),
    max_size=300,
) | st.lists(
    st.sampled_from(
        [
            *("i", "I", "am", "is", "go", "goes", "have", "has", "he", "she", "my", "mother", "yesterday"),
            *("last", "week", "to", "a", "an", "the", "student", "boring", "fighting", "notebook"),
            *("informations", "discussed", "about", "married", "with", "arrived", "in", "weekend"),
            *("service", "it's", "very", "amazing", "Korea", "interview", "one", "shot", "apart", "big"),
            *("do", "did", "didn't", "went", "can", "speaks", ",", ".", "!", "Fighting"),
        ]
    ),
    max_size=40,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=LEARNER_TEXT, level=st.sampled_from(Level), question=st.none() | st.text(max_size=80))
def test_any_text_gets_feedback_within_bounds(text: str, level: Level, question: str | None) -> None:
    feedback = feedback_for(text, mode=Mode.INTERVIEW, level=level, question=question)

    assert len(feedback.corrections) <= MAX_CORRECTIONS
    for correction in feedback.corrections:
        assert correction.original in text
        assert correction.original != correction.corrected
        assert HANGUL.search(correction.explanation_ko)
    assert (feedback.better_phrasing is not None) == bool(feedback.corrections)
    assert (feedback.score is None) == (question is None)
    if feedback.score is not None:
        values = [feedback.score.overall, *_values(feedback.score.criteria)]
        assert all(0 <= value <= 100 for value in values)


@settings(max_examples=100, deadline=None)
@given(
    exchanges=st.lists(st.tuples(st.text(max_size=80), LEARNER_TEXT), min_size=1, max_size=5),
    topic=st.text(max_size=40),
    level=st.sampled_from(Level),
)
def test_any_interview_gets_a_scorecard_within_bounds(
    exchanges: list[tuple[str, str]], topic: str, level: Level
) -> None:
    card = scorecard_for(exchanges, topic=topic, level=level)

    assert all(0 <= value <= 100 for value in [card.overall, *_values(card.criteria)])
    assert 2 <= len(card.strengths) <= 3
    assert 2 <= len(card.improvements) <= 3
    assert card.model_answer.question in [question for question, _ in exchanges]
    assert card.model_answer.answer


def _values(criteria: Criteria) -> list[int]:
    return [criteria.relevance, criteria.structure, criteria.clarity, criteria.grammar]

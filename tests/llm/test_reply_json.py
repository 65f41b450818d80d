"""The reply read out of a ``{"reply": ..., "feedback": ...}`` answer as it streams (SPEC §4.7):
every split of the answer into pieces gives the same reply text and feedback, escapes split
across pieces included; plain text passes through; the learner never loses text."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from adapters.openai_llm.reply_json import REPLACEMENT, ReplyExtractor, split_answer
from adapters.openai_llm.structured import feedback_from
from fakes.openai_payloads import FEEDBACK

TRICKY = 'Line one\nline "two" \\ back\\slash, tab\t, é, 한국어, emoji 😀 and \u2028 and /slash/ \x01'


def run(pieces: list[str]) -> tuple[list[str], str, str | None]:
    """(the deltas given while feeding, the tail given at the end, the feedback JSON)."""
    extractor = ReplyExtractor()
    deltas = [extractor.feed(piece) for piece in pieces]
    tail, feedback = extractor.finish()
    return deltas, tail, feedback


def splits(text: str, cuts: list[int]) -> list[str]:
    bounds = sorted({min(max(c, 0), len(text)) for c in cuts})
    pieces, start = [], 0
    for bound in bounds:
        pieces.append(text[start:bound])
        start = bound
    pieces.append(text[start:])
    return pieces


def combined(reply: str, *, ensure_ascii: bool = True, prefix: str = "", suffix: str = "") -> str:
    return prefix + json.dumps({"reply": reply, "feedback": FEEDBACK}, ensure_ascii=ensure_ascii) + suffix


def check_every_cut(text: str, reply: str, *, feedback: bool) -> None:
    for cut in range(len(text) + 1):
        for second in (cut, cut + 1, cut + 5):
            deltas, tail, found = run(splits(text, [cut, second]))
            assert "".join(deltas) + tail == reply, (cut, second)
            assert (found is not None) is feedback, (cut, second)
            if feedback:
                assert feedback_from(found or "") == feedback_from(json.dumps(FEEDBACK))


def test_every_single_and_double_cut_gives_the_reply_and_the_feedback() -> None:
    for ensure_ascii in (True, False):  # \uXXXX escapes (surrogate pairs for the emoji) or raw
        check_every_cut(combined(TRICKY, ensure_ascii=ensure_ascii), TRICKY, feedback=True)


def test_a_code_fence_and_prose_after_it_are_read_too() -> None:
    text = combined("Hello there!", prefix="  ```json\n", suffix="\n```\nGood luck!")
    check_every_cut(text, "Hello there!", feedback=True)


def test_the_reply_streams_before_the_feedback_arrives() -> None:
    text = combined("Hello there, how are you?")
    extractor = ReplyExtractor()
    given_text = extractor.feed(text[: text.index("how")])
    assert given_text == "Hello there, "
    assert extractor.feed(text[text.index("how") : text.index('"feedback"')]) == "how are you?"
    assert extractor.reply_closed


def test_plain_text_passes_through_unchanged_at_once() -> None:
    for text in ("  Hello! {not json}", "`code` is fine", 'Sure: {"reply": "x"}', "\n\nHi"):
        deltas, tail, found = run(splits(text, [1, 3]))
        assert "".join(deltas) + tail == text
        assert found is None
    extractor = ReplyExtractor()
    assert extractor.feed("Hi") == "Hi"  # decided on the first character, not at the end


def test_another_first_key_is_held_and_its_reply_given_at_the_end() -> None:
    text = json.dumps({"feedback": FEEDBACK, "reply": "Fine, thanks."})
    deltas, tail, found = run(splits(text, [3, 20]))
    assert deltas == ["", "", ""]
    assert tail == "Fine, thanks."
    assert found is not None


def test_malformed_json_is_given_back_raw_at_the_end() -> None:
    for text in ('{"answer": "oops', "{not json at all", '{"reply" = "x"}', "```json\n{", "   "):
        deltas, tail, found = run(splits(text, [2]))
        assert "".join(deltas) + tail == text
        assert found is None


def test_broken_feedback_keeps_the_reply_without_feedback() -> None:
    whole = combined("All good.")
    text = whole[: whole.index("corrected")]
    check_every_cut(text, "All good.", feedback=False)
    assert split_answer(text) == ("All good.", None)


def test_an_answer_cut_inside_the_reply_keeps_what_was_given() -> None:
    deltas, tail, found = run(['{"reply": "Half a sen', "tence and \\u00e", "9"])
    assert "".join(deltas) + tail == "Half a sentence and é"
    assert found is None


def test_lone_or_bad_escapes_never_break_the_text() -> None:
    cases = {
        '{"reply": "a\\ud83dz"}': "a" + REPLACEMENT + "z",
        '{"reply": "a\\ude00z"}': "a" + REPLACEMENT + "z",
        '{"reply": "a\\ud83d\\nz"}': "a" + REPLACEMENT + "\nz",
        '{"reply": "a\\qz"}': "aqz",
        '{"reply": "a\\uZZZZz"}': "a" + REPLACEMENT + "ZZZZz",
    }
    for text, reply in cases.items():
        for cut in range(len(text) + 1):
            deltas, tail, _ = run(splits(text, [cut]))
            assert "".join(deltas) + tail == reply, (text, cut)


def test_split_answer_of_whole_answers() -> None:
    assert split_answer(combined("Hi!")) == ("Hi!", json.dumps(FEEDBACK))
    assert split_answer("Here you go:\n" + combined("Hi!") + "\nBye")[0] == "Hi!"
    assert split_answer("Just text.") == ("Just text.", None)
    blank = json.dumps({"reply": "  ", "feedback": FEEDBACK})
    assert split_answer(blank) == (blank, None)
    assert split_answer('{"reply": "x", "feedback": null}') == ("x", None)


@given(
    reply=st.text(min_size=1).filter(str.strip),
    ensure_ascii=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_any_reply_split_anywhere_comes_back_whole(reply: str, ensure_ascii: bool, cuts: list[int]) -> None:
    reply = reply.encode("utf-8", "replace").decode()  # no lone surrogates: they cannot be stored
    text = combined(reply, ensure_ascii=ensure_ascii)
    deltas, tail, found = run(splits(text, cuts))
    assert "".join(deltas) + tail == reply
    assert found is not None


@given(text=st.text(), cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_no_text_is_ever_lost(text: str, cuts: list[int]) -> None:
    """Whatever arrives, something is given when the answer was not empty, and plain text is
    given exactly."""
    deltas, tail, _ = run(splits(text, cuts))
    given_text = "".join(deltas) + tail
    stripped = text.lstrip()
    if stripped and not stripped.startswith(("{", "`")):
        assert given_text == text
    elif text.strip():
        assert given_text.strip() or '"reply"' in text


def test_whitespace_before_the_answer_is_set_aside_as_it_comes() -> None:
    answer = json.dumps({"reply": "Hi there.", "feedback": FEEDBACK})
    shown, tail, feedback = run([" ", "\n"] * 5_000 + [answer[:5], answer[5:]])
    assert "".join(shown) + tail == "Hi there."
    assert feedback is not None
    plain_shown, plain_tail, _ = run(["  \n", "Plain ", "text."])
    assert "".join(plain_shown) + plain_tail == "  \nPlain text."  # plain text: unchanged


def test_an_answer_that_stays_undecided_is_held_to_the_end() -> None:
    answer = json.dumps({"reply": "Hi there.", "feedback": FEEDBACK})
    extractor = ReplyExtractor()
    shown = [extractor.feed(piece) for piece in ["```json\n", *(["\n"] * 5_000), answer]]
    assert "".join(shown) == ""  # undecided past 256 characters: nothing is scanned again
    tail, found = extractor.finish()
    assert tail == "Hi there."
    assert found is not None


def test_a_whole_answer_cut_inside_the_reply_gives_the_reply_so_far() -> None:
    assert split_answer('{"reply": "Hello, how are yo') == ("Hello, how are yo", None)
    assert split_answer('{"reply": "') == ('{"reply": "', None)  # nothing of a reply: the raw text

"""Structured output (SPEC §4.7): the JSON schemas a reply with its feedback and a scorecard are
asked in, and reading the model's JSON back into chatcore's values, validated with msgspec.

Where the server supports it, the schema goes upstream as ``response_format`` (``json_schema``,
strict). Servers that do not (many Ollama and llama.cpp builds answer 400) get the same request
without it: the prompt itself asks for that JSON (``chatcore.tutor``), and the answer is read
leniently: the first ``{`` to the last ``}``, so a code fence or a sentence around it does no
harm (the reply with its feedback is read by ``reply_json``, as it streams). Either way the JSON
must validate (types, 0-100 scores, at most ten items per list) or it
is not used: invalid feedback is no feedback; an invalid scorecard is an upstream error.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from chatcore.learning import Correction, Criteria, Feedback, ModelAnswer, Score, Scorecard

Points = Annotated[int, msgspec.Meta(ge=0, le=100)]
Line = Annotated[str, msgspec.Meta(max_length=2000)]
MAX_ITEMS = 10


class _Correction(msgspec.Struct):
    original: Line
    corrected: Line
    explanation: Line
    explanation_ko: Line


class _Criteria(msgspec.Struct):
    relevance: Points
    structure: Points
    clarity: Points
    grammar: Points


class _Score(msgspec.Struct):
    overall: Points
    criteria: _Criteria


class _Feedback(msgspec.Struct):
    corrections: Annotated[list[_Correction], msgspec.Meta(max_length=MAX_ITEMS)]
    better_phrasing: Line | None = None
    score: _Score | None = None


class _ModelAnswer(msgspec.Struct):
    question: Line
    answer: Annotated[str, msgspec.Meta(max_length=8000)]


class _Scorecard(msgspec.Struct):
    overall: Points
    criteria: _Criteria
    strengths: Annotated[list[Line], msgspec.Meta(max_length=MAX_ITEMS)]
    improvements: Annotated[list[Line], msgspec.Meta(max_length=MAX_ITEMS)]
    model_answer: _ModelAnswer


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    # Strict structured output wants every property required and no others.
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_POINTS = {"type": "integer", "minimum": 0, "maximum": 100}
_TEXT = {"type": "string"}
_CRITERIA = _object(dict.fromkeys(("relevance", "structure", "clarity", "grammar"), _POINTS))
FEEDBACK_SCHEMA = _object(
    {
        "corrections": {
            "type": "array",
            "items": _object(
                dict.fromkeys(("original", "corrected", "explanation", "explanation_ko"), _TEXT)
            ),
        },
        "better_phrasing": {"type": ["string", "null"]},
        "score": {"anyOf": [{"type": "null"}, _object({"overall": _POINTS, "criteria": _CRITERIA})]},
    }
)
REPLY_SCHEMA = _object({"reply": _TEXT, "feedback": FEEDBACK_SCHEMA})
"""A chat message's answer: "reply" first, so the model writes it first and it can stream."""
SCORECARD_SCHEMA = _object(
    {
        "overall": _POINTS,
        "criteria": _CRITERIA,
        "strengths": {"type": "array", "items": _TEXT},
        "improvements": {"type": "array", "items": _TEXT},
        "model_answer": _object({"question": _TEXT, "answer": _TEXT}),
    }
)


def response_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def _json_part(text: str) -> str:
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def _criteria(c: _Criteria) -> Criteria:
    return Criteria(relevance=c.relevance, structure=c.structure, clarity=c.clarity, grammar=c.grammar)


def feedback_from(text: str) -> Feedback | None:
    """The feedback in a model's answer, or ``None`` when it is not valid feedback JSON."""
    try:
        raw = msgspec.json.decode(_json_part(text), type=_Feedback)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return Feedback(
        corrections=tuple(
            Correction(
                original=c.original,
                corrected=c.corrected,
                explanation=c.explanation,
                explanation_ko=c.explanation_ko,
            )
            for c in raw.corrections
        ),
        better_phrasing=raw.better_phrasing,
        score=None
        if raw.score is None
        else Score(overall=raw.score.overall, criteria=_criteria(raw.score.criteria)),
    )


def scorecard_from(text: str) -> Scorecard | None:
    """The scorecard in a model's answer, or ``None`` when it is not a valid scorecard JSON."""
    try:
        raw = msgspec.json.decode(_json_part(text), type=_Scorecard)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    strengths = tuple(s.strip() for s in raw.strengths if s.strip())
    improvements = tuple(s.strip() for s in raw.improvements if s.strip())
    if not raw.model_answer.answer.strip():
        return None
    return Scorecard(
        overall=raw.overall,
        criteria=_criteria(raw.criteria),
        strengths=strengths,
        improvements=improvements,
        model_answer=ModelAnswer(question=raw.model_answer.question, answer=raw.model_answer.answer),
    )

"""A corpus of hostile request bodies: what an attacker or a careless client sends to a JSON endpoint.

Each case is a name, the raw body, extra headers, and the answer the case demands when it is more
precise than "4xx with the error shape, or the endpoint's success": ``(status, code)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DEEP = 1000
"""Nesting depth of the deep bodies (past msgspec's limit, which raised RecursionError)."""

NUL = "a\u0000b"


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    expect: tuple[int, str] | None = None


def _dump(value: Any) -> bytes:
    """JSON as a client library writes it (``\\u`` escapes kept ASCII, surrogates allowed)."""
    return json.dumps(value).encode()


def _with(valid: dict[str, Any], key: str, raw_value: bytes) -> bytes:
    """``valid`` with ``key``'s value replaced by raw JSON text (which may be invalid)."""
    marker = "@@hostile@@"
    text = _dump({**valid, key: marker})
    return text.replace(_dump(marker), raw_value)


MALFORMED = (400, "malformed_json")
INVALID = (422, "validation_error")
TOO_LARGE = (413, "payload_too_large")


def whole_body_cases(valid: dict[str, Any]) -> list[Case]:
    """Cases that break the body as a whole (the same for every endpoint)."""
    body = _dump(valid)
    first = next(iter(valid), "x")
    return [
        Case("deep arrays", b"[" * DEEP + b"]" * DEEP, expect=MALFORMED),
        Case("deep objects", b'{"a":' * DEEP + b"1" + b"}" * DEEP, expect=MALFORMED),
        Case("deep inside a field", _with(valid, first, b"[" * DEEP + b"]" * DEEP), expect=MALFORMED),
        Case("invalid UTF-8", b'{"' + first.encode() + b'": "\xff\xfe"}', expect=MALFORMED),
        Case("UTF-8 encoded surrogate", b'{"' + first.encode() + b'": "\xed\xa0\x80"}', expect=MALFORMED),
        Case("byte order mark", b"\xef\xbb\xbf" + body, expect=MALFORMED),
        Case("empty body", b"", expect=MALFORMED),
        Case("truncated", body[: max(1, len(body) // 2)], expect=MALFORMED),
        Case("not JSON", b"hello", expect=MALFORMED),
        Case("array", b"[1, 2]", expect=INVALID),
        Case("string", b'"text"', expect=INVALID),
        Case("number", b"42", expect=INVALID),
        Case("null", b"null", expect=INVALID),
        Case("NUL in a key", _dump({**valid, NUL: 1}), expect=INVALID),
        Case("NUL in a nested string", _dump({**valid, "extra": [{"x": NUL}]}), expect=INVALID),
        Case("huge integer", _with(valid, first, b"9" * 400), expect=INVALID),
        Case("huge float", _with(valid, first, b"1e999")),
        Case("duplicate keys", body[:-1] + b", " + body[1:] if len(body) > 2 else body),
        Case("over 64 KiB", _with(valid, first, _dump("x" * 70_000)), expect=TOO_LARGE),
        Case("form content type", body, {"Content-Type": "application/x-www-form-urlencoded"}),
        Case("form body", b"username=a&password=b", {"Content-Type": "application/x-www-form-urlencoded"}),
        Case("text content type", body, {"Content-Type": "text/plain"}),
        Case("multipart", b"--x\r\n\r\n--x--", {"Content-Type": "multipart/form-data; boundary=x"}),
    ]


def field_cases(valid: dict[str, Any]) -> list[Case]:
    """Cases that put one hostile value in one field of an otherwise valid body."""
    cases: list[Case] = []
    for key, value in valid.items():
        values: list[tuple[str, bytes, tuple[int, str] | None]] = [
            ("NUL", _dump(NUL), INVALID),
            ("lone NUL", b'"\\u0000"', INVALID),
            ("unpaired high surrogate", b'"\\ud800"', MALFORMED),
            ("unpaired low surrogate", b'"x\\udc00"', MALFORMED),
            ("invalid UTF-8", b'"\xc3\x28"', MALFORMED),
            ("raw control character", b'"a\x01b"', MALFORMED),
            ("overlong string", _dump("x" * 60_000), None),
            ("huge integer", b"1" + b"0" * 30, None),
            ("negative", b"-1", None),
            ("float", b"1.5", None),
            ("boolean", b"true", None),
            ("null", b"null", None),
            ("object", b'{"a": 1}', None),
            ("array of strings", _dump([NUL]), INVALID),
        ]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            # A list of objects (/v1 messages): NUL inside one of them.
            inner = {**value[0], next(iter(value[0])): NUL}
            values.append(("NUL in an item", _dump([inner]), INVALID))
        cases.extend(Case(f"{key}: {name}", _with(valid, key, raw), expect=e) for name, raw, e in values)
    return cases

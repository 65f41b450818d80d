"""The reply inside a ``{"reply": ..., "feedback": ...}`` answer, read as it streams (SPEC §4.7).

A chat message asks the model for one JSON object, ``"reply"`` first. :class:`ReplyExtractor`
takes the answer's text pieces as they arrive and gives back, at once, the text of the
``"reply"`` string decoded so far (JSON escapes included, even when one is split across pieces),
so the learner reads the reply while it is generated; the rest (the feedback) is kept until the
end. It never loses text:

* an answer that does not start with ``{`` (or a code fence and ``{``) is plain text: it passes
  through unchanged (a server or model that ignored the format);
* an object whose first key is not ``"reply"`` (or that is malformed before the reply starts)
  is held back, and at the end its ``"reply"`` is given if the whole parses, else the raw text;
* an answer that ends inside the reply string keeps what was given (the stream's own checks
  tell whether it ended properly).

:meth:`ReplyExtractor.finish` also returns the JSON text of the feedback, when the whole answer
parsed; ``structured.feedback_from`` validates it.
"""

from __future__ import annotations

import re

import msgspec

_SPECIAL = re.compile(r'["\\]')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = frozenset("0123456789abcdefABCDEF")
_WS = " \t\r\n"
_KEY = '"reply"'
_FENCE = "```"
_MAX_FENCE_LINE = 40
_MAX_HEAD = 256
"""Characters read without knowing what the answer is (a model emitting endless whitespace after
a fence, say): past them it is held to the end, so each piece is not scanned again from the start."""
"""A code fence's first line (```json) longer than this is not a fence: the text is plain."""
REPLACEMENT = "\ufffd"
"""What a lone surrogate escape becomes (it could not be stored as UTF-8)."""

_HEAD, _REPLY, _AFTER, _PLAIN, _HELD = range(5)


class _Combined(msgspec.Struct):
    reply: str
    feedback: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))


def _json_part(text: str) -> str:
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def parse_combined(text: str) -> tuple[str, str | None] | None:
    """(reply, feedback JSON or ``None``) of a whole answer, read leniently (the first ``{`` to
    the last ``}``, so a code fence or prose around does no harm); ``None`` when it is not such
    an object or its reply is blank."""
    try:
        combined = msgspec.json.decode(_json_part(text), type=_Combined)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if not combined.reply.strip():
        return None
    raw = bytes(combined.feedback).decode()
    return combined.reply, None if raw == "null" else raw


def split_answer(text: str) -> tuple[str, str | None]:
    """(reply, feedback JSON or ``None``) of a whole, non-streamed answer: the object's parts when
    it is one (:func:`parse_combined`); its reply string alone when the answer is cut inside it or
    only what follows it is broken; else the whole text is the reply, with no feedback."""
    parsed = parse_combined(text)
    if parsed is not None:
        return parsed
    extractor = ReplyExtractor()
    shown = extractor.feed(text)
    if extractor.reply_started and shown.strip():  # cut inside the reply, or broken after it
        return shown, None
    return text, None


def _skip_ws(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WS:
        index += 1
    return index


class ReplyExtractor:
    """Feed the answer's pieces in order (:meth:`feed`), then call :meth:`finish` once."""

    def __init__(self) -> None:
        self._state = _HEAD
        self._received: list[str] = []
        self._head = ""
        """_HEAD: the text received while still deciding what the answer is."""
        self._pending = ""
        """_REPLY: an escape sequence split across pieces, completed by the next one."""
        self._lead: list[str] = []
        """_HEAD: the whitespace before the answer's first character (given back if it is plain)."""

    @property
    def reply_started(self) -> bool:
        """Whether the reply string's opening quote was read (the reply is being, or was, given)."""
        return self._state in (_REPLY, _AFTER)

    @property
    def reply_closed(self) -> bool:
        """Whether the reply string was read to its closing quote."""
        return self._state == _AFTER

    def feed(self, piece: str) -> str:
        """The reply text ``piece`` completes (possibly empty)."""
        self._received.append(piece)
        if self._state == _PLAIN:
            return piece
        if self._state == _REPLY:
            return self._decode(piece)
        if self._state != _HEAD:
            return ""
        if not self._head:  # leading whitespace is set aside as it comes, never scanned again
            stripped = piece.lstrip(_WS)
            self._lead.append(piece[: len(piece) - len(stripped)])
            piece = stripped
            if not piece:
                return ""
        self._head += piece
        shown = self._decide()
        if self._state == _HEAD and len(self._head) > _MAX_HEAD:
            self._state, self._head = _HELD, ""
        return shown

    def finish(self) -> tuple[str, str | None]:
        """(the reply text not given yet, the feedback's JSON text or ``None``)."""
        text = "".join(self._received)
        if self._state == _PLAIN:
            return "", None
        if self._state == _REPLY:  # ended inside the reply: no feedback after it
            return "", None
        parsed = parse_combined(text)
        if self._state == _AFTER:
            return "", None if parsed is None else parsed[1]
        # _HEAD or _HELD: nothing given yet.
        if parsed is None:
            return text, None
        return parsed

    def _decide(self) -> str:
        head = self._head
        start = _skip_ws(head, 0)
        if start == len(head):
            return ""
        if head.startswith("{", start):
            body = start + 1
        elif head.startswith(_FENCE, start) or _FENCE.startswith(head[start:]):
            newline = head.find("\n", start)
            if newline < 0:
                if len(head) - start > _MAX_FENCE_LINE:
                    return self._plain()
                return ""
            if newline - start > _MAX_FENCE_LINE:
                return self._plain()
            brace = _skip_ws(head, newline + 1)
            if brace == len(head):
                return ""
            if head[brace] != "{":
                return self._plain()
            body = brace + 1
        else:
            return self._plain()
        # {  "reply"  :  "
        index = _skip_ws(head, body)
        rest = head[index : index + len(_KEY)]
        if not _KEY.startswith(rest):
            self._state = _HELD
            return ""
        if len(rest) < len(_KEY):
            return ""
        index = _skip_ws(head, index + len(_KEY))
        if index == len(head):
            return ""
        if head[index] != ":":
            self._state = _HELD
            return ""
        index = _skip_ws(head, index + 1)
        if index == len(head):
            return ""
        if head[index] != '"':
            self._state = _HELD
            return ""
        self._state = _REPLY
        self._head = ""
        return self._decode(head[index + 1 :])

    def _plain(self) -> str:
        self._state = _PLAIN
        head, self._head = "".join(self._lead) + self._head, ""
        return head

    def _decode(self, piece: str) -> str:
        text = self._pending + piece
        self._pending = ""
        out: list[str] = []
        index = 0
        while True:
            match = _SPECIAL.search(text, index)
            if match is None:
                out.append(text[index:])
                break
            at = match.start()
            out.append(text[index:at])
            if text[at] == '"':
                self._state = _AFTER
                break
            decoded, index = self._escape(text, at)
            if index < 0:  # incomplete: wait for the next piece
                self._pending = text[at:]
                break
            out.append(decoded)
        return "".join(out)

    @staticmethod
    def _escape(text: str, at: int) -> tuple[str, int]:
        """The character of the escape at ``text[at]`` (a backslash) and the index after it;
        index -1 when ``text`` ends before the escape does. Lenient: an unknown escape gives its
        character, a bad or lone surrogate gives U+FFFD."""
        if at + 1 >= len(text):
            return "", -1
        kind = text[at + 1]
        if kind != "u":
            return _SIMPLE.get(kind, kind), at + 2
        digits = text[at + 2 : at + 6]
        if len(digits) < 4:
            return ("", -1) if all(c in _HEX for c in digits) else (REPLACEMENT, at + 2)
        if not all(c in _HEX for c in digits):
            return REPLACEMENT, at + 2
        code = int(digits, 16)
        if 0xDC00 <= code < 0xE000:
            return REPLACEMENT, at + 6
        if not 0xD800 <= code < 0xDC00:
            return chr(code), at + 6
        # A high surrogate: its low half must follow as another \uXXXX.
        low = text[at + 6 : at + 12]
        if len(low) < 6 and "\\u".startswith(low[:2]) and all(c in _HEX for c in low[2:]):
            return "", -1
        if low.startswith("\\u") and all(c in _HEX for c in low[2:]):
            second = int(low[2:], 16)
            if 0xDC00 <= second < 0xE000:
                return chr(0x10000 + ((code - 0xD800) << 10) + (second - 0xDC00)), at + 12
        return REPLACEMENT, at + 6

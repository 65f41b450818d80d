"""Reading a JSON request body: whatever the bytes are, the answer is 400 or 422, never a 500.

Litestar decodes a body into plain values before it checks them against the endpoint's struct.
That first step lets through two errors of the decoder that are not ``DecodeError`` (a body nested
past the decoder's depth limit raises ``RecursionError``; invalid UTF-8 inside a string raises
``UnicodeDecodeError``), and it answers a truncated body or an out-of-range number with a generic
400. :class:`JsonRequest` sorts each into the documented answer.

It also refuses the NUL character in any string of the body, for every endpoint and every storage
alike: PostgreSQL cannot store it in text, and no field of this API has a use for it.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException

NUL = "\x00"
ESCAPED_NUL = b"\\u0000"


class MalformedJson(ClientException):
    """The body is not JSON this server can read (400 ``malformed_json``)."""

    detail = "The request body is not valid JSON."


class InvalidJsonValue(ClientException):
    """The body is JSON, but a value in it can never be valid (422 ``validation_error``)."""

    status_code = 422


class JsonRequest(Request[Any, Any, Any]):
    """The request class of the app: :meth:`json` raises only the two errors above."""

    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:
            raise MalformedJson("The request body is nested too deeply.") from None
        except UnicodeDecodeError:
            raise MalformedJson("The request body is not valid UTF-8.") from None
        except SerializationException as exc:
            if isinstance(exc.__cause__, msgspec.ValidationError):  # the only kind: a huge number
                raise InvalidJsonValue("A number in the request body is out of range.") from None
            raise MalformedJson from None
        # JSON can only carry a NUL as the escape \u0000: look for one only where that text occurs.
        where = path_of_nul(value) if ESCAPED_NUL in await self.body() else None
        if where is not None:
            field = f"{where}: " if where else ""
            raise InvalidJsonValue(f"{field}must not contain the NUL character (\\u0000).")
        return value


def path_of_nul(value: Any) -> str | None:
    """The dotted path of the first string (or object key) in ``value`` that contains NUL: ``""``
    for the top-level value, ``None`` when there is none. Iterative, for any depth."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if NUL in key:
                    return child_path.replace(NUL, "\\u0000")
                pending.append((child_path, child))
        elif isinstance(item, list):
            pending.extend((f"{path}.{index}" if path else str(index), c) for index, c in enumerate(item))
    return None

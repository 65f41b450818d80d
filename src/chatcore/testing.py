"""Working fakes for tests and embedding: a frozen clock, a scripted tutor, a fast hasher, an
HMAC token service and an approving OAuth provider. They satisfy the same port contracts as the
real adapters (the in-memory storage lives in ``adapters.memory``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.parse
from collections.abc import AsyncGenerator, Iterable
from datetime import UTC, datetime, timedelta

from chatcore.errors import InvalidToken, LLMError, ProviderError
from chatcore.learning import Criteria, Feedback, ModelAnswer, Scorecard
from chatcore.model import Provider
from chatcore.ports.llm import Completion, FeedbackRequest, Prompt, ScorecardRequest
from chatcore.ports.oauth import ProviderAccount
from chatcore.ports.security import IssuedToken


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now


class ScriptedLLM:
    """A tutor that answers from a script: strings are replies, exceptions are raised.

    When the script runs out it echoes the last user turn. Every prompt is recorded in
    ``prompts``. Streaming yields the reply word by word.

    A prompt that asks for feedback (``Prompt.feedback``) gets it with the reply from the
    ``feedback`` script (feedback, or ``None`` for an answer without valid feedback); when that
    script runs out there is no feedback. Scorecards come from ``scorecards`` (a scorecard or an
    exception); when that runs out, a plain scorecard of the last exchange. Requests are recorded
    in ``feedback_requests`` and ``scorecard_requests``.
    """

    def __init__(
        self,
        script: Iterable[str | LLMError] = (),
        *,
        model: str = "scripted",
        feedback: Iterable[Feedback | None] = (),
        scorecards: Iterable[Scorecard | LLMError] = (),
    ) -> None:
        self._script = list(script)
        self._model = model
        self._feedback = list(feedback)
        self._scorecards = list(scorecards)
        self.prompts: list[Prompt] = []
        self.feedback_requests: list[FeedbackRequest] = []
        self.scorecard_requests: list[ScorecardRequest] = []

    def push_feedback(self, *items: Feedback | None) -> None:
        self._feedback.extend(items)

    def push_scorecard(self, *items: Scorecard | LLMError) -> None:
        self._scorecards.extend(items)

    def _feedback_on(self, prompt: Prompt) -> Feedback | None:
        if prompt.feedback is None:
            return None
        self.feedback_requests.append(prompt.feedback)
        return self._feedback.pop(0) if self._feedback else None

    async def scorecard(self, request: ScorecardRequest) -> Scorecard:
        self.scorecard_requests.append(request)
        if self._scorecards:
            item = self._scorecards.pop(0)
            if isinstance(item, LLMError):
                raise item
            return item
        question, answer = request.exchanges[-1]
        return Scorecard(
            overall=50,
            criteria=Criteria(relevance=50, structure=50, clarity=50, grammar=50),
            strengths=("You answered the question.",),
            improvements=("Give a concrete example.",),
            model_answer=ModelAnswer(question=question, answer=answer),
        )

    @property
    def model(self) -> str:
        return self._model

    def push(self, *items: str | LLMError) -> None:
        self._script.extend(items)

    def _next(self, prompt: Prompt) -> str:
        self.prompts.append(prompt)
        if self._script:
            item = self._script.pop(0)
            if isinstance(item, LLMError):
                raise item
            return item
        last_user = next((t.content for t in reversed(prompt.turns) if t.role == "user"), "")
        return f"You said: {last_user}"

    async def complete(self, prompt: Prompt) -> Completion:
        text = self._next(prompt)
        return Completion(text=text, model=self._model, feedback=self._feedback_on(prompt))

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str | Feedback, None]:
        text = self._next(prompt)
        words = text.split(" ")
        for index, word in enumerate(words):
            yield word if index == len(words) - 1 else word + " "
        feedback = self._feedback_on(prompt)
        if feedback is not None:
            yield feedback

    async def aclose(self) -> None:
        return None


class QuickHasher:
    """Salted PBKDF2 with few iterations: real verification, fast enough for unit tests.
    Never for production (use ``adapters.identity``'s Argon2id hasher)."""

    def __init__(self, iterations: int = 1_000) -> None:
        self._iterations = iterations

    async def hash(self, password: str) -> str:
        salt = secrets.token_hex(8)
        dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), self._iterations)
        return f"pbkdf2${self._iterations}${salt}${dk.hex()}"

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            _, iterations, salt, expected = password_hash.split("$")
            dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
        except (ValueError, TypeError):
            return False
        return hmac.compare_digest(dk.hex().encode(), expected.encode())

    def needs_rehash(self, password_hash: str) -> bool:
        parts = password_hash.split("$")
        current = len(parts) == 4 and parts[:2] == ["pbkdf2", str(self._iterations)]
        return not (current and len(parts[3]) == 64)


ACCESS = "access"
"""The purpose of access tokens; no other token may carry it."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class HmacTokens:
    """Signed tokens with the standard library only (``payload.signature``)."""

    def __init__(self, secret: bytes, *, access_ttl: int = 900) -> None:
        self._secret = secret
        self._access_ttl = access_ttl

    def _sign(self, claims: dict[str, object]) -> str:
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        return f"{body}.{_b64(mac)}"

    def _open(self, token: str, purpose: str, now: datetime) -> dict[str, object]:
        body, _, signature = token.partition(".")
        try:
            expected = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(signature)):
                raise InvalidToken
            claims = json.loads(_unb64(body))
        except (ValueError, TypeError) as exc:
            raise InvalidToken from exc
        if not isinstance(claims, dict) or claims.get("purpose") != purpose:
            raise InvalidToken
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= int(now.timestamp()):
            raise InvalidToken
        return claims

    def issue_access(self, user_id: int, *, now: datetime) -> IssuedToken:
        exp = int(now.timestamp()) + self._access_ttl
        token = self._sign({"purpose": ACCESS, "sub": str(user_id), "exp": exp})
        return IssuedToken(token=token, expires_in=self._access_ttl)

    def verify_access(self, token: str, *, now: datetime) -> int:
        sub = self._open(token, ACCESS, now).get("sub")
        if not isinstance(sub, str) or not sub.isdigit():
            raise InvalidToken
        return int(sub)

    def issue_signed(self, purpose: str, subject: str, *, ttl: int, now: datetime) -> str:
        if purpose == ACCESS:
            raise ValueError("use issue_access for access tokens")
        return self._sign({"purpose": purpose, "sub": subject, "exp": int(now.timestamp()) + ttl})

    def verify_signed(self, purpose: str, token: str, *, now: datetime) -> str:
        if purpose == ACCESS:
            raise InvalidToken
        sub = self._open(token, purpose, now).get("sub")
        if not isinstance(sub, str):
            raise InvalidToken
        return sub


class ApprovingProvider:
    """An OAuth provider where every login is approved at once as ``account`` (change it between
    logins), with PKCE checked as a real provider does: a code is exchanged once, only with the
    verifier whose S256 challenge the authorization carried. ``failure`` makes the exchange raise."""

    def __init__(self, name: Provider, account: ProviderAccount) -> None:
        self.name = name
        self.account = account
        self.failure: Exception | None = None
        self._challenges: dict[str, str] = {}
        self._grants: dict[str, tuple[str, ProviderAccount]] = {}

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=")
        self._challenges[state] = challenge.decode()
        query = urllib.parse.urlencode({"state": state, "code_challenge": challenge.decode()})
        return f"https://{self.name.value}.test/authorize?{query}"

    def approve(self, url: str) -> str:
        """What the user does at the provider: the code for the authorization ``url``."""
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["state"][0]
        code = secrets.token_urlsafe(8)
        self._grants[code] = (self._challenges.pop(state), self.account)
        return code

    async def fetch_account(self, *, code: str, code_verifier: str) -> ProviderAccount:
        if self.failure is not None:
            raise self.failure
        grant = self._grants.pop(code, None)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=")
        if grant is None or grant[0] != challenge.decode():
            raise ProviderError
        return grant[1]

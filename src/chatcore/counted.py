"""The life of one counted request (SPEC §5, §6), the same for a chat message and a relayed completion.

::

    accepted      a quota slot is taken atomically, before the tutor is called (take_slot)
       |
    the tutor is called once, with no transaction open (CountedRequest.complete / .stream)
       |
    settled exactly once, as one of:
      answered    the reply is recorded                              slot counts
      tutor fails an LLMError (timeout, unreachable, 4xx/5xx, §6)    slot given back
      abandoned   the caller went away: cancelled, a stream closed   slot counts; what had
                  early, even one closed before it started           arrived is kept as failed
      unstored    the database could not record the answer          slot given back unless the
                  (after retries; a COMMIT in doubt is not retried)  learner already read it

A client that hangs up therefore gets nothing back: no sequence of requests causes more upstream
calls than the limit plus the tutor's failures (and the rare answer the database could not take).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, NoReturn, Protocol, TypeVar

from chatcore.concurrency import run_to_completion, settle, with_storage_retries
from chatcore.errors import AccountDisabled, AccountGone, LLMError, QuotaExceeded, StorageUnavailable
from chatcore.learning import Feedback
from chatcore.model import Quota, User
from chatcore.ports.llm import LLMGateway, Prompt
from chatcore.ports.storage import UnitOfWork, UnitOfWorkFactory
from chatcore.quota import QuotaPolicy
from chatcore.results import Delta, Done, ReplyStream

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


@dataclass(frozen=True, slots=True)
class Slot:
    """A quota slot taken for one request on ``day``; ``quota`` is the state right after."""

    user_id: int
    day: date
    quota: Quota


async def daily_limit_of(uow: UnitOfWork, user_id: int, policy: QuotaPolicy) -> int:
    """The user's daily limit: their own override, else the policy's.

    Raises ``AccountGone`` when the user was deleted and ``AccountDisabled`` when an
    administrator deactivated them: this read is also what refuses such an account's access
    token on the counted requests, at no extra cost (``app_http.auth``)."""
    return limit_of(await uow.users.get(user_id), policy)


def limit_of(user: User | None, policy: QuotaPolicy) -> int:
    """:func:`daily_limit_of` for a user row already read (``None``: no such user)."""
    if user is None:
        raise AccountGone
    if not user.is_active:
        raise AccountDisabled
    return policy.effective_limit(user.daily_limit)


async def take_slot(uow: UnitOfWork, policy: QuotaPolicy, *, user_id: int, limit: int, now: datetime) -> Slot:
    """Count one request of ``user_id`` in ``uow`` (the caller commits). Raises ``QuotaExceeded``
    with the quota as it stands, when ``limit`` slots of today are already taken."""
    day = policy.day_of(now)
    used = await uow.quota.consume(user_id, day, limit=limit)
    if used is None:
        await refuse(uow, policy, user_id=user_id, limit=limit, now=now)
    return slot_of(policy, user_id=user_id, used=used, limit=limit, now=now)


def slot_of(policy: QuotaPolicy, *, user_id: int, used: int, limit: int, now: datetime) -> Slot:
    """The slot taken when ``used`` is the day's count right after taking it."""
    return Slot(user_id=user_id, day=policy.day_of(now), quota=policy.quota(used=used, now=now, limit=limit))


async def refuse(
    uow: UnitOfWork, policy: QuotaPolicy, *, user_id: int, limit: int, now: datetime
) -> NoReturn:
    """Raise ``QuotaExceeded`` with the quota as it stands (read in ``uow``): the day is full."""
    spent = await uow.quota.used(user_id, policy.day_of(now))
    raise QuotaExceeded(policy.quota(used=max(spent, limit), now=now, limit=limit))


async def count_refusal(uow: UnitOfWorkFactory, day: date) -> None:
    """Count a quota refusal for the statistics, in its own short transaction (the refused
    request's is rolled back). Only on the refusal path; if the database cannot take it now, the
    refusal is still answered and simply not counted."""
    try:
        async with uow() as tx:
            await tx.quota.count_refusal(day)
            await tx.commit()
    except StorageUnavailable:
        return


class Outcome(Protocol[R_co]):
    """How one kind of counted request records how it ended (one of the two is called, once)."""

    async def answered(self, text: str, model: str, feedback: Feedback | None = None) -> R_co:
        """Record the tutor's whole reply (and the feedback that came with it, when asked and
        given); returns the request's result. May raise ``StorageUnavailable`` (retried unless
        in doubt)."""
        ...

    async def failed(self, *, partial: str, give_back: bool, failure: str | None = None) -> None:
        """Record a request that got no complete reply: ``partial`` is the text the learner
        already received (kept as failed), ``give_back`` whether the slot returns, ``failure``
        the tutor's failure code when it failed upstream (``QuotaLedger.give_back``)."""
        ...


class CountedRequest(Generic[R]):
    """One accepted request: the tutor is asked once and the request is settled once."""

    def __init__(self, *, llm: LLMGateway, prompt: Prompt, outcome: Outcome[R]) -> None:
        self._llm = llm
        self._prompt = prompt
        self._outcome = outcome

    async def complete(self) -> R:
        """The whole reply at once. Raises the tutor's ``LLMError`` (slot given back)."""
        try:
            completion = await self._llm.complete(self._prompt)
        except LLMError as exc:
            await run_to_completion(self._settle(partial="", give_back=True, failure=exc.failure))
            raise
        except BaseException:  # the caller was cancelled (the client left), or a bug: it counts
            await run_to_completion(self._settle(partial="", give_back=False))
            raise
        return await run_to_completion(
            self._record(completion.text, completion.model, completion.feedback, delivered=False)
        )

    def stream(self) -> ReplyStream[Delta | Done[R]]:
        """``Delta``s as the tutor writes, then one ``Done``. Closing the stream early (even
        before reading from it) stops the tutor and settles the request as abandoned."""
        return ReplyStream(self._events(), abandon=lambda: self._settle(partial="", give_back=False))

    async def _events(self) -> AsyncGenerator[Delta | Done[R], None]:
        parts: list[str] = []
        feedback: Feedback | None = None
        try:
            upstream = self._llm.stream(self._prompt)
            try:
                async for piece in upstream:
                    if isinstance(piece, Feedback):  # after the text, when asked for
                        feedback = piece
                        continue
                    parts.append(piece)
                    yield Delta(piece)
            finally:
                await upstream.aclose()
        except LLMError as exc:
            await run_to_completion(self._settle(partial="", give_back=True, failure=exc.failure))
            raise
        except BaseException:  # GeneratorExit or CancelledError: the consumer left
            await run_to_completion(self._settle(partial="".join(parts), give_back=False))
            raise
        text = "".join(parts)
        yield Done(await run_to_completion(self._record(text, self._llm.model, feedback, delivered=True)))

    async def _record(self, text: str, model: str, feedback: Feedback | None, *, delivered: bool) -> R:
        """Record the answer. If the database cannot take it even after retries, a reply the
        learner never got is not charged; a streamed one they already read is kept as a failed
        partial reply and counts. ``StorageUnavailable`` is raised either way."""
        try:
            return await with_storage_retries(lambda: self._outcome.answered(text, model, feedback))
        except StorageUnavailable as exc:
            if not exc.in_doubt:  # surely not stored
                await self._settle(partial=text if delivered else "", give_back=not delivered)
            raise

    async def _settle(self, *, partial: str, give_back: bool, failure: str | None = None) -> None:
        """Record a failure, retried; if even that cannot be written, the caller's own error stays
        the one reported (the slot then stays taken)."""
        await settle(lambda: self._outcome.failed(partial=partial, give_back=give_back, failure=failure))


class ValueOutcome(Protocol[T_contra, R_co]):
    """How a counted request whose answer is a value (not text: a scorecard) records its end."""

    async def answered(self, value: T_contra) -> R_co:
        """Record the answer; returns the request's result. May raise ``StorageUnavailable``."""
        ...

    async def failed(self, *, give_back: bool, failure: str | None = None) -> None:
        """Record a request that got no answer; ``give_back`` whether the slot returns, ``failure``
        the tutor's failure code when it failed upstream (``QuotaLedger.give_back``)."""
        ...


async def call_counted(call: Callable[[], Awaitable[T]], outcome: ValueOutcome[T, R]) -> R:
    """Ask the tutor once for an accepted request and settle it once, as :class:`CountedRequest`
    does for replies: an ``LLMError`` gives the slot back, a caller that leaves keeps it spent,
    an answer the database cannot take (surely not stored) is not charged."""
    try:
        value = await call()
    except LLMError as exc:
        failure = exc.failure
        await run_to_completion(settle(lambda: outcome.failed(give_back=True, failure=failure)))
        raise
    except BaseException:  # the caller was cancelled (the client left), or a bug: it counts
        await run_to_completion(settle(lambda: outcome.failed(give_back=False)))
        raise

    async def record() -> R:
        try:
            return await with_storage_retries(lambda: outcome.answered(value))
        except StorageUnavailable as exc:
            if not exc.in_doubt:
                await settle(lambda: outcome.failed(give_back=True))
            raise

    return await run_to_completion(record())

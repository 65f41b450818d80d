"""Asking the tutor in a chat (SPEC §4.2, §4.3, §5, §6, §7): every learner message is one counted
request (:mod:`chatcore.counted`).

The slot is taken atomically together with storing the learner's message, in one short
transaction; the tutor is called with no transaction open; the request is then settled once:
the reply stored, or the message marked ``failed`` (and the slot given back only when the tutor
failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chatcore.assessing import checked
from chatcore.chats import ChatService
from chatcore.counted import CountedRequest, count_refusal, daily_limit_of, limit_of, refuse, slot_of
from chatcore.errors import ChatNotFound, Conflict, QuotaExceeded, ValidationFailed
from chatcore.learning import Feedback, Level
from chatcore.model import MessageStatus, Mode, NewMessage, Quota, Role
from chatcore.ports.clock import Clock
from chatcore.ports.llm import FeedbackRequest, LLMGateway
from chatcore.ports.storage import IdempotencyRecord, UnitOfWork, UnitOfWorkFactory
from chatcore.quota import QuotaPolicy
from chatcore.results import ChatDetail, Delta, Done, Exchange, PendingAsk, ReplyStream
from chatcore.tutor import ContextBudget, build_prompt, question_before

MAX_CONTENT_CHARS = 4000
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IN_FLIGHT_LIMIT = timedelta(minutes=10)
"""A claimed Idempotency-Key with no stored reply after this long belongs to a request that died
(a crash, a database outage during its bookkeeping): a retry may claim it again."""


def clean_content(content: str) -> str:
    """The message as stored: trimmed, 1 to ``MAX_CONTENT_CHARS`` characters. Raises ``ValidationFailed``."""
    text = content.strip()
    if not 1 <= len(text) <= MAX_CONTENT_CHARS:
        raise ValidationFailed(
            f"The message must be 1 to {MAX_CONTENT_CHARS} characters long.", field="content"
        )
    return text


class TutorService:
    """A learner's messages to the tutor and their quota. One public method per use case."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        llm: LLMGateway,
        clock: Clock,
        policy: QuotaPolicy,
        chats: ChatService,
        budget: ContextBudget | None = None,
        feedback: bool = False,
    ) -> None:
        """With ``feedback``, the tutor is asked for the feedback on each message in the same
        call as the reply (SPEC §4.7); without, replies carry none."""
        self._uow = uow
        self._llm = llm
        self._feedback = feedback
        self._clock = clock
        self._policy = policy
        self._chats = chats
        self._budget = budget or ContextBudget()

    @property
    def policy(self) -> QuotaPolicy:
        return self._policy

    async def quota(self, user_id: int) -> Quota:
        """What the user has left today."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            limit = await daily_limit_of(uow, user_id, self._policy)
            used = await uow.quota.used(user_id, self._policy.day_of(now))
        return self._policy.quota(used=used, now=now, limit=limit)

    async def start_chat_with(
        self,
        user_id: int,
        message: str,
        *,
        title: str | None = None,
        mode: Mode = Mode.CONVERSATION,
        topic: str = "",
        level: Level = Level.INTERMEDIATE,
    ) -> tuple[ChatDetail, Exchange]:
        """Open a chat and send its first message (which counts). An invalid message or a refusal
        by the quota leaves no chat behind; a failed tutor call leaves the chat with the message
        marked ``failed``."""
        clean_content(message)
        chat = await self._chats.start_chat(user_id, title=title, mode=mode, topic=topic, level=level)
        try:
            exchange = await self.ask(user_id, chat.id, message)
        except QuotaExceeded:
            await self._chats.delete_chat(user_id, chat.id)
            raise
        return await self._chats.read_chat(user_id, chat.id), exchange

    async def ask(
        self, user_id: int, chat_id: int, content: str, *, idempotency_key: str | None = None
    ) -> Exchange:
        """Send the learner's message and wait for the whole reply (counts against the quota)."""
        pending = await self.accept(user_id, chat_id, content, idempotency_key=idempotency_key)
        if isinstance(pending, Exchange):
            return pending
        return await self._request(pending).complete()

    def stream(self, pending: PendingAsk) -> ReplyStream[Delta | Done[Exchange]]:
        """Stream the reply to an accepted request: ``Delta``s, then one ``Done``.

        On an ``LLMError`` the slot is given back and the error re-raised. If the consumer stops
        early (the client went away, even before reading anything), the upstream call is stopped,
        the request still counts, the message is marked ``failed`` and any partial reply is stored
        as ``failed``.
        """
        return self._request(pending).stream()

    async def accept(
        self, user_id: int, chat_id: int, content: str, *, idempotency_key: str | None = None
    ) -> PendingAsk | Exchange:
        """Take a quota slot and store the message, or replay an earlier result for the same key.

        Raises ``ChatNotFound``, ``QuotaExceeded``, ``ValidationFailed`` or ``Conflict`` (the same
        ``Idempotency-Key`` is still in flight) before anything is counted.
        """
        text = clean_content(content)
        now = self._clock.now()
        try:
            return await self._accept(user_id, chat_id, text, now=now, idempotency_key=idempotency_key)
        except QuotaExceeded:
            await count_refusal(self._uow, self._policy.day_of(now))
            raise

    async def _accept(
        self, user_id: int, chat_id: int, text: str, *, now: datetime, idempotency_key: str | None
    ) -> PendingAsk | Exchange:
        message = NewMessage(role=Role.USER, content=text)
        day = self._policy.day_of(now)
        if idempotency_key is None:
            # The read, the slot and the message as one write: one statement on PostgreSQL (a
            # database with a single writer, SQLite, reads before taking its write lock).
            async with self._uow(one_write=True) as uow:
                asked = await uow.messages.ask_counted(
                    user_id,
                    chat_id,
                    message,
                    day=day,
                    default_limit=self._policy.limit,
                    history=self._budget.max_messages - 1,
                    now=now,
                )
                context, counted = asked.context, asked.counted
                # First: a deleted (401) or deactivated (403) account.
                limit = limit_of(context.user, self._policy)
                if context.chat is None:
                    raise ChatNotFound
                if counted is None:
                    await refuse(uow, self._policy, user_id=user_id, limit=limit, now=now)
                await uow.commit()
            chat, history = context.chat, context.history
            used, stored = counted
        else:
            # Reads first (one statement), outside the writing transaction: a database with a
            # single writer (SQLite) then holds its write lock only for the writes below.
            async with self._uow(read_only=True) as uow:
                context = await uow.messages.ask_context(
                    user_id, chat_id, limit=self._budget.max_messages - 1
                )
            # First: a deleted (401) or deactivated (403) account.
            limit = limit_of(context.user, self._policy)
            if context.chat is None:
                raise ChatNotFound
            chat, history = context.chat, context.history
            # The claim, the slot and the message are one write (one statement on PostgreSQL) in
            # a transaction, which a refusal rolls back with the claim.
            async with self._uow() as uow:
                # Raises ChatNotFound if the chat was deleted since: no slot is taken, no claim kept.
                claimed = await uow.messages.add_claimed(
                    user_id,
                    chat_id,
                    message,
                    key=idempotency_key,
                    day=day,
                    limit=limit,
                    now=now,
                    not_before=now - IDEMPOTENCY_WINDOW,
                    abandoned_before=now - IN_FLIGHT_LIMIT,
                )
                if isinstance(claimed, IdempotencyRecord):
                    if claimed.chat_id != chat_id:
                        raise ValidationFailed(
                            "This Idempotency-Key was already used for another chat.",
                            field="Idempotency-Key",
                        )
                    return await self._replay(uow, user_id, chat_id, claimed.message_id, claimed.reply_id)
                if claimed is None:
                    await refuse(uow, self._policy, user_id=user_id, limit=limit, now=now)
                used, stored = claimed
                await uow.commit()
        slot = slot_of(self._policy, user_id=user_id, used=used, limit=limit, now=now)
        feedback = (
            FeedbackRequest(
                learner_text=text, question=question_before(history), mode=chat.mode, level=chat.level
            )
            if self._feedback
            else None
        )
        prompt = build_prompt(
            mode=chat.mode,
            topic=chat.topic,
            history=[*history, stored],
            budget=self._budget,
            level=chat.level,
            feedback=feedback,
        )
        return PendingAsk(
            user_id=user_id,
            chat_id=chat_id,
            message=stored,
            prompt=prompt,
            day=slot.day,
            quota=slot.quota,
            idempotency_key=idempotency_key,
        )

    def _request(self, pending: PendingAsk) -> CountedRequest[Exchange]:
        return CountedRequest(
            llm=self._llm,
            prompt=pending.prompt,
            outcome=ChatMessageOutcome(uow=self._uow, clock=self._clock, pending=pending, llm=self._llm),
        )

    async def _replay(
        self, uow: UnitOfWork, user_id: int, chat_id: int, message_id: int | None, reply_id: int | None
    ) -> Exchange:
        if message_id is None or reply_id is None:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
        message = await uow.messages.get(chat_id, message_id)
        reply = await uow.messages.get(chat_id, reply_id)
        if message is None or reply is None:
            raise ChatNotFound
        now = self._clock.now()
        limit = await daily_limit_of(uow, user_id, self._policy)
        used = await uow.quota.used(user_id, self._policy.day_of(now))
        quota = self._policy.quota(used=used, now=now, limit=limit)
        return Exchange(message=message, reply=reply, quota=quota)


@dataclass(frozen=True, slots=True)
class ChatMessageOutcome:
    """How a chat message ends: the reply stored, or the message marked failed (chatcore.counted)."""

    uow: UnitOfWorkFactory
    clock: Clock
    pending: PendingAsk
    llm: LLMGateway

    async def answered(self, text: str, model: str, feedback: Feedback | None = None) -> Exchange:
        pending = self.pending
        # The feedback came with the reply, when the prompt asked for it (chatcore.assessing).
        asked = pending.prompt.feedback
        feedback = None if feedback is None or asked is None else checked(feedback, asked)
        # The reply, the notebook's corrections and the idempotency record: one atomic write.
        async with self.uow(one_write=True) as uow:
            # Raises ChatNotFound if the chat was deleted while the tutor answered: nothing to
            # store the reply in. The tokens were spent, so the slot stays taken.
            reply = await uow.messages.add_reply(
                pending.chat_id,
                NewMessage(role=Role.ASSISTANT, content=text, model=model, feedback=feedback),
                now=self.clock.now(),
                user_id=pending.user_id,
                message_id=pending.message.id,
                corrections=() if feedback is None else feedback.corrections,
                idempotency_key=pending.idempotency_key,
            )
            await uow.commit()
        return Exchange(message=pending.message, reply=reply, quota=pending.quota)

    async def failed(self, *, partial: str, give_back: bool, failure: str | None = None) -> None:
        pending = self.pending
        async with self.uow() as uow:
            if give_back:
                await uow.quota.give_back(pending.user_id, pending.day, failure=failure)
            if not partial:
                await uow.messages.set_status(pending.message.id, MessageStatus.FAILED)
            elif await uow.chats.get(pending.user_id, pending.chat_id) is not None:
                # The learner read part of a reply: it is kept, marked failed.
                await uow.messages.add(
                    pending.chat_id,
                    NewMessage(
                        role=Role.ASSISTANT,
                        content=partial,
                        status=MessageStatus.FAILED,
                        model=self.llm.model,
                    ),
                    now=self.clock.now(),
                )
            if pending.idempotency_key is not None:
                await uow.idempotency.release(
                    user_id=pending.user_id, key=pending.idempotency_key, message_id=pending.message.id
                )
            await uow.commit()

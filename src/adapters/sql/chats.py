"""SQL repositories of the chat side: chats, messages, idempotency records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.accounts import USER_COLUMNS
from adapters.sql.learning import SqlNotebookRepository, feedback_json, feedback_of
from adapters.sql.prepared import Prepared
from adapters.sql.quota import SqlQuotaLedger
from adapters.sql.schema import (
    UtcDateTime,
    chats,
    idempotency_keys,
    messages,
    notebook_entries,
    quota_usage,
    users,
)
from adapters.sql.transaction import Repository
from chatcore.errors import ChatNotFound, Conflict, NotFound
from chatcore.learning import Correction, Level
from chatcore.model import Chat, Message, MessageStatus, Mode, NewMessage, Role, User
from chatcore.ports.storage import Activity, AskContext, ChatCursor, CountedAsk, IdempotencyRecord

_CHAT = (
    chats.c.id,
    chats.c.user_id,
    chats.c.title,
    chats.c.mode,
    chats.c.topic,
    chats.c.created_at,
    chats.c.updated_at,
    chats.c.message_count,
    chats.c.level,
)
_MESSAGE = (
    messages.c.id,
    messages.c.chat_id,
    messages.c.role,
    messages.c.content,
    messages.c.created_at,
    messages.c.status,
    messages.c.model,
    messages.c.feedback,
)
_HISTORY = tuple(column for column in _MESSAGE if column.name != "feedback")
"""A message as the tutor's context needs it: without its feedback (a JSON text per reply)."""

# The statements of the hot path (asking the tutor) are built once.
_now = bindparam("now", type_=UtcDateTime())
_ADD_MESSAGE = Prepared(
    insert(messages)
    .values(
        {
            name: bindparam(name, type_=messages.c[name].type)
            for name in ("chat_id", "role", "content", "created_at", "status", "model", "feedback")
        }
    )
    .returning(messages.c.id)
)
_GET_CHAT = select(*_CHAT).where(chats.c.id == bindparam("chat_id"), chats.c.user_id == bindparam("user_id"))
_RECENT = (
    select(*_MESSAGE)
    .where(messages.c.chat_id == bindparam("chat_id"))
    .order_by(messages.c.id.desc())
    .limit(bindparam("limit"))
)
_RECENT_BEFORE = _RECENT.where(messages.c.id < bindparam("before"))

# What asking the tutor reads first, in one statement: a first row with the user's row and their
# chat (a left join), then one row per message of the chat's last :limit (the lowest of their ids
# is found once, by the index), so no row repeats the user's and the chat's columns.
_last = (
    select(messages.c.id)
    .where(messages.c.chat_id == bindparam("chat_id"))
    .order_by(messages.c.id.desc())
    .limit(bindparam("limit", type_=Integer()))
    # (SQLite renders an OFFSET after every LIMIT: named here, the prepared statement knows its type.)
    .offset(bindparam("no_offset", 0, type_=Integer()))
    .subquery("last")
)


def _none(columns: tuple[Any, ...], prefix: str) -> list[Any]:
    return [type_coerce(null(), column.type).label(f"{prefix}_{column.name}") for column in columns]


_ASK_CONTEXT = union_all(
    select(
        literal_column("0").label("part"),
        *(column.label(f"u_{column.name}") for column in USER_COLUMNS),
        *(column.label(f"c_{column.name}") for column in _CHAT),
        *_none(_HISTORY, "m"),
    )
    .select_from(
        users.outerjoin(chats, and_(chats.c.id == bindparam("chat_id"), chats.c.user_id == users.c.id))
    )
    .where(users.c.id == bindparam("user_id")),
    select(
        literal_column("1"),
        *_none(USER_COLUMNS, "u"),
        *_none(_CHAT, "c"),
        *(column.label(f"m_{column.name}") for column in _HISTORY),
    )
    .select_from(messages.join(chats, chats.c.id == messages.c.chat_id))
    .where(
        chats.c.id == bindparam("chat_id"),
        chats.c.user_id == bindparam("user_id"),
        messages.c.id >= select(func.min(_last.c.id)).scalar_subquery(),
    ),
).order_by(literal_column("part"), literal_column("m_id"))
_ASK_CONTEXT_PREPARED = Prepared(_ASK_CONTEXT)

_NEW_MESSAGE = ("chat_id", "role", "content", "created_at", "status", "model", "feedback")


def _message_values(chat_id: int, message: NewMessage, now: datetime) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "role": message.role.value,
        "content": message.content,
        "created_at": now,
        "status": message.status.value,
        "model": message.model,
        "feedback": feedback_json(message.feedback),
    }


def _stored(message_id: int, chat_id: int, message: NewMessage, now: datetime) -> Message:
    return Message(
        id=message_id,
        chat_id=chat_id,
        role=message.role,
        content=message.content,
        created_at=now,
        status=message.status,
        model=message.model,
        feedback=message.feedback,
    )


def _typed(column: str, name: str | None = None) -> Any:
    """A parameter typed as the message column ``column``, named ``name`` (else as the column)."""
    return bindparam(name or column, type_=messages.c[column].type)


_uid = bindparam("uid", type_=quota_usage.c.user_id.type)
_qday = bindparam("qday", type_=quota_usage.c.day.type)
_one = bindparam("one", 1, type_=quota_usage.c.used.type)
_qlimit = bindparam("qlimit", type_=quota_usage.c.used.type)


def _slot(rows: Any, *, below: Any) -> Any:
    """PostgreSQL: the quota upsert of ``QuotaLedger.consume`` as a CTE: ``rows`` (a ``VALUES``
    or a ``SELECT`` of user_id, day, used=1) inserted, or the day's count raised by one while it
    is ``below`` the limit. Returns the new count; no row when the day is full."""
    insert_ = postgresql.insert(quota_usage)
    upsert = (
        insert_.values(rows)
        if isinstance(rows, dict)
        else insert_.from_select(["user_id", "day", "used"], rows)
    )
    return (
        upsert.on_conflict_do_update(
            index_elements=[quota_usage.c.user_id, quota_usage.c.day],
            set_={"used": quota_usage.c.used + _one},
            where=quota_usage.c.used < below,
        )
        .returning(quota_usage.c.used)
        .cte("slot")
    )


def _ask_counted() -> Any:
    """PostgreSQL: :data:`_ASK_CONTEXT`, the quota upsert (:func:`_slot`) and the message ``INSERT``
    in one statement. The first row
    holds the user and their chat (as ``_ASK_CONTEXT``) and the slot taken with the message
    stored (``s_used``, ``s_id``; null when none was), the next ones the chat's last messages.
    The slot is asked for only when the user is active and owns the chat, with their own limit
    else ``:default_limit`` (none at all below 1: no quota row is made). Every part of a
    statement reads the same snapshot, from before its writes: the history lacks the new
    message. A chat deleted since that snapshot fails the message's foreign key, undoing all."""
    chat_id = _typed("chat_id")
    limit = func.coalesce(users.c.daily_limit, bindparam("default_limit", type_=quota_usage.c.used.type))
    context = (
        select(
            *(column.label(f"u_{column.name}") for column in USER_COLUMNS),
            *(column.label(f"c_{column.name}") for column in _CHAT),
            limit.label("lim"),
        )
        .select_from(users.outerjoin(chats, and_(chats.c.id == chat_id, chats.c.user_id == users.c.id)))
        .where(users.c.id == bindparam("user_id"))
        .cte("context")
    )
    slot = _slot(
        select(context.c.u_id, _qday, _one).where(
            context.c.u_is_active.is_(true()),
            context.c.c_id.is_not(None),
            context.c.lim > bindparam("zero", 0, type_=quota_usage.c.used.type),
        ),
        below=select(context.c.lim).scalar_subquery(),
    )
    stored = (
        insert(messages)
        .from_select(_NEW_MESSAGE, select(*(_typed(name) for name in _NEW_MESSAGE)).select_from(slot))
        .returning(messages.c.id)
        .cte("stored")
    )
    counted = (
        type_coerce(null(), quota_usage.c.used.type).label("s_used"),
        type_coerce(null(), messages.c.id.type).label("s_id"),
    )
    return union_all(
        select(
            literal_column("0").label("part"),
            *(column for column in context.c if column.name != "lim"),
            slot.c.used.label("s_used"),
            stored.c.id.label("s_id"),
            *_none(_HISTORY, "m"),
        ).select_from(context.outerjoin(slot, true()).outerjoin(stored, true())),
        select(
            literal_column("1"),
            *_none(USER_COLUMNS, "u"),
            *_none(_CHAT, "c"),
            *counted,
            *(column.label(f"m_{column.name}") for column in _HISTORY),
        )
        .select_from(messages.join(chats, chats.c.id == messages.c.chat_id))
        .where(
            chats.c.id == chat_id,
            chats.c.user_id == bindparam("user_id"),
            messages.c.id >= select(func.min(_last.c.id)).scalar_subquery(),
        ),
    ).order_by(literal_column("part"), literal_column("m_id"))


_ASK_COUNTED = Prepared(_ask_counted())


def _claim(upsert: Any, *, message_id: Any) -> Any:
    """The claim of an Idempotency-Key as one upsert (same SQL on both databases): a new row, or
    the row of a request that is over (created before ``:k_not_before``) or died (no reply,
    created before ``:k_abandoned_before``) taken over, with ``message_id``; no row back when
    another request holds the key (whose row then stays locked to the end of the transaction)."""
    held = idempotency_keys.c
    claim = upsert.values(
        user_id=bindparam("k_user", type_=held.user_id.type),
        key=bindparam("k_key", type_=held.key.type),
        chat_id=bindparam("k_chat", type_=held.chat_id.type),
        created_at=bindparam("k_now", type_=UtcDateTime()),
        message_id=message_id,
    )
    over = or_(
        held.created_at < bindparam("k_not_before", type_=UtcDateTime()),
        and_(held.reply_id.is_(None), held.created_at < bindparam("k_abandoned_before", type_=UtcDateTime())),
    )
    return claim.on_conflict_do_update(
        index_elements=[held.user_id, held.key],
        set_={
            "chat_id": claim.excluded.chat_id,
            "created_at": claim.excluded.created_at,
            "message_id": claim.excluded.message_id,
            "reply_id": null(),
        },
        where=over,
    ).returning(held.message_id)


@cache
def _claim_alone(dialect: str) -> Any:
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return _claim(upsert(idempotency_keys), message_id=null())


def _add_claimed() -> Any:
    """PostgreSQL: the claim of an Idempotency-Key (:func:`_claim`), with the id of the message
    to come taken from its sequence; only when it was claimed, the quota upsert (:func:`_slot`);
    only when a slot was granted, the message ``INSERT`` with that id. One
    statement: the claim row already holds the message id, so no ``attach`` follows. No row: the
    key is held; a row without ``used``: the day is full (the claim is taken: the transaction
    must be rolled back)."""
    next_id = func.nextval(func.pg_get_serial_sequence("messages", "id"))
    claim = _claim(postgresql.insert(idempotency_keys), message_id=next_id).cte("claim")
    slot = _slot(select(_uid, _qday, _one).select_from(claim).where(_qlimit > 0), below=_qlimit)
    stored = (
        insert(messages)
        .from_select(
            ("id", *_NEW_MESSAGE),
            select(claim.c.message_id, *(_typed(name) for name in _NEW_MESSAGE)).select_from(
                slot.join(claim, true())
            ),
        )
        .returning(messages.c.id)
        .cte("stored")
    )
    return select(claim.c.message_id, slot.c.used, stored.c.id).select_from(
        claim.outerjoin(slot, true()).outerjoin(stored, true())
    )


_ADD_CLAIMED = _add_claimed()


@cache
def _add_reply(corrections: int, finish: bool) -> Prepared:
    """PostgreSQL: the reply's ``INSERT``, the notebook's (one row per correction, in their
    order) and the idempotency record's ``UPDATE`` in one statement; a chat deleted meanwhile
    fails the foreign key and nothing is stored. (No parameter is named like a column: an
    ``UPDATE`` would take such a parameter for a value to set.)"""
    reply = (
        insert(messages)
        .values({name: _typed(name, f"r_{name}") for name in _NEW_MESSAGE})
        .returning(messages.c.id)
        .cte("reply")
    )
    owner = bindparam("owner", type_=notebook_entries.c.user_id.type)
    learner = bindparam("learner", type_=notebook_entries.c.message_id.type)
    claim = bindparam("claim", type_=idempotency_keys.c.key.type)
    parts = []
    notes: list[BindParameter[Any]] = []  # (these and the CTEs' parameters are given to Prepared:
    # SQLAlchemy's traversal does not reach them all)
    if corrections:
        rows = []
        for i in range(corrections):
            values = {
                name: bindparam(f"{name}_{i}", type_=notebook_entries.c[name].type)
                for name in ("original", "corrected", "explanation", "explanation_ko")
            }
            notes.extend(values.values())
            rows.append(
                {
                    "user_id": owner,
                    "chat_id": _typed("chat_id", "r_chat_id"),
                    "message_id": learner,
                    "created_at": _typed("created_at", "r_created_at"),
                    **values,
                }
            )
        parts.append(insert(notebook_entries).values(rows).cte("notes"))
    if finish:
        parts.append(
            update(idempotency_keys)
            .where(
                idempotency_keys.c.user_id == owner,
                idempotency_keys.c.key == claim,
                idempotency_keys.c.message_id == learner,
            )
            .values(reply_id=select(reply.c.id).scalar_subquery())
            .cte("finished")
        )
    return Prepared(select(reply.c.id).add_cte(*parts), owner, learner, claim, *notes)


# Text to enum member, for the rows of the hot path (a dict lookup instead of the enum's call).
_ROLES = {member.value: member for member in Role}
_STATUSES = {member.value: member for member in MessageStatus}
_MODES = {member.value: member for member in Mode}
_LEVELS = {member.value: member for member in Level}

# The columns of _ASK_CONTEXT's and _ASK_COUNTED's rows by position: "part", the user's columns
# (USER_COLUMNS), the chat's (_CHAT), [_ASK_COUNTED: s_used, s_id,] then the message's (_HISTORY).
_U = 1
_C = _U + len(USER_COLUMNS)
_CONTEXT_HISTORY = _C + len(_CHAT)
_S_USED, _S_ID = _CONTEXT_HISTORY, _CONTEXT_HISTORY + 1
_COUNTED_HISTORY = _CONTEXT_HISTORY + 2


def _context(rows: Sequence[Sequence[Any]], *, history_at: int = _CONTEXT_HISTORY) -> AskContext:
    """The :class:`AskContext` of the rows of :data:`_ASK_CONTEXT` (or of :data:`_ASK_COUNTED`,
    whose message columns start at ``history_at``), read by position."""
    if not rows or rows[0][0] != 0:  # no such user (so no chat of theirs either)
        return AskContext(user=None, chat=None, history=[])
    first = rows[0]
    user = User(
        id=first[_U],
        username=first[_U + 1],
        email=first[_U + 2],
        password_hash=first[_U + 3],
        date_joined=first[_U + 4],
        is_admin=bool(first[_U + 5]),
        daily_limit=first[_U + 6],
        is_active=bool(first[_U + 7]),
    )
    if first[_C] is None:
        return AskContext(user=user, chat=None, history=[])
    chat = Chat(
        id=first[_C],
        user_id=first[_C + 1],
        title=first[_C + 2],
        mode=_MODES[first[_C + 3]],
        topic=first[_C + 4],
        created_at=first[_C + 5],
        updated_at=first[_C + 6],
        message_count=first[_C + 7],
        level=_LEVELS[first[_C + 8]],
    )
    m = history_at
    roles, statuses = _ROLES, _STATUSES
    history = [
        Message(
            id=row[m],
            chat_id=row[m + 1],
            role=roles[row[m + 2]],
            content=row[m + 3],
            created_at=row[m + 4],
            status=statuses[row[m + 5]],
            model=row[m + 6],
        )
        for row in rows[1:]
    ]
    return AskContext(user=user, chat=chat, history=history)


def _chat(row: Row[Any]) -> Chat:
    return Chat(
        id=row.id,
        user_id=row.user_id,
        title=row.title,
        mode=Mode(row.mode),
        topic=row.topic,
        created_at=row.created_at,
        updated_at=row.updated_at,
        message_count=row.message_count,
        level=Level(row.level),
    )


def _message(row: Row[Any]) -> Message:
    return Message(
        id=row.id,
        chat_id=row.chat_id,
        role=Role(row.role),
        content=row.content,
        created_at=row.created_at,
        status=MessageStatus(row.status),
        model=row.model,
        feedback=feedback_of(row.feedback),
    )


class SqlChatRepository(Repository):
    async def add(
        self,
        *,
        user_id: int,
        title: str,
        mode: Mode,
        topic: str,
        now: datetime,
        level: Level = Level.INTERMEDIATE,
    ) -> Chat:
        stmt = (
            insert(chats)
            .values(
                user_id=user_id,
                title=title,
                mode=mode.value,
                topic=topic,
                created_at=now,
                updated_at=now,
                message_count=0,
                level=level.value,
            )
            .returning(chats.c.id)
        )
        chat_id: int = (await self._tx.execute(stmt)).scalar_one()
        return Chat(
            id=chat_id,
            user_id=user_id,
            title=title,
            mode=mode,
            topic=topic,
            created_at=now,
            updated_at=now,
            level=level,
        )

    async def get(self, user_id: int, chat_id: int) -> Chat | None:
        row = (await self._tx.execute(_GET_CHAT, {"chat_id": chat_id, "user_id": user_id})).first()
        return None if row is None else _chat(row)

    async def page(self, user_id: int, *, limit: int, after: ChatCursor | None) -> list[Chat]:
        stmt = select(*_CHAT).where(chats.c.user_id == user_id)
        if after is not None:
            # A row-value comparison, so the (user_id, updated_at DESC, id DESC) index serves it.
            position = tuple_(literal(after.updated_at, UtcDateTime()), literal(after.id))
            stmt = stmt.where(tuple_(chats.c.updated_at, chats.c.id) < position)
        stmt = stmt.order_by(chats.c.updated_at.desc(), chats.c.id.desc()).limit(limit)
        return [_chat(row) for row in (await self._tx.execute(stmt)).all()]

    async def by_id(self, user_id: int, *, after: int | None, limit: int) -> list[Chat]:
        stmt = select(*_CHAT).where(chats.c.user_id == user_id)
        if after is not None:
            stmt = stmt.where(chats.c.id > after)
        stmt = stmt.order_by(chats.c.id).limit(limit)
        return [_chat(row) for row in (await self._tx.execute(stmt)).all()]

    async def update(
        self,
        user_id: int,
        chat_id: int,
        *,
        title: str | None,
        topic: str | None,
        now: datetime,
        level: Level | None = None,
    ) -> Chat | None:
        values: dict[str, Any] = {"updated_at": now}
        if level is not None:
            values["level"] = level.value
        if title is not None:
            values["title"] = title
        if topic is not None:
            values["topic"] = topic
        stmt = (
            update(chats)
            .where(chats.c.id == chat_id, chats.c.user_id == user_id)
            .values(values)
            .returning(*_CHAT)
        )
        row = (await self._tx.execute(stmt)).first()
        return None if row is None else _chat(row)

    async def delete(self, user_id: int, chat_id: int) -> bool:
        # Messages and idempotency records go with it (ON DELETE CASCADE).
        stmt = delete(chats).where(chats.c.id == chat_id, chats.c.user_id == user_id)
        return (await self._tx.execute(stmt)).rowcount == 1


class SqlMessageRepository(Repository):
    async def add(self, chat_id: int, message: NewMessage, *, now: datetime) -> Message:
        # The chat's updated_at and message_count follow by trigger (migration 0002).
        try:
            message_id: int = await self._tx.scalar(_ADD_MESSAGE, _message_values(chat_id, message, now))
        except NotFound:
            raise ChatNotFound from None
        return _stored(message_id, chat_id, message, now)

    async def ask_context(self, user_id: int, chat_id: int, *, limit: int) -> AskContext:
        params = {"user_id": user_id, "chat_id": chat_id, "limit": max(limit, 0)}
        return _context(await self._tx.rows(_ASK_CONTEXT_PREPARED, params))

    async def ask_counted(
        self,
        user_id: int,
        chat_id: int,
        message: NewMessage,
        *,
        day: date,
        default_limit: int,
        history: int,
        now: datetime,
    ) -> CountedAsk:
        if self._tx.dialect != "postgresql":
            return await self._ask_counted_in_turns(
                user_id, chat_id, message, day=day, default_limit=default_limit, history=history, now=now
            )
        params = {
            "user_id": user_id,
            "limit": max(history, 0),
            "default_limit": default_limit,
            "qday": day,
            **_message_values(chat_id, message, now),
        }
        try:
            rows = await self._tx.rows(_ASK_COUNTED, params)
        except NotFound:  # the chat was deleted since the statement's snapshot: nothing is taken
            raise ChatNotFound from None
        context = _context(rows, history_at=_COUNTED_HISTORY)
        first = rows[0] if context.user is not None else None
        if first is None or first[_S_ID] is None:
            return CountedAsk(context=context, counted=None)
        counted = (first[_S_USED], _stored(first[_S_ID], chat_id, message, now))
        return CountedAsk(context=context, counted=counted)

    async def _ask_counted_in_turns(
        self,
        user_id: int,
        chat_id: int,
        message: NewMessage,
        *,
        day: date,
        default_limit: int,
        history: int,
        now: datetime,
    ) -> CountedAsk:
        """SQLite: the read, then the counted write in the unit of work's transaction. Opened
        first, the read runs in a deferred transaction of its own, without the write lock."""
        params = {"user_id": user_id, "chat_id": chat_id, "limit": max(history, 0)}
        context = _context(await self._tx.rows(_ASK_CONTEXT_PREPARED, params, read_alone=True))
        user = context.user
        if user is None or not user.is_active or context.chat is None:
            return CountedAsk(context=context, counted=None)
        limit = default_limit if user.daily_limit is None else user.daily_limit
        counted = await self._counted(user_id, chat_id, message, day=day, limit=limit, now=now)
        return CountedAsk(context=context, counted=counted)

    async def _counted(
        self, user_id: int, chat_id: int, message: NewMessage, *, day: date, limit: int, now: datetime
    ) -> tuple[int, Message] | None:
        """SQLite: the slot and the message, two prepared statements in the unit of work's
        transaction (a ``ChatNotFound`` leaves the block, which rolls the slot back)."""
        if limit <= 0:
            return None
        used = await SqlQuotaLedger(self._tx).consume(user_id, day, limit=limit)
        if used is None:
            return None
        return used, await self.add(chat_id, message, now=now)

    async def add_claimed(
        self,
        user_id: int,
        chat_id: int,
        message: NewMessage,
        *,
        key: str,
        day: date,
        limit: int,
        now: datetime,
        not_before: datetime,
        abandoned_before: datetime | None = None,
    ) -> tuple[int, Message] | IdempotencyRecord | None:
        claims = SqlIdempotencyRepository(self._tx)
        if self._tx.dialect != "postgresql":
            # SQLite: the claim, the slot and the message, then the claim's message id, in the
            # unit of work's transaction (no data-modifying CTEs there).
            try:
                earlier = await claims.claim(
                    user_id=user_id,
                    key=key,
                    chat_id=chat_id,
                    now=now,
                    not_before=not_before,
                    abandoned_before=abandoned_before,
                )
            except NotFound:  # the claim's foreign key: the chat is gone
                raise ChatNotFound from None
            if earlier is not None:
                return earlier
            counted = await self._counted(user_id, chat_id, message, day=day, limit=limit, now=now)
            if counted is not None:
                await claims.attach(user_id=user_id, key=key, message_id=counted[1].id)
            return counted
        params = {
            **_claim_params(user_id, key, chat_id, now, not_before, abandoned_before),
            "uid": user_id,
            "qday": day,
            "qlimit": limit,
            **_message_values(chat_id, message, now),
        }
        # A holder may release its claim between our statement and the read of its record.
        for _ in range(3):
            try:
                row = (await self._tx.execute(_ADD_CLAIMED, params)).first()
            except NotFound:
                raise ChatNotFound from None
            if row is not None:
                return None if row.used is None else (row.used, _stored(row.id, chat_id, message, now))
            earlier = await claims.record(user_id, key)
            if earlier is not None:
                return earlier
        raise Conflict("A request with this Idempotency-Key is still being processed.")

    async def add_reply(
        self,
        chat_id: int,
        reply: NewMessage,
        *,
        now: datetime,
        user_id: int,
        message_id: int,
        corrections: tuple[Correction, ...] = (),
        idempotency_key: str | None = None,
    ) -> Message:
        if self._tx.dialect != "postgresql":
            stored = await self.add(chat_id, reply, now=now)
            await SqlNotebookRepository(self._tx).add(
                user_id=user_id, chat_id=chat_id, message_id=message_id, corrections=corrections, now=now
            )
            if idempotency_key is not None:
                await SqlIdempotencyRepository(self._tx).finish(
                    user_id=user_id, key=idempotency_key, message_id=message_id, reply_id=stored.id
                )
            return stored
        params: dict[str, Any] = {
            **{f"r_{name}": value for name, value in _message_values(chat_id, reply, now).items()},
            "owner": user_id,
            "learner": message_id,
            "claim": idempotency_key,
        }
        for i, correction in enumerate(corrections):
            params.update(
                {
                    f"original_{i}": correction.original,
                    f"corrected_{i}": correction.corrected,
                    f"explanation_{i}": correction.explanation,
                    f"explanation_ko_{i}": correction.explanation_ko,
                }
            )
        statement = _add_reply(len(corrections), idempotency_key is not None)
        try:
            reply_id: int = await self._tx.scalar(statement, params)
        except NotFound:
            raise ChatNotFound from None
        return _stored(reply_id, chat_id, reply, now)

    async def for_chat(self, chat_id: int) -> list[Message]:
        stmt = select(*_MESSAGE).where(messages.c.chat_id == chat_id).order_by(messages.c.id)
        return [_message(row) for row in (await self._tx.execute(stmt)).all()]

    async def recent(self, chat_id: int, *, limit: int, before: int | None = None) -> list[Message]:
        if limit <= 0:
            return []
        if before is None:
            rows = (await self._tx.execute(_RECENT, {"chat_id": chat_id, "limit": limit})).all()
        else:
            params = {"chat_id": chat_id, "limit": limit, "before": before}
            rows = (await self._tx.execute(_RECENT_BEFORE, params)).all()
        return [_message(row) for row in reversed(rows)]

    async def after(self, chat_id: int, *, after: int | None, limit: int) -> list[Message]:
        # The (chat_id, id) index serves it: one range scan per page.
        stmt = select(*_MESSAGE).where(messages.c.chat_id == chat_id)
        if after is not None:
            stmt = stmt.where(messages.c.id > after)
        stmt = stmt.order_by(messages.c.id).limit(limit)
        return [_message(row) for row in (await self._tx.execute(stmt)).all()]

    async def get(self, chat_id: int, message_id: int) -> Message | None:
        stmt = select(*_MESSAGE).where(messages.c.id == message_id, messages.c.chat_id == chat_id)
        row = (await self._tx.execute(stmt)).first()
        return None if row is None else _message(row)

    async def set_status(self, message_id: int, status: MessageStatus) -> None:
        stmt = update(messages).where(messages.c.id == message_id).values(status=status.value)
        await self._tx.execute(stmt)

    async def activity(self, user_id: int, *, since: datetime) -> list[Activity]:
        stmt = (
            select(messages.c.created_at, messages.c.role, chats.c.mode, messages.c.feedback)
            .join(chats, chats.c.id == messages.c.chat_id)
            .where(chats.c.user_id == user_id, messages.c.status == "ok", messages.c.created_at >= since)
            .order_by(messages.c.id)
        )
        return [
            Activity(
                at=row.created_at,
                role=Role(row.role),
                mode=Mode(row.mode),
                feedback=feedback_of(row.feedback),
            )
            for row in (await self._tx.execute(stmt)).all()
        ]


_IDEMPOTENCY = (
    idempotency_keys.c.user_id,
    idempotency_keys.c.key,
    idempotency_keys.c.chat_id,
    idempotency_keys.c.created_at,
    idempotency_keys.c.message_id,
    idempotency_keys.c.reply_id,
)


def _claim_params(
    user_id: int,
    key: str,
    chat_id: int,
    now: datetime,
    not_before: datetime,
    abandoned_before: datetime | None,
) -> dict[str, Any]:
    # Without abandoned_before, only records that are over are taken over (an abandoned one
    # created before not_before is over anyway).
    return {
        "k_user": user_id,
        "k_key": key,
        "k_chat": chat_id,
        "k_now": now,
        "k_not_before": not_before,
        "k_abandoned_before": not_before if abandoned_before is None else abandoned_before,
    }


def _owned_by(user_id: int, key: str, message_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        idempotency_keys.c.user_id == user_id,
        idempotency_keys.c.key == key,
        idempotency_keys.c.message_id == message_id,
    )


class SqlIdempotencyRepository(Repository):
    async def claim(
        self,
        *,
        user_id: int,
        key: str,
        chat_id: int,
        now: datetime,
        not_before: datetime,
        abandoned_before: datetime | None = None,
    ) -> IdempotencyRecord | None:
        params = _claim_params(user_id, key, chat_id, now, not_before, abandoned_before)
        claim = _claim_alone(self._tx.dialect)
        # A holder may release its claim between our upsert and the read of its record.
        for _ in range(3):
            if (await self._tx.execute(claim, params)).first() is not None:
                return None
            earlier = await self.record(user_id, key)
            if earlier is not None:
                return earlier
        raise Conflict("A request with this Idempotency-Key is still being processed.")

    async def record(self, user_id: int, key: str) -> IdempotencyRecord | None:
        """The record of ``key`` (not part of the port: what a claim that lost reads)."""
        mine = (idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
        row = (await self._tx.execute(select(*_IDEMPOTENCY).where(*mine))).first()
        return None if row is None else IdempotencyRecord(**row._asdict())

    async def attach(self, *, user_id: int, key: str, message_id: int) -> None:
        stmt = (
            update(idempotency_keys)
            .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
            .values(message_id=message_id)
        )
        await self._tx.execute(stmt)

    async def finish(self, *, user_id: int, key: str, message_id: int, reply_id: int) -> None:
        stmt = update(idempotency_keys).where(*_owned_by(user_id, key, message_id)).values(reply_id=reply_id)
        await self._tx.execute(stmt)

    async def release(self, *, user_id: int, key: str, message_id: int) -> None:
        await self._tx.execute(delete(idempotency_keys).where(*_owned_by(user_id, key, message_id)))

    async def purge(self, *, before: datetime) -> int:
        stmt = delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
        return (await self._tx.execute(stmt)).rowcount

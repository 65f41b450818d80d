"""The SQL quota ledger: each step is one atomic statement (SPEC §5)."""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import Update, bindparam, select, update

from adapters.sql.prepared import Prepared
from adapters.sql.schema import anonymous_usage, day_events, quota_usage
from adapters.sql.transaction import Repository, Transaction

_USED = select(quota_usage.c.used).where(
    quota_usage.c.user_id == bindparam("uid"), quota_usage.c.day == bindparam("qday")
)
_GIVE_BACK: Update = (
    update(quota_usage)
    .where(
        quota_usage.c.user_id == bindparam("uid"),
        quota_usage.c.day == bindparam("qday"),
        quota_usage.c.used > 0,
    )
    .values(used=quota_usage.c.used - 1)
)


# A prepared statement's parameters are named and typed (adapters.sql.prepared).
_uid = bindparam("uid", type_=quota_usage.c.user_id.type)
_qday = bindparam("qday", type_=quota_usage.c.day.type)
_one = bindparam("one", 1, type_=quota_usage.c.used.type)
_qlimit = bindparam("qlimit", type_=quota_usage.c.used.type)


@cache
def _consume(dialect: str) -> Prepared:
    """``INSERT .. VALUES (.., 1) ON CONFLICT (user_id, day) DO UPDATE SET used = used + 1
    WHERE used < :limit RETURNING used``: the row lock of the conflicting row makes concurrent
    takers queue, and each re-checks the limit against the committed count. No row returned
    means the day is full."""
    stmt = Transaction(dialect).upsert(quota_usage).values(user_id=_uid, day=_qday, used=_one)
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=[quota_usage.c.user_id, quota_usage.c.day],
            set_={"used": quota_usage.c.used + _one},
            where=quota_usage.c.used < _qlimit,
        ).returning(quota_usage.c.used),
        _qlimit,
    )


class SqlQuotaLedger(Repository):
    async def consume(self, user_id: int, day: date, *, limit: int) -> int | None:
        if limit <= 0:
            return None
        params = {"uid": user_id, "qday": day, "qlimit": limit}
        used: int | None = await self._tx.scalar(_consume(self._tx.dialect), params)
        return used

    async def give_back(self, user_id: int, day: date, *, failure: str | None = None) -> None:
        if failure is None:
            await self._tx.execute(_GIVE_BACK, {"uid": user_id, "qday": day})
            return
        # The failure path only: the user's failed count in the same statement, then the day's
        # counter of this failure (one more statement).
        given = _GIVE_BACK.values(failed=quota_usage.c.failed + 1).returning(quota_usage.c.used)
        if (await self._tx.execute(given, {"uid": user_id, "qday": day})).first() is not None:
            await self._count(day, failure)

    async def count_refusal(self, day: date) -> None:
        await self._count(day, "refused")

    async def _count(self, day: date, name: str) -> None:
        stmt = self._tx.upsert(day_events).values(day=day, name=name, count=1)
        await self._tx.execute(
            stmt.on_conflict_do_update(
                index_elements=[day_events.c.day, day_events.c.name],
                set_={"count": day_events.c.count + 1},
            )
        )

    async def used(self, user_id: int, day: date) -> int:
        used: int | None = (await self._tx.execute(_USED, {"uid": user_id, "qday": day})).scalar()
        return used or 0

    async def days(self, user_id: int) -> list[tuple[date, int]]:
        stmt = (
            select(quota_usage.c.day, quota_usage.c.used)
            .where(quota_usage.c.user_id == user_id, quota_usage.c.used > 0)
            .order_by(quota_usage.c.day)
        )
        return [(row.day, row.used) for row in (await self._tx.execute(stmt)).all()]

    async def anonymous_totals(self) -> list[tuple[date, int]]:
        stmt = select(anonymous_usage.c.day, anonymous_usage.c.used).order_by(anonymous_usage.c.day)
        return [(row.day, row.used) for row in (await self._tx.execute(stmt)).all()]

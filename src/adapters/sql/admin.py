"""SQL administration reads (users with their activity, usage per day) and the audit trail.

Statistics come from the per-day counters (``quota_usage``, ``anonymous_usage``, ``day_events``),
never from ``messages``: their cost grows with users and days, not with what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, case, func, insert, or_, select

from adapters.sql.accounts import USER_COLUMNS, user_of
from adapters.sql.schema import (
    admin_audit,
    anonymous_usage,
    chats,
    day_events,
    identities,
    quota_usage,
    users,
)
from adapters.sql.transaction import Repository
from chatcore.model import AuditEntry, DayTotals, Provider, UsageDay, UserOverview


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlAdminQueries(Repository):
    def _overviews(self, today: date) -> Any:
        # Each is one index probe per user: the primary key of quota_usage, and
        # ix_chats_user_id_updated_at_id read backwards for the latest activity.
        used_today = (
            select(quota_usage.c.used)
            .where(quota_usage.c.user_id == users.c.id, quota_usage.c.day == today)
            .scalar_subquery()
        )
        last_active = (
            select(func.max(chats.c.updated_at)).where(chats.c.user_id == users.c.id).scalar_subquery()
        )
        return select(*USER_COLUMNS, used_today.label("used_today"), last_active.label("last_active_at"))

    async def _with_providers(self, rows: Sequence[Row[Any]]) -> list[UserOverview]:
        ids = [row.id for row in rows]
        providers: dict[int, list[Provider]] = {}
        if ids:
            stmt = (
                select(identities.c.user_id, identities.c.provider)
                .where(identities.c.user_id.in_(ids))
                .order_by(identities.c.provider)
            )
            for link in (await self._tx.execute(stmt)).all():
                found = providers.setdefault(link.user_id, [])
                if Provider(link.provider) not in found:
                    found.append(Provider(link.provider))
        return [
            UserOverview(
                user=user_of(row),
                used_today=row.used_today or 0,
                last_active_at=row.last_active_at,
                providers=tuple(providers.get(row.id, ())),
            )
            for row in rows
        ]

    async def users(
        self, *, query: str | None, before: int | None, limit: int, today: date
    ) -> list[UserOverview]:
        stmt = self._overviews(today).order_by(users.c.id.desc()).limit(limit)
        if before is not None:
            stmt = stmt.where(users.c.id < before)
        if query is not None:
            pattern = _like(query)
            stmt = stmt.where(
                or_(
                    users.c.username_key.like(pattern, escape="\\"),
                    users.c.email_key.like(pattern, escape="\\"),
                )
            )
        return await self._with_providers((await self._tx.execute(stmt)).all())

    async def user(self, user_id: int, *, today: date) -> UserOverview | None:
        rows = (await self._tx.execute(self._overviews(today).where(users.c.id == user_id))).all()
        found = await self._with_providers(rows)
        return found[0] if found else None

    async def usage(self, user_id: int, *, since: date) -> list[UsageDay]:
        stmt = (
            select(quota_usage.c.day, quota_usage.c.used, quota_usage.c.failed)
            .where(
                quota_usage.c.user_id == user_id,
                quota_usage.c.day >= since,
                or_(quota_usage.c.used > 0, quota_usage.c.failed > 0),
            )
            .order_by(quota_usage.c.day)
        )
        rows = (await self._tx.execute(stmt)).all()
        return [UsageDay(day=row.day, requests=row.used, failed=row.failed) for row in rows]

    async def totals(self, *, since: date) -> list[DayTotals]:
        per_day = (
            select(
                quota_usage.c.day,
                func.sum(quota_usage.c.used).label("requests"),
                func.sum(case((quota_usage.c.used > 0, 1), else_=0)).label("active"),
            )
            .where(quota_usage.c.day >= since)
            .group_by(quota_usage.c.day)
        )
        requests: dict[date, int] = {}
        active: dict[date, int] = {}
        for row in (await self._tx.execute(per_day)).all():
            requests[row.day] = int(row.requests or 0)
            active[row.day] = int(row.active or 0)
        gone = select(
            anonymous_usage.c.day, anonymous_usage.c.used, anonymous_usage.c.users, anonymous_usage.c.joined
        ).where(anonymous_usage.c.day >= since)
        joined: dict[date, int] = {}
        for row in (await self._tx.execute(gone)).all():
            requests[row.day] = requests.get(row.day, 0) + row.used
            active[row.day] = active.get(row.day, 0) + row.users
            joined[row.day] = row.joined
        events: dict[date, dict[str, int]] = {}
        counted = select(day_events.c.day, day_events.c.name, day_events.c.count.label("n")).where(
            day_events.c.day >= since
        )
        for row in (await self._tx.execute(counted)).all():
            events.setdefault(row.day, {})[row.name] = row.n
        return [
            DayTotals(
                day=day,
                requests=requests.get(day, 0),
                active_users=active.get(day, 0),
                events=events.get(day, {}),
                joined_deleted=joined.get(day, 0),
            )
            for day in sorted({*requests, *events, *joined})
        ]

    async def joined_since(self, at: datetime) -> list[datetime]:
        stmt = select(users.c.date_joined).where(users.c.date_joined >= at).order_by(users.c.date_joined)
        return list((await self._tx.execute(stmt)).scalars().all())


_ENTRY = (
    admin_audit.c.id,
    admin_audit.c.at,
    admin_audit.c.admin_id,
    admin_audit.c.admin_name,
    admin_audit.c.action,
    admin_audit.c.target_user_id,
    admin_audit.c.target_name,
    admin_audit.c.before,
    admin_audit.c.after,
)


class SqlAuditLog(Repository):
    async def append(
        self,
        *,
        at: datetime,
        admin_id: int | None,
        admin_name: str,
        action: str,
        target_user_id: int | None,
        target_name: str | None,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
    ) -> AuditEntry:
        values = {
            "at": at,
            "admin_id": admin_id,
            "admin_name": admin_name,
            "action": action,
            "target_user_id": target_user_id,
            "target_name": target_name,
            "before": before,
            "after": after,
        }
        entry_id: int = (
            await self._tx.execute(insert(admin_audit).values(values).returning(admin_audit.c.id))
        ).scalar_one()
        return AuditEntry(
            id=entry_id,
            at=at,
            admin_id=admin_id,
            admin_name=admin_name,
            action=action,
            target_user_id=target_user_id,
            target_name=target_name,
            before=before,
            after=after,
        )

    async def page(self, *, before: int | None, limit: int) -> list[AuditEntry]:
        stmt = select(*_ENTRY).order_by(admin_audit.c.id.desc()).limit(limit)
        if before is not None:
            stmt = stmt.where(admin_audit.c.id < before)
        return [AuditEntry(**row._asdict()) for row in (await self._tx.execute(stmt)).all()]

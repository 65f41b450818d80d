"""In-memory administration reads and audit trail over :class:`~adapters.memory.tables.Tables`."""

from __future__ import annotations

from datetime import date, datetime

from adapters.memory.tables import Tables
from chatcore.model import AuditEntry, DayTotals, Provider, UsageDay, UserOverview


class MemoryAdminQueries:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _overview(self, user_id: int, today: date) -> UserOverview:
        t = self._t
        activity = [c.updated_at for c in t.chats.values() if c.user_id == user_id]
        providers = sorted({Provider(p) for (p, _), (uid, _) in t.identities.items() if uid == user_id})
        return UserOverview(
            user=t.users[user_id],
            used_today=t.quota.get((user_id, today.isoformat()), 0),
            last_active_at=max(activity, default=None),
            providers=tuple(providers),
        )

    async def users(
        self, *, query: str | None, before: int | None, limit: int, today: date
    ) -> list[UserOverview]:
        needle = None if query is None else query.casefold()
        found = []
        for user in sorted(self._t.users.values(), key=lambda u: u.id, reverse=True):
            if before is not None and user.id >= before:
                continue
            if (
                needle is not None
                and needle not in user.username.casefold()
                and needle not in ((user.email or "").casefold())
            ):
                continue
            found.append(self._overview(user.id, today))
            if len(found) == limit:
                break
        return found

    async def user(self, user_id: int, *, today: date) -> UserOverview | None:
        return self._overview(user_id, today) if user_id in self._t.users else None

    async def usage(self, user_id: int, *, since: date) -> list[UsageDay]:
        days = {d for (uid, d) in [*self._t.quota, *self._t.failed] if uid == user_id}
        found = [
            UsageDay(
                day=date.fromisoformat(d),
                requests=self._t.quota.get((user_id, d), 0),
                failed=self._t.failed.get((user_id, d), 0),
            )
            for d in days
            if date.fromisoformat(d) >= since
        ]
        return sorted((u for u in found if u.requests or u.failed), key=lambda u: u.day)

    async def totals(self, *, since: date) -> list[DayTotals]:
        t = self._t
        requests: dict[str, int] = dict(t.anonymous_usage)
        active: dict[str, int] = dict(t.anonymous_users)
        for (_, d), used in t.quota.items():
            if used > 0:
                requests[d] = requests.get(d, 0) + used
                active[d] = active.get(d, 0) + 1
        events: dict[str, dict[str, int]] = {}
        for (d, name), count in t.day_events.items():
            events.setdefault(d, {})[name] = count
        joined = t.anonymous_joined
        days = sorted(d for d in {*requests, *events, *joined} if date.fromisoformat(d) >= since)
        return [
            DayTotals(
                day=date.fromisoformat(d),
                requests=requests.get(d, 0),
                active_users=active.get(d, 0),
                events=events.get(d, {}),
                joined_deleted=joined.get(d, 0),
            )
            for d in days
        ]

    async def joined_since(self, at: datetime) -> list[datetime]:
        return sorted(u.date_joined for u in self._t.users.values() if u.date_joined >= at)


class MemoryAuditLog:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

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
        entry = AuditEntry(
            id=self._t.next_id("audit"),
            at=at,
            admin_id=admin_id,
            admin_name=admin_name,
            action=action,
            target_user_id=target_user_id,
            target_name=target_name,
            before=None if before is None else dict(before),
            after=None if after is None else dict(after),
        )
        self._t.audit[entry.id] = entry
        return entry

    async def page(self, *, before: int | None, limit: int) -> list[AuditEntry]:
        found = sorted(
            (e for e in self._t.audit.values() if before is None or e.id < before),
            key=lambda e: e.id,
            reverse=True,
        )
        return found[:limit]

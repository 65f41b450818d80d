"""Administration (SPEC §4.6): users, limits, deactivation, roles, deletion, statistics, audit.

Everyone but an active administrator gets 403 ``admin_only``. The use cases read the caller's
row first (to check the role), so the bearer token is checked without the extra user read
(``app_http.auth.TOKEN_ONLY``). Nothing here ever returns a chat title, topic or message.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter

from app_http.auth import provide_token_user_id
from app_http.openapi import responses
from app_http.structs import ResourceId
from chatcore.admin import MAX_DAILY_LIMIT, AdminService, AuditPage, Operator, UserDetail, UserPage
from chatcore.errors import ValidationFailed
from chatcore.model import AuditEntry, UsageDay, UserOverview
from chatcore.statistics import DayStats


class LimitIn(msgspec.Struct):
    daily_limit: Annotated[int, msgspec.Meta(ge=0, le=MAX_DAILY_LIMIT)] | None
    """``null`` goes back to the default limit."""


class RoleIn(msgspec.Struct):
    is_admin: bool


class UserItemOut(msgspec.Struct):
    id: int
    username: str
    email: str | None
    date_joined: datetime
    is_admin: bool
    is_active: bool
    daily_limit: int | None
    """``null``: the default limit applies."""
    used_today: int
    last_active_at: datetime | None
    """The last time the user wrote in a chat or got a reply; ``null`` without any chat."""
    providers: list[str]

    @classmethod
    def of(cls, overview: UserOverview) -> UserItemOut:
        user = overview.user
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            date_joined=user.date_joined,
            is_admin=user.is_admin,
            is_active=user.is_active,
            daily_limit=user.daily_limit,
            used_today=overview.used_today,
            last_active_at=overview.last_active_at,
            providers=[p.value for p in overview.providers],
        )


class UsageOut(msgspec.Struct):
    day: date
    requests: int
    failed: int

    @classmethod
    def of(cls, usage: UsageDay) -> UsageOut:
        return cls(day=usage.day, requests=usage.requests, failed=usage.failed)


class UserDetailOut(UserItemOut):
    usage: list[UsageOut]
    """Every quota day of the last 30, oldest first."""

    @classmethod
    def of_detail(cls, detail: UserDetail) -> UserDetailOut:
        item = UserItemOut.of(detail.overview)
        return cls(
            **{f: getattr(item, f) for f in item.__struct_fields__},
            usage=[UsageOut.of(u) for u in detail.usage],
        )


class UserListOut(msgspec.Struct):
    items: list[UserItemOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: UserPage) -> UserListOut:
        return cls(items=[UserItemOut.of(o) for o in page.items], next_cursor=_cursor(page.next_before))


class DayOut(msgspec.Struct):
    day: date
    requests: int
    refused: int
    failed_by_code: dict[str, int]
    active_users: int
    new_users: int

    @classmethod
    def of(cls, stats: DayStats) -> DayOut:
        return cls(
            day=stats.day,
            requests=stats.requests,
            refused=stats.refused,
            failed_by_code=dict(stats.failed_by_code),
            active_users=stats.active_users,
            new_users=stats.new_users,
        )


class StatsOut(msgspec.Struct):
    days: list[DayOut]


class PersonOut(msgspec.Struct):
    id: int | None
    """``null`` once that account was deleted (or for the command line)."""
    username: str


class AuditItemOut(msgspec.Struct):
    id: int
    at: datetime
    admin: PersonOut
    action: str
    target_user: PersonOut | None
    before: dict[str, object] | None
    after: dict[str, object] | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditItemOut:
        target = None
        if entry.target_name is not None:
            target = PersonOut(id=entry.target_user_id, username=entry.target_name)
        return cls(
            id=entry.id,
            at=entry.at,
            admin=PersonOut(id=entry.admin_id, username=entry.admin_name),
            action=entry.action,
            target_user=target,
            before=None if entry.before is None else dict(entry.before),
            after=None if entry.after is None else dict(entry.after),
        )


class AuditListOut(msgspec.Struct):
    items: list[AuditItemOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: AuditPage) -> AuditListOut:
        return cls(items=[AuditItemOut.of(e) for e in page.items], next_cursor=_cursor(page.next_before))


def _cursor(before: int | None) -> str | None:
    return None if before is None else str(before)


def _before(cursor: str | None) -> int | None:
    """The position a cursor of this module stands for (an id); anything else is a 422."""
    if cursor is None or cursor == "":
        return None
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise ValidationFailed("The cursor is not valid.", field="cursor")
    return int(cursor)


Limit = Annotated[int, QueryParameter(ge=1, le=200, description="How many items, 1-200")]
Days = Annotated[int, QueryParameter(ge=1, le=366, description="How many quota days back, 1-366")]
Search = Annotated[
    str | None, QueryParameter(max_length=254, description="Part of a username or e-mail, any case")
]
Cursor = Annotated[str | None, QueryParameter(max_length=32, description="next_cursor of the page before")]


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]  # noqa: RUF012
    dependencies = {"user_id": Provide(provide_token_user_id)}  # noqa: RUF012

    @get(
        "/users/",
        operation_id="adminListUsers",
        summary="Users, newest first; q matches a part of the username or e-mail (administrators only)",
        responses=responses(401, 403),
    )
    async def list_users(
        self,
        admin: NamedDependency[AdminService],
        user_id: NamedDependency[int],
        q: Search = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> UserListOut:
        page = await admin.list_users(Operator(user_id), query=q, limit=limit, before=_before(cursor))
        return UserListOut.of(page)

    @get(
        "/users/{target_id:int}/",
        operation_id="adminGetUser",
        summary="A user with their usage of the last 30 quota days (administrators only)",
        responses=responses(401, 403, 404),
    )
    async def get_user(
        self, admin: NamedDependency[AdminService], user_id: NamedDependency[int], target_id: ResourceId
    ) -> UserDetailOut:
        return UserDetailOut.of_detail(await admin.user_detail(Operator(user_id), target_id))

    @put(
        "/users/{target_id:int}/limit",
        operation_id="setUserDailyLimit",
        summary="Set a user's daily tutor limit, 0-10,000, or null for the default (administrators only)",
        responses=responses(401, 403, 404, 422),
    )
    async def set_limit(
        self,
        admin: NamedDependency[AdminService],
        user_id: NamedDependency[int],
        target_id: ResourceId,
        data: JSONBody[LimitIn],
    ) -> UserItemOut:
        return UserItemOut.of(await admin.set_daily_limit(Operator(user_id), target_id, data.daily_limit))

    @post(
        "/users/{target_id:int}/deactivate",
        status_code=200,
        operation_id="deactivateUser",
        summary="Deactivate a user: no login, sessions and API keys end at once (administrators only)",
        responses=responses(401, 403, 404, 409),
    )
    async def deactivate(
        self, admin: NamedDependency[AdminService], user_id: NamedDependency[int], target_id: ResourceId
    ) -> UserItemOut:
        return UserItemOut.of(await admin.deactivate(Operator(user_id), target_id))

    @post(
        "/users/{target_id:int}/reactivate",
        status_code=200,
        operation_id="reactivateUser",
        summary="Let a deactivated user sign in again (administrators only)",
        responses=responses(401, 403, 404),
    )
    async def reactivate(
        self, admin: NamedDependency[AdminService], user_id: NamedDependency[int], target_id: ResourceId
    ) -> UserItemOut:
        return UserItemOut.of(await admin.reactivate(Operator(user_id), target_id))

    @put(
        "/users/{target_id:int}/role",
        operation_id="setUserRole",
        summary="Make a user an administrator or not (administrators only)",
        responses=responses(401, 403, 404, 409),
    )
    async def set_role(
        self,
        admin: NamedDependency[AdminService],
        user_id: NamedDependency[int],
        target_id: ResourceId,
        data: JSONBody[RoleIn],
    ) -> UserItemOut:
        return UserItemOut.of(await admin.set_role(Operator(user_id), target_id, is_admin=data.is_admin))

    @delete(
        "/users/{target_id:int}/",
        operation_id="adminDeleteUser",
        summary="Delete a user and all their data; usage stays as anonymous totals (administrators only)",
        responses=responses(401, 403, 404, 409),
    )
    async def delete_user(
        self, admin: NamedDependency[AdminService], user_id: NamedDependency[int], target_id: ResourceId
    ) -> None:
        await admin.delete_user(Operator(user_id), target_id)

    @get(
        "/stats/",
        operation_id="adminStats",
        summary="Usage per quota day: requests, refusals, failures by code, active and new users",
        responses=responses(401, 403),
    )
    async def stats(
        self,
        admin: NamedDependency[AdminService],
        user_id: NamedDependency[int],
        days: Days = 30,
    ) -> StatsOut:
        return StatsOut(days=[DayOut.of(d) for d in await admin.stats(Operator(user_id), days=days)])

    @get(
        "/audit/",
        operation_id="adminAudit",
        summary="The audit trail of administrative actions, newest first (administrators only)",
        responses=responses(401, 403),
    )
    async def audit(
        self,
        admin: NamedDependency[AdminService],
        user_id: NamedDependency[int],
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> AuditListOut:
        return AuditListOut.of(await admin.audit(Operator(user_id), limit=limit, before=_before(cursor)))

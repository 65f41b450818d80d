"""Administration (SPEC §5): per-user daily limits. Only for users with ``is_admin``."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from app_http.auth import provide_user_id
from app_http.openapi import responses
from app_http.structs import ResourceId
from chatcore.accounts import AccountService


class LimitIn(msgspec.Struct):
    daily_limit: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None
    """``null`` goes back to the default limit."""


class LimitOut(msgspec.Struct):
    id: int
    username: str
    daily_limit: int | None


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]  # noqa: RUF012
    dependencies = {"user_id": Provide(provide_user_id)}  # noqa: RUF012

    @put(
        "/users/{target_id:int}/limit",
        operation_id="setUserDailyLimit",
        summary="Set a user's daily tutor limit (administrators only)",
        responses=responses(401, 403, 404, 422),
    )
    async def set_limit(
        self,
        accounts: NamedDependency[AccountService],
        user_id: NamedDependency[int],
        target_id: ResourceId,
        data: JSONBody[LimitIn],
    ) -> LimitOut:
        user = await accounts.set_daily_limit(user_id, target_id, data.daily_limit)
        return LimitOut(id=user.id, username=user.username, daily_limit=user.daily_limit)

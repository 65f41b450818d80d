"""The learner's own data (SPEC §4.1): download all of it, or delete the account for good."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.response import Stream

from app_http.auth import TOKEN_ONLY, provide_user_id
from app_http.openapi import responses
from chatcore.privacy import PrivacyService

NO_STORE = CacheControlHeader(no_store=True)


class DeleteAccountIn(msgspec.Struct):
    password: Annotated[str, msgspec.Meta(max_length=1024, description="the current password")] | None = None
    confirm: (
        Annotated[
            str,
            msgspec.Meta(max_length=320, description="accounts without a password: the username, to confirm"),
        ]
        | None
    ) = None


class PrivacyController(Controller):
    """The export. Deleting the account shares ``/accounts/mypage/`` with the profile, so its
    handler lives with them (``app_http.accounts``); its body is defined here."""

    path = "/accounts"
    tags = ["accounts"]  # noqa: RUF012
    dependencies = {"user_id": Provide(provide_user_id)}  # noqa: RUF012

    @get(
        "/export/",
        operation_id="exportMyData",
        summary="Download all my data as one JSON file (format chatcore-export, version 1)",
        responses=responses(401),
        cache_control=NO_STORE,
        dependencies=TOKEN_ONLY,
    )
    async def export(self, privacy: NamedDependency[PrivacyService], user_id: NamedDependency[int]) -> Stream:
        export = await privacy.export(user_id)
        # Usernames are [A-Za-z0-9_.-] already; the substitution keeps the header safe regardless.
        filename = f"chatcore-export-{re.sub(r'[^A-Za-z0-9_.-]', '_', export.user.username)}.json"
        return Stream(
            export.chunks,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

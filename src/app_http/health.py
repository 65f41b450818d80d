"""Operations endpoints (SPEC §4.4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import SkipValidation


class Health(msgspec.Struct):
    status: str


class HealthController(Controller):
    tags = ["operations"]  # noqa: RUF012

    @get(
        "/healthz",
        operation_id="health",
        summary="Liveness: the process answers",
        sync_to_thread=False,
    )
    def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/readyz",
        operation_id="ready",
        summary="Readiness: the database answers",
        responses={503: ResponseSpec(data_container=Health, description="The database does not answer")},
    )
    async def ready(
        self, database_ready: NamedDependency[SkipValidation[Callable[[], Awaitable[bool]]]]
    ) -> Response[Health]:
        if await database_ready():
            return Response(Health(status="ok"))
        return Response(Health(status="unavailable"), status_code=503)

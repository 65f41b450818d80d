"""Operations endpoints (SPEC §4.4)."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec

from app_http.bootstrap import Container


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
    async def ready(self, state: State) -> Response[Health]:
        container: Container = state.container
        if await container.ready():
            return Response(Health(status="ok"))
        return Response(Health(status="unavailable"), status_code=503)

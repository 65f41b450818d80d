"""``create_app(container)``: the Litestar application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from app_http.accounts import AccountController, MyAccountController
from app_http.admin import AdminController
from app_http.chats import ChatController
from app_http.container import Container
from app_http.direct import DirectRoutes
from app_http.errors import handle_domain_error, handle_http_exception, handle_unexpected
from app_http.health import HealthController
from app_http.housekeeping import run_housekeeping
from app_http.json_body import JsonRequest
from app_http.learning import LearningController
from app_http.metrics_endpoint import metrics_handler
from app_http.middleware import RequestContextMiddleware
from app_http.oauth import MyOAuthController, OAuthController
from app_http.openai_compat import OpenAICompatController
from app_http.privacy import PrivacyController
from app_http.request_guard import RequestGuard
from app_http.web import web_routes
from chatcore.errors import ChatcoreError

MAX_BODY_BYTES = 64 * 1024


def create_app(container: Container, *, direct_routes: bool = True) -> Litestar:
    """The HTTP app over an already built container (the container is closed on shutdown).
    ``direct_routes=False`` leaves every request to Litestar's router (the tests compare both)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        housekeeping = asyncio.create_task(run_housekeeping(container.housekeeping))
        try:
            yield
        finally:
            housekeeping.cancel()
            await asyncio.gather(housekeeping, return_exceptions=True)
            await container.aclose()

    app = Litestar(
        route_handlers=[
            HealthController,
            AccountController,
            MyAccountController,
            PrivacyController,
            OAuthController,
            MyOAuthController,
            ChatController,
            LearningController,
            AdminController,
            OpenAICompatController,
            metrics_handler(container.metrics, token=container.settings.metrics_token),
            *web_routes(),
        ],
        middleware=[
            DefineMiddleware(RequestGuard, read_timeout=container.settings.request_read_timeout),
        ],
        request_class=JsonRequest,
        cors_config=_cors(container),
        dependencies=_services(container),
        # For the code outside handlers (exception handlers, middleware):
        state=State(
            {
                "clock": container.clock,
                "trusted_proxies": container.settings.trusted_proxies,
                "public_url": container.settings.effective_public_url,
                # For the refresh cookie (app_http.refresh_cookie):
                "refresh_token_ttl": container.settings.refresh_token_ttl,
                "https_public_url": container.settings.effective_public_url.startswith("https://"),
            }
        ),
        lifespan=[lifespan],
        exception_handlers={
            ChatcoreError: handle_domain_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="chatcore",
            version="0.1.0",
            description="English conversation and job-interview practice with an AI tutor.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path="/swagger")],
        ),
        debug=False,
    )
    # Around the router rather than per route: a request no route takes (404, 405) gets its
    # request id, headers, log line and metrics too. The busiest endpoints are answered in front of
    # the router (app_http.direct), under the same request guard.
    handler = app.asgi_handler
    if direct_routes:
        handler = DirectRoutes(
            handler,
            accounts=container.accounts,
            tutor=container.tutor,
            relay=container.relay,
            clock=container.clock,
            max_body=MAX_BODY_BYTES,
            read_timeout=container.settings.request_read_timeout,
            cors=bool(container.settings.cors_origins),
        )
    app.asgi_handler = RequestContextMiddleware(handler, container.metrics)
    return app


def _services(container: Container) -> dict[str, Provide]:
    """What handlers may ask for by name (``accounts: NamedDependency[AccountService]``)."""

    def constant(value: object) -> Provide:
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    return {
        "accounts": constant(container.accounts),
        "chats": constant(container.chats),
        "tutor": constant(container.tutor),
        "relay": constant(container.relay),
        "privacy": constant(container.privacy),
        "oauth": constant(container.oauth),
        "learning": constant(container.learning),
        "admin": constant(container.admin),
        "clock": constant(container.clock),
        "database_ready": constant(container.ready),
    }


def _cors(container: Container) -> CORSConfig | None:
    origins = list(container.settings.cors_origins)
    if not origins:
        return None  # same origin only
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Accept"],
        expose_headers=[
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "Retry-After",
            "X-Request-ID",
        ],
        max_age=600,
    )

"""The server's entry point: ``uvicorn --factory app_http.asgi:create`` (what ``chatcore serve``
runs, with the HTTP protocol of :mod:`app_http.serving`). Nothing runs at import."""

from __future__ import annotations

from litestar import Litestar

from app_http.app import create_app
from app_http.bootstrap import build_container
from app_http.logs import configure_logging
from app_http.settings import Settings


def create() -> Litestar:
    settings = Settings.from_env()
    configure_logging(production=settings.production)
    return create_app(build_container(settings))

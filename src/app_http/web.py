"""The web front end (SPEC §8): ``/`` is the page, ``/static/...`` its stylesheet, modules and
dictionaries, all from ``app_http/static/`` (no build step). API paths keep their JSON 404.

Caching: the files have no content hash in their names, so the browser revalidates each time
(``no-cache`` with the ETag and Last-Modified the file responses carry): an upgraded server is
picked up at the next load. The page's Content-Security-Policy comes from the middleware (every
HTML response gets it): scripts, styles and connections from this origin only, nothing inline.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

STATIC_DIR = Path(__file__).resolve().parent / "static"
REVALIDATE = CacheControlHeader(no_cache=True)


@get("/", include_in_schema=False, cache_control=REVALIDATE, name="web_page")
async def page() -> File:
    """The single page; its views are hash routes (``/#/login``, ``/#/chat/3``, ``/#/oauth?...``)."""
    return File(
        STATIC_DIR / "index.html",
        media_type="text/html",
        content_disposition_type="inline",
    )


def web_routes() -> list[ControllerRouterHandler]:
    """The page and its static files, for ``create_app``."""
    static: Router = create_static_files_router(
        path="/static", directories=[STATIC_DIR], cache_control=REVALIDATE, include_in_schema=False
    )
    return [page, static]

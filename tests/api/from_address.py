"""An HTTP client to the app in the test's own event loop, arriving from a chosen address (the
Litestar test client always comes from ``testclient`` and runs the app on another thread)."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar


def from_address(app: Litestar, address: str = "127.0.0.1") -> httpx.AsyncClient:
    asgi: Any = app  # httpx types the ASGI callable more narrowly than Litestar does
    transport = httpx.ASGITransport(app=asgi, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)

"""The web front end as files (SPEC §8): served at ``/`` and ``/static/`` with the right types,
caching and CSP, without taking the JSON 404 from API paths; and checks on its source: every
string in both languages, no markup from data, nothing inline that a strict CSP would block.
(The page itself is driven in Chromium by tests/browser/.)"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from api.conftest import Api
from api.helpers import assert_error
from app_http.web import STATIC_DIR

LOCALES = ("en", "ko")
JS_FILES = sorted(STATIC_DIR.glob("js/**/*.js"))


async def test_the_page_is_served_at_the_root_with_a_strict_csp(api: Api) -> None:
    response = await api.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert '<script type="module" src="/static/js/main.js"></script>' in response.text


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/js/main.js", "text/javascript"),
        ("/static/js/views/chat.js", "text/javascript"),
        ("/static/css/app.css", "text/css"),
        ("/static/locales/ko.json", "application/json"),
    ],
)
async def test_static_files_have_their_types_and_revalidate(api: Api, path: str, media_type: str) -> None:
    response = await api.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/static/nope.js", "/static/../app.py", "/nope", "/chatbot/nope/", "/accounts/x"]
)
async def test_unknown_paths_keep_the_json_404(api: Api, path: str) -> None:
    assert_error(await api.client.get(path), 404, "not_found")


async def test_the_page_is_not_in_the_api_schema(api: Api) -> None:
    schema = (await api.client.get("/schema/openapi.json")).json()
    assert "/" not in schema["paths"]
    assert not any(p.startswith("/static") for p in schema["paths"])


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, value in tree.items():
        keys |= _keys(value, f"{prefix}{name}.") if isinstance(value, dict) else {prefix + name}
    return keys


def _dictionary(language: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((STATIC_DIR / "locales" / f"{language}.json").read_text())
    return result


def test_both_languages_have_the_same_strings() -> None:
    english, korean = (_keys(_dictionary(language)) for language in LOCALES)
    assert english == korean
    for key in korean:
        value = key.split(".")
        node: Any = _dictionary("ko")
        for part in value:
            node = node[part]
        assert node.strip(), key


def test_every_string_the_scripts_ask_for_exists() -> None:
    keys = _keys(_dictionary("en"))
    used: set[str] = set()
    for path in JS_FILES:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""", path.read_text()))
    assert used, "no t(...) calls found"
    assert used - keys == set()


def test_no_markup_is_built_from_strings() -> None:
    """Text goes into the page through textContent only."""
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment"
    )
    for path in JS_FILES:
        assert not sinks.search(path.read_text()), path.name


def test_the_page_has_nothing_inline() -> None:
    html = (STATIC_DIR / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    for path in JS_FILES:
        assert 'setAttribute("style"' not in path.read_text(), path.name


def test_nothing_but_preferences_is_stored_in_the_browser() -> None:
    for path in JS_FILES:
        source = path.read_text()
        if path.name != "prefs.js":
            assert "localStorage" not in source, path.name
            assert "sessionStorage" not in source, path.name
        assert "document.cookie" not in source, path.name

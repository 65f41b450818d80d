"""The real ``chatcore serve`` process against clients that send too much, too slowly, or garbage
(SPEC §9): a 413 that arrives, a stalled client dropped in bounded time, 400/422 for bad bodies,
and the embedded database readable by its owner only.
"""

from __future__ import annotations

import json
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.hostile import NUL
from e2e.server import Server, base_env, running_server

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 1.5
"""CHATCORE_REQUEST_READ_TIMEOUT of the server under test, in seconds."""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("limits") / "var"  # made by the server: a first local run


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[Server]:
    env = base_env(data_dir, secret=False, CHATCORE_REQUEST_READ_TIMEOUT=str(READ_TIMEOUT))
    with running_server(env) as running:
        yield running


def _connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=15)


def _head(path: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP/1.1 response (with Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection in the middle of its answer"
        body += chunk
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("path", ["/accounts/token/", "/chatbot/chats/", "/v1/chat/completions"])
def test_a_client_that_sends_its_whole_100_kib_body_first_reads_the_413(server: Server, path: str) -> None:
    size = 100 * 1024
    for _ in range(3):
        with _connect(server) as sock:
            sock.sendall(_head(path, size))
            # As a client on a real network does: the body in pieces, not all in one buffer.
            for _ in range(size // 4096):
                sock.sendall(b"x" * 4096)
                time.sleep(0.002)
            status, headers, body = _read_answer(sock)
        assert status == 413
        assert headers["content-type"].startswith("application/json")
        assert json.loads(body)["code"] == "payload_too_large"


def test_a_body_announced_over_a_megabyte_is_refused_at_once(server: Server) -> None:
    """Not drained (it would be cut off anyway): the 413 does not wait for the body."""
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(_head("/accounts/token/", 8 * 1024 * 1024))
        status, _, _ = _read_answer(sock)
    assert status == 413
    assert time.monotonic() - started < READ_TIMEOUT / 2


def test_an_http_client_sending_100_kib_gets_the_413(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=15) as client:
        for _ in range(3):
            response = client.post("/accounts/join/", json={"username": "x" * 100 * 1024})
            assert response.status_code == 413
            assert response.json()["code"] == "payload_too_large"
            assert client.get("/healthz").status_code == 200  # the connection is still usable


def test_a_client_that_stalls_mid_body_gets_408_and_is_dropped(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_head("/accounts/token/", 200) + b'{"username": "minji", "pass')
        started = time.monotonic()
        status, _, body = _read_answer(sock)
        assert status == 408
        assert json.loads(body) == {
            "code": "request_timeout",
            "detail": "The request body did not arrive in time.",
        }
        assert sock.recv(1) == b""  # and the connection is closed
    assert READ_TIMEOUT - 0.2 < time.monotonic() - started < READ_TIMEOUT + 5


def test_a_client_that_stalls_in_its_headers_is_dropped(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"POST /accounts/token/ HTTP/1.1\r\nHost: test\r\n")
        started = time.monotonic()
        assert sock.recv(1024) == b""
    assert time.monotonic() - started < READ_TIMEOUT + 5


def test_a_head_over_64_kib_gets_431(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n" + b"X-Big: " + b"a" * 70_000 + b"\r\n")
        status, headers, body = _read_answer(sock)
        assert status == 431
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["code"] == "headers_too_large"
        assert sock.recv(1) == b""  # and the connection is closed


def test_a_client_that_leaves_mid_body_is_no_server_error(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_head("/accounts/token/", 200) + b'{"username": ')
        time.sleep(0.2)
    time.sleep(0.5)
    with httpx.Client(base_url=server.url, timeout=15) as client:
        assert client.get("/healthz").status_code == 200
    assert "unhandled_error" not in server.log()
    assert "status=500" not in server.log()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"username":' + b"[" * 1000 + b"]" * 1000 + b', "password": "x"}', 400, "malformed_json"),
        (b'{"username": "\xff\xfe", "password": "x"}', 400, "malformed_json"),
        (json.dumps({"username": NUL, "password": "x"}).encode(), 422, "validation_error"),
        (b'{"username": "\\ud800", "password": "x"}', 400, "malformed_json"),
        (b'{"username": "minji", "password": ' + b"9" * 400 + b"}", 422, "validation_error"),
    ],
    ids=["deep", "invalid-utf8", "nul", "lone-surrogate", "huge-number"],
)
def test_bad_bodies_are_4xx_from_the_real_server(server: Server, body: bytes, status: int, code: str) -> None:
    response = httpx.post(
        server.url + "/accounts/token/", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_and_its_files_are_the_owners_only(server: Server, data_dir: Path) -> None:
    with httpx.Client(base_url=server.url, timeout=15) as client:
        join = {"username": "eunji", "email": "eunji@example.com", "password": "pass word 1"}
        response = client.post("/accounts/join/", json={**join, "password2": join["password"]})
        assert response.status_code == 201, response.text  # a write: the -wal and -shm files exist
    database = data_dir / "chatcore.sqlite3"
    assert _mode(data_dir) == 0o700
    for path in (data_dir / "secret_key", database, *data_dir.glob("chatcore.sqlite3-*")):
        assert _mode(path) == 0o600, path
    assert {p.name for p in data_dir.glob("chatcore.sqlite3-*")} >= {
        "chatcore.sqlite3-wal",
        "chatcore.sqlite3-shm",
    }

"""Start the real ``chatcore serve`` process on a free port and stop it again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SECRET = "e2e-secret-key-that-is-long-enough-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def chatcore_binary() -> str:
    candidate = Path(sys.executable).with_name("chatcore")
    return str(candidate) if candidate.exists() else "chatcore"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def base_env(data_dir: Path, *, secret: bool = True, **extra: str) -> dict[str, str]:
    """The test runner's environment without any CHATCORE_/OPENAI_ setting, plus ``extra``.
    Without ``secret`` the server generates and stores its own key, as on a first local run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATCORE_", "OPENAI_"))}
    env.update({"CHATCORE_DATA_DIR": str(data_dir), "CHATCORE_HOST": "127.0.0.1"})
    if secret:
        env["CHATCORE_SECRET_KEY"] = SECRET
    env.update(extra)
    return env


@contextmanager
def running_server(
    env: Mapping[str, str], *, timeout: float = 90.0, command: Sequence[str] | None = None
) -> Iterator[Server]:
    """``chatcore serve`` (or ``command``) with ``env`` (a free CHATCORE_PORT is added); waits
    for /healthz."""
    port = free_port()
    full_env = {**env, "CHATCORE_PORT": str(port)}
    log_path = Path(env["CHATCORE_DATA_DIR"]) / f"server-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command or [chatcore_binary(), "serve"]),
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        _wait_healthy(server, timeout)
        yield server
    finally:
        _stop(process)


def _wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"chatcore serve exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"chatcore serve did not become healthy:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

"""Benchmark: how long one legitimate login takes while sign-ups or wrong logins flood the server.

Starts a real ``chatcore serve`` (embedded SQLite, the offline tutor, real Argon2id), signs up the
legitimate user, then for each scenario fires ``--flood`` concurrent requests and, once they are
all on their way, times one login with the right password (best and worst of ``--rounds``):

- ``idle``: no flood;
- ``joins``: ``--flood`` concurrent sign-ups (each from its own forwarded address, so the
  per-address sign-up budget does not cut the flood short: what is measured is the hashing);
- ``wrong logins``: ``--flood`` concurrent wrong passwords for as many accounts, each from its
  own forwarded address (a distributed guesser: no address budget stops it).

    uv run python bench/login_flood.py [--src DIR] [--flood 60] [--rounds 3]

``--src`` runs the server from another checkout's ``src`` (e.g. ``git archive`` of an older
commit) with this environment, to compare before and after. Forwarded addresses are sent with
``CHATCORE_TRUSTED_PROXIES=127.0.0.1``; a server that does not know the setting ignores them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from e2e.server import base_env, running_server  # noqa: E402 (after the path above)

PASSWORD = "bench password 1"  # noqa: S105 (a made-up account of the benchmark)


async def join(client: httpx.AsyncClient, name: str, address: str) -> int:
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD, "password2": PASSWORD}
    return (await client.post("/accounts/join/", json=body, headers={"x-forwarded-for": address})).status_code


async def login(client: httpx.AsyncClient, name: str, password: str, address: str) -> int:
    body = {"username": name, "password": password}
    return (
        await client.post("/accounts/token/", json=body, headers={"x-forwarded-for": address})
    ).status_code


async def timed_login(client: httpx.AsyncClient) -> tuple[float, int]:
    started = time.perf_counter()
    status = await login(client, "legit", PASSWORD, "192.0.2.1")
    return time.perf_counter() - started, status


async def scenario(url: str, kind: str, flood: int, round_no: int) -> tuple[float, int, list[int]]:
    limits = httpx.Limits(max_connections=flood + 5)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        if kind == "joins":
            work = [
                join(client, f"flood{round_no}x{n}", f"10.{round_no}.{n // 250}.{n % 250 + 1}")
                for n in range(flood)
            ]
        elif kind == "wrong logins":
            work = [
                login(client, f"flood{n}", "wrong guess 1", f"10.{100 + round_no}.{n // 250}.{n % 250 + 1}")
                for n in range(flood)
            ]
        else:
            work = []
        tasks = [asyncio.ensure_future(w) for w in work]
        await asyncio.sleep(0.3 if tasks else 0)  # the flood has reached the server
        seconds, status = await timed_login(client)
        statuses = list(await asyncio.gather(*tasks))
    return seconds, status, statuses


async def bench(url: str, flood: int, rounds: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        assert await join(client, "legit", "192.0.2.1") == 201
    for kind in ("idle", "joins", "wrong logins"):
        results = [await scenario(url, kind, flood, r) for r in range(rounds)]
        seconds = [s for s, _, _ in results]
        statuses = sorted({s for _, s, _ in results})
        flood_statuses: dict[int, int] = {}
        for _, _, codes in results:
            for code in codes:
                flood_statuses[code] = flood_statuses.get(code, 0) + 1
        median = statistics.median(seconds)
        timing = f"best {min(seconds):.2f} s, median {median:.2f} s, worst {max(seconds):.2f} s"
        answers = dict(sorted(flood_statuses.items()))
        print(
            f"{kind:>12}: legitimate login {timing}, status {statuses}; flood answers {answers}", flush=True
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="run the server from this src directory")
    parser.add_argument("--flood", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = base_env(
            Path(scratch) / "data",
            CHATCORE_TRUSTED_PROXIES="127.0.0.1",
            CHATCORE_LOGIN_ADDRESS_LIMIT="100",
        )
        if args.src is not None:
            env["PYTHONPATH"] = str(args.src.resolve())
        print(
            f"server from {args.src or 'this checkout'}; {os.cpu_count()} CPU(s); flood {args.flood}",
            flush=True,
        )
        with running_server(env, command=[sys.executable, "-m", "app_http.cli", "serve"]) as server:
            asyncio.run(bench(server.url, args.flood, args.rounds))


if __name__ == "__main__":
    main()

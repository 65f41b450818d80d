"""Benchmark: what refusing the access token of a deleted account costs per request (issue 16).

A bearer-authenticated request verifies the JWT (``AccountService.authenticate``) and, unless its
use case reads the user's row first anyway (the counted requests, my page, the quota), reads
that row by primary key (``authenticate_user``), so that a deleted account's tokens stop working
at once on every worker. This prints both, per call, on SQLite and PostgreSQL.

    uv run python bench/auth_lookup.py [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import asyncio
import secrets
import time

from scratch import on_each_database

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter
from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from chatcore.accounts import AccountService
from chatcore.clock import SystemClock
from chatcore.testing import QuickHasher

CALLS = 2_000
PASSWORD = "bench pass 1"  # noqa: S105 (a made-up account of the benchmark)
ROUNDS = 3


async def run(url: str, label: str) -> None:
    await upgrade_to_head(url)
    engine = create_engine_for(url)
    try:
        clock = SystemClock()
        accounts = AccountService(
            uow=SqlUnitOfWorkFactory(engine),
            hasher=QuickHasher(),
            tokens=JoseTokenService(secrets.token_urlsafe(32), access_ttl=900),
            clock=clock,
            limiter=MemoryAttemptLimiter(),
        )
        user = await accounts.register(username="bench", email=None, password=PASSWORD, password2=PASSWORD)
        access = (await accounts.issue_tokens(user.id)).access
        jwt_only, with_lookup = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(CALLS):
                accounts.authenticate(access)
            jwt_only.append((time.perf_counter() - started) / CALLS)
            started = time.perf_counter()
            for _ in range(CALLS):
                await accounts.authenticate_user(access)
            with_lookup.append((time.perf_counter() - started) / CALLS)
        best_jwt, best_lookup = min(jwt_only) * 1e6, min(with_lookup) * 1e6
        print(
            f"{label:10}  JWT only {best_jwt:6.0f} µs   JWT + user row {best_lookup:6.0f} µs   "
            f"(+{best_lookup - best_jwt:.0f} µs per request)"
        )
    finally:
        await engine.dispose()


async def main() -> None:
    await on_each_database(run, description=__doc__.splitlines()[0], prefix="bench_auth")


if __name__ == "__main__":
    asyncio.run(main())

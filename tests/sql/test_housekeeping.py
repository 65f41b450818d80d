"""Housekeeping really shrinks the tables, on both databases, and the server runs it by itself."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.sql import SqlAttemptLimiter, SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.schema import idempotency_keys, login_failures, refresh_tokens
from app_http import cli
from app_http.housekeeping import run_housekeeping
from chatcore.housekeeping import Housekeeping, Purged
from chatcore.model import RefreshRecord
from chatcore.testing import FrozenClock
from contract.helpers import add_chat, add_user

SECRET = "housekeeping-test-secret-0123456789-abcdef"


async def test_expired_and_old_rows_are_deleted_and_live_ones_kept(empty_url: str) -> None:
    await upgrade_to_head(empty_url)
    engine = create_engine_for(empty_url)
    clock = FrozenClock()
    now = clock.now()
    uow = SqlUnitOfWorkFactory(engine)
    limiter = SqlAttemptLimiter(engine)
    try:
        alice = await add_user(uow)
        chat = await add_chat(uow, alice.id)
        async with uow() as tx:
            for name, expires in (("expired", now - timedelta(seconds=1)), ("live", now + timedelta(days=1))):
                await tx.refresh_tokens.add(
                    RefreshRecord(token_hash=name, user_id=alice.id, family=name, expires_at=expires)
                )
            for key, age in (("stale", timedelta(hours=25)), ("fresh", timedelta(hours=1))):
                await tx.idempotency.claim(
                    user_id=alice.id, key=key, chat_id=chat.id, now=now - age, not_before=now - age
                )
            await tx.commit()
        await limiter.record_failure(["login:old"], now=now - timedelta(hours=1))
        await limiter.record_failure(["login:new"], now=now - timedelta(minutes=1))

        purged = await Housekeeping(uow=uow, limiter=limiter, clock=clock).run()

        assert purged == Purged(refresh_tokens=1, idempotency_records=1)
        async with engine.connect() as conn:
            left = {
                table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                for table in (refresh_tokens, idempotency_keys, login_failures)
            }
        assert left == {"refresh_tokens": 1, "idempotency_keys": 1, "login_failures": 1}
    finally:
        await engine.dispose()


class CountingHousekeeping(Housekeeping):
    def __init__(self, failures: int) -> None:
        self.runs = 0
        self._failures = failures

    async def run(self) -> Purged:
        self.runs += 1
        if self.runs <= self._failures:
            raise OSError("the database is away")
        return Purged(refresh_tokens=2, idempotency_records=0)


async def test_the_server_loop_runs_periodically_and_survives_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    housekeeping = CountingHousekeeping(failures=1)
    loop = asyncio.create_task(run_housekeeping(housekeeping, interval=0.01, first_delay=0))
    for _ in range(200):
        if housekeeping.runs >= 3:
            break
        await asyncio.sleep(0.01)
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)
    assert housekeeping.runs >= 3
    logged = capsys.readouterr()
    assert "housekeeping_failed" in logged.out + logged.err
    assert "refresh_tokens=2" in logged.out + logged.err


def test_chatcore_purge_runs_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CHATCORE_SECRET_KEY", SECRET)
    assert cli.main(["purge"]) == 0
    assert "Deleted 0 expired refresh token(s) and 0 old idempotency record(s)." in capsys.readouterr().out

"""Argon2 hashing runs in its own bounded lanes: a flood of sign-ups cannot queue ahead of a
login (issue 9: 60 concurrent sign-ups made a login take 16.7 s)."""

from __future__ import annotations

import asyncio

from adapters.identity import Argon2PasswordHasher


async def test_a_login_does_not_wait_for_a_flood_of_sign_ups() -> None:
    hasher = Argon2PasswordHasher(
        time_cost=2, memory_cost=16_384, parallelism=1, hash_slots=1, verify_slots=1
    )
    stored = await hasher.hash("the password 1")
    flood = [asyncio.create_task(hasher.hash(f"new password {n}")) for n in range(24)]
    await asyncio.sleep(0)  # every sign-up is queued before the login arrives

    assert await hasher.verify(stored, "the password 1")
    finished_before_the_login = sum(task.done() for task in flood)
    await asyncio.gather(*flood)

    assert finished_before_the_login <= 4
    await hasher.aclose()

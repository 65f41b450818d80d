"""Argon2id password hashing (argon2-cffi) in threads of its own, in two bounded lanes.

Hashing is slow on purpose (tens to hundreds of milliseconds of CPU and 64 MiB each). Run on the
event loop's default executor, a flood of sign-ups or wrong logins would fill every thread of
it, and everything else that needs one (the database driver's waits) would queue behind them.
So hashing has its own threads, and two lanes with a bounded number of places each:

- ``hash`` (sign-ups, new passwords): ``hash_slots`` at a time;
- ``verify`` (logins, password confirmations): ``verify_slots`` at a time.

Work beyond a lane's places waits in that lane, without holding a thread; a flood of sign-ups
never queues ahead of a login, and neither lane can use every core.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


def default_slots() -> tuple[int, int]:
    """``(hash_slots, verify_slots)`` for this machine: half the cores for sign-ups (at least
    one), all of them for logins."""
    cores = os.cpu_count() or 1
    return max(1, cores // 2), max(1, cores)


class Argon2PasswordHasher:
    """Argon2id with argon2-cffi's RFC 9106 low-memory profile by default."""

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost: int = 65_536,
        parallelism: int = 4,
        hash_slots: int | None = None,
        verify_slots: int | None = None,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        default_hash, default_verify = default_slots()
        hash_slots = hash_slots or default_hash
        verify_slots = verify_slots or default_verify
        self._threads = ThreadPoolExecutor(hash_slots + verify_slots, thread_name_prefix="argon2")
        self._hash_lane = asyncio.Semaphore(hash_slots)
        self._verify_lane = asyncio.Semaphore(verify_slots)

    async def hash(self, password: str) -> str:
        async with self._hash_lane:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        async with self._verify_lane:
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    self._threads, self._hasher.verify, password_hash, password
                )
            except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
                # ValueError: a stored hash that is not even ASCII (damaged data) verifies nothing.
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    async def aclose(self) -> None:
        """Stop the hashing threads (hashes already running finish first)."""
        self._threads.shutdown(wait=False, cancel_futures=True)

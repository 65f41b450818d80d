"""Fixtures any test directory may use: a frozen clock and an empty in-memory store.

Keep this file small and generic; fixtures for one kind of test live in that directory's conftest.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory import MemoryStore
from chatcore.testing import FrozenClock

# Noon in Seoul (the default quota zone): the quota day is 2026-11-26 and resets at
# 2026-11-27T00:00:00+09:00, the example of SPEC §5.
NOON_IN_SEOUL = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock standing still at noon in Seoul until a test moves it."""
    return FrozenClock(NOON_IN_SEOUL)


@pytest.fixture
def store() -> MemoryStore:
    """An empty in-memory database."""
    return MemoryStore()

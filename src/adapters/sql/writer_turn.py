"""The writer's turn: which process of a multi-worker server may write to the SQLite file now.

SQLite admits one writer at a time; left to itself, each waiting process polls with growing sleeps
(1, 2, 5, 10 ... ms), so under load a turn often sits idle. An advisory lock file next to the
database (``<db>-writer.lock``), held from ``BEGIN IMMEDIATE`` to the end of the transaction, lets
the processes of one server take turns as soon as one is free.

The lock is ``flock``, a POSIX call. On an OS without it (Windows) the turn is always free and
SQLite's own write lock alone orders the writers: correct, with the slower hand-over above.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from types import ModuleType


def _flock_module() -> ModuleType | None:
    """:mod:`fcntl` where the OS has it (imported here, not at module level: Windows has none)."""
    try:
        import fcntl
    except ImportError:
        return None
    return fcntl


class WriterTurn:
    """The advisory lock that lets one process at a time write (``flock`` on a lock file).

    ``path=None`` (an in-memory database, or an OS without ``flock``): the turn is always free.
    Given back or closed from any thread: a lock guards the descriptor, and a closed turn refuses
    to be taken (a connection that SQLAlchemy terminates must never leave it held).
    """

    def __init__(self, path: str | None) -> None:
        self._flock = None if path is None else _flock_module()
        self._fd = None
        if self._flock is not None and path is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._guard = threading.Lock()
        self._closed = False
        self.held = False

    def try_take(self) -> bool:
        """Takes the turn if it is free now; never waits."""
        with self._guard:
            if self._closed:
                raise sqlite3.OperationalError("the connection is closed")
            if self._fd is None or self._flock is None or self.held:
                self.held = True
                return True
            try:
                self._flock.flock(self._fd, self._flock.LOCK_EX | self._flock.LOCK_NB)
            except BlockingIOError:
                return False
            self.held = True
            return True

    def give(self) -> None:
        """Gives the turn back (nothing happens if it is not held)."""
        with self._guard:
            if self._fd is not None and self._flock is not None and self.held:
                self._flock.flock(self._fd, self._flock.LOCK_UN)
            self.held = False

    def close(self) -> None:
        """Gives the turn back for good."""
        with self._guard:
            if self._fd is not None:
                os.close(self._fd)  # closing the only descriptor also drops the lock
                self._fd = None
            self._closed = True
            self.held = False

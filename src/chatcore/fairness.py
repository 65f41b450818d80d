"""Taking turns fairly: slow work (password checks) served by key (a client address) in rotation.

A flood of logins from one address would otherwise fill every place in the queue before the one
login of somebody else: with :class:`FairTurns`, waiting work is served one key at a time in turn,
so another address waits for at most one turn of the flooding address per place, however many
requests that address has queued. Within one process (each worker has its own).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class FairTurns:
    """At most ``places`` holders at once; the waiting keys are served round robin."""

    def __init__(self, places: int) -> None:
        if places < 1:
            raise ValueError("places must be at least 1")
        self._places = places
        self._running = 0
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Wait for a place (behind other keys' turns), hold it for the block, then pass it on."""
        if self._running < self._places and not self._waiting:
            self._running += 1
        else:
            granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(key, deque()).append(granted)
            try:
                await granted
            except asyncio.CancelledError:
                if granted.done() and not granted.cancelled():
                    self._pass_on()  # the place came with the cancellation: hand it over
                else:
                    self._forget(key, granted)
                raise
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        """The holder of a place is done: give it to the next key in turn, or free it."""
        while self._waiting:
            key, queue = next(iter(self._waiting.items()))
            granted = queue.popleft()
            if queue:
                self._waiting.move_to_end(key)  # this key's next request waits for the others
            else:
                del self._waiting[key]
            if not granted.done():
                granted.set_result(None)
                return  # the place moves on; the count of holders stays the same
        self._running -= 1

    def _forget(self, key: str, granted: asyncio.Future[None]) -> None:
        queue = self._waiting.get(key)
        if queue is None:
            return
        try:
            queue.remove(granted)
        except ValueError:
            return
        if not queue:
            del self._waiting[key]

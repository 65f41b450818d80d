"""Password checks wait their turn by client address (chatcore.fairness.FairTurns)."""

from __future__ import annotations

import asyncio

import pytest

from chatcore.fairness import FairTurns


async def _hold(turns: FairTurns, key: str, served: list[str], release: asyncio.Event) -> None:
    async with turns.turn(key):
        served.append(key)
        await release.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_key_flooding_the_queue_delays_another_by_one_turn_per_place() -> None:
    turns = FairTurns(2)
    served: list[str] = []
    gates = [asyncio.Event() for _ in range(12)]
    flood = [asyncio.create_task(_hold(turns, "flood", served, gates[n])) for n in range(10)]
    await _settle()
    other = asyncio.create_task(_hold(turns, "colleague", served, gates[10]))
    await _settle()
    assert served == ["flood", "flood"]  # both places taken before the colleague came

    gates[0].set()  # a place frees: the flood's next turn, then it is the colleague's
    await _settle()
    gates[1].set()
    await _settle()

    assert served == ["flood", "flood", "flood", "colleague"], "not behind the flood's 8 others"
    for gate in gates:
        gate.set()
    await asyncio.gather(*flood, other)
    assert len(served) == 11
    assert turns.waiting == 0


async def test_a_waiter_cancelled_before_its_turn_leaves_the_queue() -> None:
    turns = FairTurns(1)
    served: list[str] = []
    first_gate, later = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(_hold(turns, "a", served, first_gate))
    await _settle()
    waiting = asyncio.create_task(_hold(turns, "b", served, later))
    await _settle()
    assert turns.waiting == 1

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert turns.waiting == 0
    first_gate.set()
    await first
    third = asyncio.create_task(_hold(turns, "c", served, later))
    later.set()
    await third
    assert served == ["a", "c"]


async def test_a_turn_granted_to_a_cancelled_waiter_passes_on() -> None:
    turns = FairTurns(1)
    served: list[str] = []
    gate = asyncio.Event()
    gate.set()
    async with turns.turn("a"):
        b = asyncio.create_task(_hold(turns, "b", served, gate))
        c = asyncio.create_task(_hold(turns, "c", served, gate))
        await _settle()
    b.cancel()  # the place went to b as "a" ended, but b is cancelled before it runs

    with pytest.raises(asyncio.CancelledError):
        await b
    await asyncio.wait_for(c, timeout=1)

    assert served == ["c"]
    assert turns.waiting == 0


def test_a_queue_needs_a_place() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FairTurns(0)

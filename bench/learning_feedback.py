"""Benchmark: what the feedback (SPEC §4.7) adds to a tutor request: time, CPU, upstream calls and
upstream prompt size.

The feedback is asked in the same upstream call as the reply (``chatcore.tutor.build_prompt``;
the OpenAI gateway asks for ``{"reply": ..., "feedback": ...}``). The fake OpenAI server
(``tests/fakes``, in a process of its own) answers after a fixed delay, like an upstream's time
to its answer, with that JSON when asked for it (streamed word by word). For each case,
``--messages`` learner messages are sent one after the other through ``TutorService`` (``ask``,
or ``accept`` and ``stream``) with the real OpenAI gateway and the in-memory store; reported: the
median time of a request, the CPU time of this process per message (the service and the gateway;
not the fake), the upstream calls and the characters of the prompts sent upstream per message
(a stand-in for input tokens).

    uv run python bench/learning_feedback.py [--delay 0.3] [--messages 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from adapters.memory import MemoryStore
from adapters.openai_llm import OpenAIGateway
from chatcore.chats import ChatService
from chatcore.clock import SystemClock
from chatcore.model import Mode
from chatcore.quota import QuotaPolicy
from chatcore.results import Done, PendingAsk
from chatcore.tutoring import TutorService
from fakes.fake_openai_process import FakeOpenAIProcess

ANSWERS = (
    "I am a backend developer with three years of experience in payments.",
    "In my last project I led a team of three and we moved billing to Kafka: failures dropped by half.",
    "I am boring with my current job because I want more responsibility and bigger systems.",
)
CASES = (
    ("no feedback", False, False),
    ("reply + feedback, one call", True, False),
    ("no feedback, streamed", False, True),
    ("reply + feedback, one call, streamed", True, True),
)


def _chars(requests: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("content", ""))) for r in requests for m in r["body"]["messages"])


async def _send(tutor: TutorService, user_id: int, chat_id: int, text: str, *, streamed: bool) -> bool:
    """One message; whether its reply came with feedback."""
    if not streamed:
        return (await tutor.ask(user_id, chat_id, text)).reply.feedback is not None
    pending = await tutor.accept(user_id, chat_id, text)
    assert isinstance(pending, PendingAsk)
    events = [event async for event in tutor.stream(pending)]
    done = events[-1]
    assert isinstance(done, Done)
    return done.result.reply.feedback is not None


async def run_case(
    fake: FakeOpenAIProcess, *, feedback: bool, streamed: bool, delay: float, messages: int
) -> tuple[float, float, float, float]:
    """(median seconds, CPU seconds per message, upstream calls per message, prompt chars per message)."""
    fake.configure(answer_delay=delay)
    gateway = OpenAIGateway(api_key="sk-bench", model="bench", base_url=fake.base_url, timeout=30)
    store = MemoryStore()
    clock = SystemClock()
    chats = ChatService(uow=store.unit_of_work, clock=clock)
    tutor = TutorService(
        uow=store.unit_of_work,
        llm=gateway,
        clock=clock,
        policy=QuotaPolicy(limit=10_000),
        chats=chats,
        feedback=feedback,
    )
    try:
        async with store.unit_of_work() as uow:
            user = await uow.users.add(username="bench", email=None, password_hash=None, now=clock.now())
            await uow.commit()
        chat = await chats.start_chat(user.id, mode=Mode.INTERVIEW, topic="backend developer at a fintech")
        await tutor.ask(user.id, chat.id, "Hello, I am ready.")  # warm up the connection pool
        fake.clear()
        times = []
        cpu_started = time.process_time()
        for n in range(messages):
            started = time.perf_counter()
            got = await _send(tutor, user.id, chat.id, ANSWERS[n % len(ANSWERS)], streamed=streamed)
            times.append(time.perf_counter() - started)
            assert got == feedback, "the feedback is missing"
        cpu = (time.process_time() - cpu_started) / messages
    finally:
        await gateway.aclose()
    calls = [r for r in fake.requests() if r["path"] == "/v1/chat/completions"]
    return statistics.median(times), cpu, len(calls) / messages, _chars(calls) / messages


async def run(fake: FakeOpenAIProcess, *, delay: float, messages: int) -> None:
    for _, feedback, streamed in CASES:  # warm up: imports, the SDK's first request, caches
        await run_case(fake, feedback=feedback, streamed=streamed, delay=0.0, messages=3)
    print(f"upstream delay {delay * 1000:.0f} ms, {messages} messages per case")
    print("| case | median request | CPU / message | upstream calls / message | prompt chars / message |")
    print("|---|---:|---:|---:|---:|")
    for name, feedback, streamed in CASES:
        median, cpu, calls, chars = await run_case(
            fake, feedback=feedback, streamed=streamed, delay=delay, messages=messages
        )
        print(f"| {name} | {median * 1000:.0f} ms | {cpu * 1000:.1f} ms | {calls:.0f} | {chars:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay", type=float, default=0.3, help="seconds the fake takes to answer")
    parser.add_argument("--messages", type=int, default=15)
    args = parser.parse_args()
    with FakeOpenAIProcess() as fake:
        asyncio.run(run(fake, delay=args.delay, messages=args.messages))


if __name__ == "__main__":
    main()

"""Benchmark: what the feedback (SPEC §4.7) adds to a tutor request's time and upstream prompt size.

The fake OpenAI server (``tests/fakes``) answers after a fixed delay, like an upstream's time to
its answer; the feedback call is asked beside the reply (``chatcore.assessing``). For each case,
``--messages`` learner messages are sent one after the other through ``TutorService.ask`` with the
real OpenAI gateway and the in-memory store; the median time of a request is reported, and the
characters of the prompts sent upstream per message (a stand-in for input tokens).

    uv run python bench/learning_feedback.py [--delay 0.3] [--messages 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from adapters.memory import MemoryStore
from adapters.openai_llm import OpenAIGateway
from chatcore.chats import ChatService
from chatcore.clock import SystemClock
from chatcore.model import Mode
from chatcore.quota import QuotaPolicy
from chatcore.tutoring import TutorService
from fakes.fake_openai import FakeOpenAI, Received

ANSWERS = (
    "I am a backend developer with three years of experience in payments.",
    "In my last project I led a team of three and we moved billing to Kafka: failures dropped by half.",
    "I am boring with my current job because I want more responsibility and bigger systems.",
)


def _chars(requests: list[Received]) -> int:
    return sum(len(str(m.get("content", ""))) for r in requests for m in r.json()["messages"])


async def run_case(
    name: str, *, coach: bool, delay: float, assessment_delay: float | None, messages: int
) -> tuple[str, float, float, float]:
    async with FakeOpenAI(answer_delay=delay, assessment_delay=assessment_delay) as fake:
        gateway = OpenAIGateway(api_key="sk-bench", model="bench", base_url=fake.base_url, timeout=30)
        store = MemoryStore()
        clock = SystemClock()
        policy = QuotaPolicy(limit=10_000)
        chats = ChatService(uow=store.unit_of_work, clock=clock)
        tutor = TutorService(
            uow=store.unit_of_work,
            llm=gateway,
            clock=clock,
            policy=policy,
            chats=chats,
            coach=gateway if coach else None,
        )
        try:
            async with store.unit_of_work() as uow:
                user = await uow.users.add(username="bench", email=None, password_hash=None, now=clock.now())
                await uow.commit()
            chat = await chats.start_chat(
                user.id, mode=Mode.INTERVIEW, topic="backend developer at a fintech"
            )
            await tutor.ask(user.id, chat.id, "Hello, I am ready.")  # warm up the connection pool
            fake.requests.clear()
            times = []
            for n in range(messages):
                started = time.perf_counter()
                await tutor.ask(user.id, chat.id, ANSWERS[n % len(ANSWERS)])
                times.append(time.perf_counter() - started)
        finally:
            await gateway.aclose()
        reply_chars = _chars(fake.chat_requests("reply")) / messages
        feedback_chars = _chars(fake.chat_requests("feedback")) / messages
        return name, statistics.median(times), reply_chars, feedback_chars


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay", type=float, default=0.3, help="seconds the fake takes to answer a reply")
    parser.add_argument("--messages", type=int, default=15)
    args = parser.parse_args()
    d = args.delay
    cases = [
        ("no feedback", False, None),
        ("feedback faster than the reply (½ delay)", True, d / 2),
        ("feedback as slow as the reply", True, d),
        ("feedback slower than the reply (2 × delay)", True, 2 * d),
    ]
    print(f"upstream reply delay {d * 1000:.0f} ms, {args.messages} messages per case")
    print("| case | median request | prompt chars / message: reply | feedback |")
    print("|---|---:|---:|---:|")
    for name, coach, assessment in cases:
        _, median, reply, feedback = await run_case(
            name, coach=coach, delay=d, assessment_delay=assessment, messages=args.messages
        )
        print(f"| {name} | {median * 1000:.0f} ms | {reply:,.0f} | {feedback:,.0f} |")


if __name__ == "__main__":
    asyncio.run(main())

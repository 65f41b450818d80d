"""``/metrics`` of the real server with 2 workers on PostgreSQL: requests spread over both workers,
and the totals any worker answers with are what was sent (SPEC §4.4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from api.prometheus_text import Samples, parse, value
from e2e.server import Server, base_env, running_server
from e2e.test_server import run_cli, sign_up

TOKEN = "e2e-metrics-token-0123456789"
BATCH = 20


def worker_files(server: Server) -> dict[int, Path]:
    """Each worker process of ``server`` and the file it counts in (found in its memory map:
    prometheus_client maps ``counter_<pid>.db`` in the metrics directory of ``chatcore serve``)."""
    workers: dict[int, Path] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
            if int(rest.rsplit(")", 1)[1].split()[1]) != server.process.pid:
                continue
            maps = (stat.parent / "maps").read_text()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        for line in maps.splitlines():
            if line.endswith(f"/counter_{pid}.db"):
                workers[int(pid)] = Path(line.split(maxsplit=5)[5])
    return workers


async def started_workers(server: Server, count: int) -> dict[int, Path]:
    """The files of ``count`` workers, once each has built its app (/healthz answered only one)."""
    for _ in range(600):
        files = worker_files(server)
        if len(files) >= count:
            break
        await asyncio.sleep(0.1)
    assert len(files) == count, files
    return files


def requests_counted_in(file: Path, route: str) -> float:
    """The requests to ``route`` one worker counted (its own file, read as /metrics reads them)."""
    return sum(
        sample.value
        for metric in MultiProcessCollector.merge([str(file)])  # type: ignore[no-untyped-call]
        for sample in metric.samples
        if sample.name == "chatcore_http_requests_total" and sample.labels["route"] == route
    )


def workers_that_answered(server: Server, route: str) -> int:
    return sum(1 for file in worker_files(server).values() if requests_counted_in(file, route) > 0)


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return parse(response.text)


async def each_on_its_own_connection(url: str, path: str, headers: dict[str, str], count: int) -> list[int]:
    async def one() -> int:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            return (await client.get(path, headers=headers)).status_code

    return await asyncio.gather(*(one() for _ in range(count)))


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="finds the workers through /proc (Linux)")
async def test_metrics_from_two_workers_add_up(tmp_path: Path, postgres_database_url: str) -> None:
    env = base_env(
        tmp_path / "data",
        CHATCORE_DATABASE_URL=postgres_database_url,
        CHATCORE_WORKERS="2",
        CHATCORE_METRICS_TOKEN=TOKEN,
    )
    migrated = await asyncio.to_thread(run_cli, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    with running_server(env) as server:
        files = await started_workers(server, 2)
        directory = next(iter(files.values())).parent
        assert {file.parent for file in files.values()} == {directory}  # one directory for both
        assert directory.stat().st_mode & 0o077 == 0  # private
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            headers = await sign_up(client, "metrics")
            chat = await client.post("/chatbot/chats/", json={"mode": "interview"}, headers=headers)
            chat_id = chat.json()["chat"]["id"]
            sent = [
                (
                    await client.post(
                        f"/chatbot/chats/{chat_id}/messages/", json={"content": "hi"}, headers=headers
                    )
                )
                for _ in range(7)
            ]
            assert [r.status_code for r in sent] == [201] * 5 + [429] * 2
            for _ in range(3):
                wrong = await client.post(
                    "/accounts/token/", json={"username": "metrics", "password": "nope 1234"}
                )
                assert wrong.status_code == 401
            refused = await client.get("/metrics")
            assert refused.status_code == 401
        quota_reads = 0
        while workers_that_answered(server, "/chatbot/quota") < 2 and quota_reads < 10 * BATCH:
            statuses = await each_on_its_own_connection(server.url, "/chatbot/quota/", headers, BATCH)
            assert statuses == [200] * BATCH
            quota_reads += BATCH
        assert workers_that_answered(server, "/chatbot/quota") == 2, "every request went to one worker"
        unknown = await each_on_its_own_connection(server.url, "/no/such/page", {}, 10)
        assert unknown == [404] * 10

        for _ in range(4):  # whichever worker answers, the same totals
            samples = await scrape(server.url)
            requests = "chatcore_http_requests_total"
            messages = "/chatbot/chats/{chat_id}/messages"
            assert value(samples, requests, route=messages, method="POST", status="201") == 5
            assert value(samples, requests, route=messages, method="POST", status="429") == 2
            assert value(samples, requests, route="/chatbot/quota", method="GET", status="200") == quota_reads
            assert value(samples, requests, route="<unmatched>", method="GET", status="404") == 10
            assert value(samples, requests, route="/accounts/token", method="POST", status="200") == 1
            assert value(samples, requests, route="/accounts/token", method="POST", status="401") == 3
            assert value(samples, requests, route="/metrics", method="GET", status="401") == 1
            count = "chatcore_http_request_duration_seconds_count"
            assert value(samples, count, route="/chatbot/quota", method="GET") == quota_reads
            assert value(samples, "chatcore_tutor_calls_total", outcome="ok") == 5
            assert value(samples, "chatcore_tutor_call_duration_seconds_count", outcome="ok") == 5
            assert value(samples, "chatcore_quota_refusals_total") == 2
            assert value(samples, "chatcore_login_failures_total") == 3
            assert value(samples, "chatcore_http_streams_open") == 0
    assert not directory.exists()  # removed when the server stopped

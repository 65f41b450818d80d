"""Benchmark: what recording a request's metrics costs (issue 13, point 5).

What the request middleware adds to every request (``Metrics.request_done``: the counter and the
duration histogram of its route, and the refusal check of its error code), what a streamed reply
adds (the open-streams gauge, up and down), and one scrape. Each with prometheus_client's values in
memory (an app built in-process) and in the worker files of ``chatcore serve`` (a
``PROMETHEUS_MULTIPROC_DIR``; measured in a child process, since the choice is made at import).

    uv run python bench/metrics.py [--rounds 5] [--requests 50000]

Each figure is the best of ``--rounds`` runs (the machine may be shared), in microseconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import timeit


def measure(rounds: int, requests: int) -> None:
    from app_http.metrics import Metrics

    metrics = Metrics()
    routes = [f"/route/{n}" for n in range(30)]  # about as many as the app has

    def request() -> None:
        for route in routes:
            metrics.request_done(route=route, method="POST", status=201, seconds=0.0123)
            metrics.refused("chat_not_found", route=route)

    def stream() -> None:
        metrics.streams_open.inc()
        metrics.streams_open.dec()

    kind = "worker files" if metrics.directory else "in memory"
    per_request = min(timeit.repeat(request, number=requests // len(routes), repeat=rounds))
    print(f"{kind:>12}: per request {per_request / requests * 1e6:6.2f} µs")
    per_stream = min(timeit.repeat(stream, number=requests, repeat=rounds))
    print(f"{kind:>12}: per stream  {per_stream / requests * 1e6:6.2f} µs")
    scrape = min(timeit.repeat(metrics.render, number=100, repeat=rounds))
    print(f"{kind:>12}: one scrape  {scrape / 100 * 1e6:6.0f} µs (30 routes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.here:
        measure(args.rounds, args.requests)
        return
    measure(args.rounds, args.requests)
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
        argv = [
            sys.executable,
            __file__,
            "--here",
            "--rounds",
            str(args.rounds),
            "--requests",
            str(args.requests),
        ]
        subprocess.run(argv, env=env, check=True)  # noqa: S603 (our own script)


if __name__ == "__main__":
    main()

"""Per-request cost without HTTP: the WSGI application called in a loop, in this process.

    BENCH_DATABASE_PREFIX=bench_ python -m benchmarks.inprocess --size large \
        [--only get_segment,bulk_assignments] [--profile get_segment [--sort tottime]]

Runs against the benchmark database of `--size` (made by `python -m benchmarks --size …`;
this command never generates data). Each hot path is called `--warmup` times, then
`--iterations` times; it prints wall and CPU milliseconds per request. Without gunicorn,
the socket and the client sharing the 2 cores, the CPU column is what the request itself
costs, and it moves far less between runs than the HTTP figures. The paths are the
benchmark's own (`benchmarks.scenarios`, by name): its GETs answered 200, the 304
revalidation, and its bulk writes, which write the same rows on every call and leave the
data as they found it. `--profile NAME` then runs that path under cProfile and prints
the functions by cumulative time (`--sort tottime`: by the time spent in each function
itself). Not part of the test suite; it writes no file.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.floor import floor_connect
from benchmarks.scenarios import Scenario, scenarios_build
from benchmarks.server import ROOT, _env, database_url
from benchmarks.sizes import SIZES


def _reads(size: str) -> dict[str, Scenario]:
    """The benchmark's hot paths by name, with their tokens: the reads (its GETs answered
    200), the 304 revalidation, and the bulk writes, which write the same rows again on
    every call."""
    with floor_connect(database_url(size)) as conn:
        scenarios = scenarios_build(size, conn)
    return {
        s.name: s
        for s in scenarios
        if (s.call.method == "GET" and s.expect == 200)
        or s.revalidate
        or (s.write and "bulk" in s.name)
    }


def _setup(size: str) -> Callable[..., Any]:
    os.environ.update(_env(size), DJANGO_SETTINGS_MODULE="segmentservice.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _caller(app: Callable[..., Any], scenario: Scenario) -> Callable[[], str]:
    path, _, query = scenario.call.path.partition("?")
    token = scenario.call.token
    body = b"" if scenario.call.body is None else json.dumps(scenario.call.body).encode()

    def call(headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        """The status line and the response headers (lower-case names)."""
        environ = {
            "REQUEST_METHOD": scenario.call.method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_ACCEPT": "application/json",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        environ.update(headers)
        status: list[str] = []
        answer: dict[str, str] = {}

        def start_response(line: str, headers: list, exc_info: Any = None) -> None:
            status.append(line)
            answer.update((name.lower(), value) for name, value in headers)

        b"".join(app(environ, start_response))
        return status[0], answer

    extra: dict[str, str] = {}
    if scenario.revalidate:  # the storefront holds the ETag of its last answer
        extra = {"HTTP_IF_NONE_MATCH": call({})[1].get("etag", '"none"')}
    return lambda: call(extra)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inprocess", description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="large")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--only", help="Comma-separated read names (default: all).")
    parser.add_argument("--profile", help="Profile this read afterwards.")
    parser.add_argument(
        "--sort",
        choices=["cumulative", "tottime"],
        default="cumulative",
        help="Order of the profile: by time with callees (cumulative) or in the function.",
    )
    args = parser.parse_args(argv)
    reads = _reads(args.size)
    names = args.only.split(",") if args.only else list(reads)
    unknown = sorted({*names, *([args.profile] if args.profile else [])} - set(reads))
    if unknown:
        parser.error(f"no such read: {', '.join(unknown)} (reads: {', '.join(reads)})")
    app = _setup(args.size)
    for name in names:
        call = _caller(app, reads[name])
        status = call()
        if not status.startswith(str(reads[name].expect)):
            raise SystemExit(f"{name}: {status}, not {reads[name].expect}")
        for _ in range(args.warmup):
            call()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.iterations):
            call()
        wall_ms = (time.perf_counter() - wall) / args.iterations * 1000
        cpu_ms = (time.process_time() - cpu) / args.iterations * 1000
        print(f"{name:24s} wall {wall_ms:7.3f} ms  CPU {cpu_ms:7.3f} ms")
    if args.profile:
        call = _caller(app, reads[args.profile])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.iterations):
            call()
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

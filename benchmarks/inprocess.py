"""Per-request cost without HTTP: the WSGI application called in a loop, in this process.

    BENCH_DATABASE_PREFIX=bench_ python -m benchmarks.inprocess --size large [--profile get]

Runs against the benchmark database of `--size` (made by `python -m benchmarks --size …`;
this command never generates data). Each hot read is called `--warmup` times, then
`--iterations` times; it prints wall and CPU milliseconds per request. Without gunicorn,
the socket and the client sharing the 2 cores, the CPU column is what the request itself
costs, and it moves far less between runs than the HTTP figures. `--profile NAME` then
runs that read under cProfile and prints the functions by cumulative time. Not part of
the test suite; it writes no file.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.scenarios import BASE, CUSTOMER
from benchmarks.server import READ, READ_OWN, ROOT, TENANT, database_url
from benchmarks.sizes import SIZES

# name → (path, query string, whose token: "read" or "own")
READS: dict[str, tuple[str, str, str]] = {
    "healthz": ("/healthz", "", "read"),
    "get": (f"{BASE}/segments/seg000070", "", "read"),
    "customer_id": (f"{BASE}/segments", f"customerId={CUSTOMER}", "read"),
    "customer_token": (f"{BASE}/segments", "", "own"),
    "me": (f"{BASE}/segments/me", "", "own"),
    "items": (f"{BASE}/segments/items", "", "own"),
    "category_trees": (f"{BASE}/segments/items/category-trees", "", "own"),
}


def _setup(size: str) -> Callable[..., Any]:
    os.environ.update(
        DATABASE_URL=database_url(size),
        DEBUG="false",
        LOG_LEVEL="WARNING",
        SECURE_SSL_REDIRECT="false",
        DJANGO_SETTINGS_MODULE="segmentservice.settings",
    )
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _token(*args: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("issue_token", f"--tenant={TENANT}", "--ttl=86400", *args, stdout=out)
    return out.getvalue().strip()


def _caller(app: Callable[..., Any], path: str, query: str, token: str) -> Callable[[], str]:
    def call() -> str:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_ACCEPT": "application/json",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []
        b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
        return status[0]

    return call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inprocess", description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="large")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--only", help="Comma-separated read names (default: all).")
    parser.add_argument("--profile", choices=list(READS), help="Profile this read afterwards.")
    args = parser.parse_args(argv)
    app = _setup(args.size)
    tokens = {
        "read": _token(f"--scopes={READ}"),
        "own": _token(f"--scopes={READ_OWN}", f"--customer={CUSTOMER}"),
    }
    names = args.only.split(",") if args.only else list(READS)
    for name in names:
        path, query, whose = READS[name]
        call = _caller(app, path, query, tokens[whose])
        status = call()
        if not status.startswith("200"):
            raise SystemExit(f"{name}: {status}, not 200")
        for _ in range(args.warmup):
            call()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.iterations):
            call()
        wall_ms = (time.perf_counter() - wall) / args.iterations * 1000
        cpu_ms = (time.process_time() - cpu) / args.iterations * 1000
        print(f"{name:15s} wall {wall_ms:7.3f} ms  CPU {cpu_ms:7.3f} ms")
    if args.profile:
        path, query, whose = READS[args.profile]
        call = _caller(app, path, query, tokens[whose])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.iterations):
            call()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

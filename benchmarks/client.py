"""A small HTTP client over loopback, timing loops and percentiles."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request of a hot path."""

    method: str
    path: str
    token: str
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Reply:
    """What came back."""

    status: int
    queries: int | None
    body: bytes
    seconds: float
    cpu_ms: float | None = None
    etag: str | None = None


def send(port: int, call: Call, *, capture: str | None = None) -> Reply:
    """Send one request on a fresh connection (gunicorn's sync workers do not keep alive)."""
    headers = {"Authorization": f"Bearer {call.token}", "Accept": "application/json"}
    headers.update(dict(call.headers))
    payload = None
    if call.body is not None:
        payload = json.dumps(call.body).encode()
        headers["Content-Type"] = "application/json"
    if capture:
        headers["X-Bench-Capture"] = capture
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(call.method, call.path, body=payload, headers=headers)
        response = conn.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        queries = response.getheader("X-DB-Queries")
        cpu = response.getheader("X-Worker-CPU-Ms")
        return Reply(
            response.status,
            int(queries) if queries else None,
            body,
            seconds,
            float(cpu) if cpu else None,
            response.getheader("ETag"),
        )
    finally:
        conn.close()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def latencies(
    port: int, call: Call, *, iterations: int, expect: int
) -> tuple[list[float], set, list[float]]:
    """Send `call` `iterations` times one after another.

    Returns the seconds of each, the query counts seen and the worker CPU ms of each.
    """
    seconds, queries, cpu = [], set(), []
    for _ in range(iterations):
        reply = send(port, call)
        if reply.status != expect:
            raise RuntimeError(
                f"{call.method} {call.path}: {reply.status}, expected {expect}: {reply.body[:300]!r}"
            )
        seconds.append(reply.seconds)
        queries.add(reply.queries)
        if reply.cpu_ms is not None:
            cpu.append(reply.cpu_ms)
    return seconds, queries, cpu


def concurrent_latencies(
    port: int, call: Call, *, requests: int, threads: int, expect: int
) -> tuple[list[float], float]:
    """`requests` requests from `threads` clients at once: the seconds of each and req/s."""
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        replies = list(pool.map(lambda _: send(port, call), range(requests)))
    elapsed = time.perf_counter() - started
    statuses = {reply.status for reply in replies}
    if statuses != {expect}:
        raise RuntimeError(f"{call.method} {call.path}: statuses {sorted(statuses)}")
    return [reply.seconds for reply in replies], requests / elapsed


def throughput(port: int, call: Call, *, requests: int, threads: int) -> float:
    """Requests per second with `threads` clients sending `requests` requests in all."""
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(lambda _: send(port, call).status, range(requests)))
    elapsed = time.perf_counter() - started
    if len(set(statuses)) != 1:
        raise RuntimeError(f"{call.method} {call.path}: mixed statuses {sorted(set(statuses))}")
    return requests / elapsed

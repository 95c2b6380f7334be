"""`python -m benchmarks --size small|large|xlarge|both [--reuse]`: measure, then write the report
(`both`: small and large)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.client import concurrent_latencies, latencies, percentile, send, throughput
from benchmarks.floor import floor_connect, floor_measure
from benchmarks.fresh import FRESH, fresh_tenant_load
from benchmarks.report import report_write
from benchmarks.scenarios import page_size_probe, scenarios_build
from benchmarks.server import ROOT, database_prepare, database_url, memory_kib, server_start
from benchmarks.sizes import SIZES, assignments

OUT = ROOT / "docs" / "benchmarks"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", choices=[*SIZES, "both"], default="small")
    parser.add_argument(
        "--reuse", action="store_true", help="Keep an existing bench_<size> database and its data."
    )
    parser.add_argument("--iterations", type=int, default=200, help="Sequential reads per path.")
    parser.add_argument("--write-iterations", type=int, default=40, help="Sequential bulk calls.")
    parser.add_argument(
        "--threads",
        type=int,
        default=8,
        help="Concurrent clients for the second set of percentiles and req/s.",
    )
    parser.add_argument(
        "--no-fresh",
        dest="fresh",
        action="store_false",
        help="Skip the reads on a tenant loaded through the bulk API a moment before.",
    )
    parser.add_argument("--memory-requests", type=int, default=1000, help="Bulk calls for RSS.")
    parser.add_argument("--only", help="Comma-separated scenario names (default: all).")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report-only", action="store_true", help="Rewrite the report only.")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        for size in ["small", "large"] if args.size == "both" else [args.size]:
            result = run(size, args)
            previous = _load(args.out / f"results-{size}.json")
            if args.only and previous:
                # A partial run replaces only the paths it measured.
                merged = {s["name"]: s for s in previous["scenarios"]}
                merged.update({s["name"]: s for s in result["scenarios"]})
                previous.update({k: v for k, v in result.items() if k != "scenarios"})
                previous["scenarios"] = list(merged.values())
                result = previous
            result["command"] = " ".join(["python -m benchmarks", *(argv or sys.argv[1:])])
            (args.out / f"results-{size}.json").write_text(json.dumps(result, indent=2) + "\n")
    command = " ".join(["python -m benchmarks", *(argv or sys.argv[1:])])
    if args.report_only:
        # Name the command that measured, not the one that only rewrote the report.
        measured = [_load(args.out / f"results-{size}.json") for size in SIZES]
        command = next((r["command"] for r in measured if r and r.get("command")), command)
    report_write(args.out, command=command)
    print(f"Wrote {args.out / 'results.md'} and {args.out / 'latency.png'}", file=sys.stderr)
    return 0


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(size: str, args: argparse.Namespace) -> dict:
    """Prepare the data, start the server, measure every hot path; the result as a dict."""
    _log(f"{size}: preparing bench_{size} ({assignments(size):,} assignments)")
    generated = database_prepare(size, reuse=args.reuse)
    if generated is not None:
        _log(f"{size}: generated in {generated:.1f} s")
    floor_conn = floor_connect(database_url(size))
    scenarios = scenarios_build(size, floor_conn)
    if args.only:
        wanted = set(args.only.split(","))
        scenarios = [s for s in scenarios if s.name in wanted]
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as capture:
        server = server_start(size, capture_dir=Path(capture))
        try:
            load_before = os.getloadavg()
            fresh = None
            results = []
            if args.fresh:
                # Loaded now and read at once, before anything else: never analyzed.
                fresh = fresh_tenant_load(size, server.port, floor_conn)
                fresh_scenarios = scenarios_build(size, floor_conn, tenant=FRESH)
                if args.only:
                    fresh_scenarios = [
                        s for s in fresh_scenarios if s.name.split("--")[0] in wanted
                    ]
                results += [_scenario(server, floor_conn, s, args) for s in fresh_scenarios]
                fresh["statistics"] = _statistics(floor_conn)
            results += [_scenario(server, floor_conn, s, args) for s in scenarios]
            measured = {r["name"] for r in results if "unavailable" not in r}
            scenarios = [s for s in scenarios if s.name in measured]
            probe = [send(server.port, call).queries for call in page_size_probe(scenarios)]
            memory = _memory(server, scenarios, args) if args.memory_requests else None
        finally:
            server.stop()
    floor_conn.close()
    return {
        "size": size,
        "assignments": assignments(size),
        "sizes": SIZES[size],
        "generated_seconds": generated,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "scenarios": results,
        "list_queries_by_page_size": dict(zip(("10", "500"), probe, strict=False)) or None,
        "memory": memory,
        "fresh": fresh,
        "clients": args.threads,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }


def _statistics(conn) -> dict:
    """When each assignment table was last analyzed, and rows changed since: shows the
    fresh tenant's reads ran on statistics that had never seen its rows."""
    rows = conn.execute(
        "SELECT relname, n_mod_since_analyze, "
        "greatest(last_analyze, last_autoanalyze)::text FROM pg_stat_user_tables "
        "WHERE relname IN ('segments_segment', 'segments_customerassignment', "
        "'segments_itemassignment') ORDER BY relname"
    ).fetchall()
    return {name: {"changed_since_analyze": n, "analyzed_at": at} for name, n, at in rows}


def _scenario(server, floor_conn, scenario, args) -> dict:
    call, port = scenario.call, server.port
    iterations = args.write_iterations if scenario.write else args.iterations
    if scenario.revalidate:  # the storefront holds the ETag of its last answer
        call = replace(call, headers=(("If-None-Match", send(port, call).etag or '"none"'),))
    _log(f"{scenario.name}: warm-up")
    for _ in range(10):
        reply = send(port, call)
    if reply.status != scenario.expect:
        # Not built yet, or broken: say so in the report and go on with the others.
        _log(f"{scenario.name}: SKIPPED, answered {reply.status}: {reply.body[:300]!r}")
        return {
            "name": scenario.name,
            "label": scenario.label,
            "unavailable": f"answered {reply.status}, expected {scenario.expect}",
        }
    captured = send(port, call, capture=scenario.name)
    if captured.status != scenario.expect:
        raise RuntimeError(f"{scenario.name}: capture got {captured.status}")
    statements = json.loads((server.capture_dir / f"{scenario.name}.json").read_text())
    _log(f"{scenario.name}: {iterations} sequential requests")
    seconds, queries, cpu = latencies(port, call, iterations=iterations, expect=scenario.expect)
    _log(f"{scenario.name}: {iterations * 2} requests from {args.threads} clients at once")
    together, rps = concurrent_latencies(
        port, call, requests=iterations * 2, threads=args.threads, expect=scenario.expect
    )
    floor = floor_measure(floor_conn, statements, iterations=iterations, write=scenario.write)
    p50, p95 = percentile(seconds, 50), percentile(seconds, 95)
    result = {
        "name": scenario.name,
        "label": scenario.label,
        "iterations": iterations,
        "p50_ms": p50 * 1000,
        "p95_ms": p95 * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "concurrent": {
            "clients": args.threads,
            "p50_ms": percentile(together, 50) * 1000,
            "p95_ms": percentile(together, 95) * 1000,
            "p99_ms": percentile(together, 99) * 1000,
        },
        "rps": rps,
        "server_cpu_ms": percentile(cpu, 50) if cpu else None,
        "queries": sorted(q for q in queries if q is not None),
        "floor_p50_ms": floor["p50"] * 1000,
        "floor_p95_ms": floor["p95"] * 1000,
        "ratio_to_floor": p50 / floor["p50"] if floor["p50"] else None,
        "response_bytes": len(reply.body),
        # Kept for the report; a bulk statement carries its 200 rows, so only its start.
        "statements": [sql if len(sql) <= 1500 else sql[:1500] + " …" for sql in statements],
    }
    _log(
        f"{scenario.name}: p50 {result['p50_ms']:.2f} ms, p95 {result['p95_ms']:.2f} ms, "
        f"{rps:.0f} req/s, queries {result['queries']}, worker CPU {result['server_cpu_ms']:.2f} ms, "
        f"floor {result['floor_p50_ms']:.2f} ms"
    )
    return result


def _memory(server, scenarios, args) -> dict | None:
    """Peak RSS of each worker after 100 and after all of `--memory-requests` bulk calls."""
    bulk = next((s for s in scenarios if s.name == "bulk_segments"), None)
    if bulk is None:
        return None
    pids = server.worker_pids()
    first = min(100, args.memory_requests)
    _log(f"memory: {args.memory_requests} bulk upserts of 200 segments")
    throughput(server.port, bulk.call, requests=first, threads=2)
    early = {pid: memory_kib(pid) for pid in pids}
    throughput(server.port, bulk.call, requests=args.memory_requests - first, threads=2)
    late = {pid: memory_kib(pid) for pid in pids}
    return {
        "requests": args.memory_requests,
        "workers": [
            {
                "pid": pid,
                "hwm_kib_after_100": early[pid]["VmHWM"],
                "hwm_kib_after_all": late[pid]["VmHWM"],
                "rss_kib_after_all": late[pid]["VmRSS"],
            }
            for pid in pids
        ],
    }


if __name__ == "__main__":
    sys.exit(main())

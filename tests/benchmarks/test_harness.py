"""Smoke tests of the benchmark harness pieces; the benchmarks themselves are not tests."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client, override_settings

from benchmarks.client import percentile
from benchmarks.report import report_write
from benchmarks.sizes import SIZES, assignments

STATS = "segmentservice.dbstats.QueryStatsMiddleware"


def test_percentile_interpolates_between_ranks():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert percentile([7.0], 95) == 7.0


def test_the_two_sizes_are_ten_thousand_and_a_million_assignments():
    assert assignments("small") == 10_000
    assert assignments("large") == 1_000_000
    # Same per-request work at both sizes: the ratios match.
    for many, per in [("customer-assignments", "customers"), ("item-assignments", "segments")]:
        assert len({SIZES[s][many] // SIZES[s][per] for s in SIZES}) == 1


@pytest.mark.django_db
def test_query_stats_middleware_counts_and_captures_statements(tmp_path):
    with override_settings(
        MIDDLEWARE=[STATS, *settings.MIDDLEWARE], DB_QUERY_CAPTURE_DIR=str(tmp_path)
    ):
        plain = Client().get("/healthz")
        captured = Client().get("/healthz", HTTP_X_BENCH_CAPTURE="health")

    assert plain.status_code == 200
    assert int(plain["X-DB-Queries"]) >= 1
    assert float(plain["X-Worker-CPU-Ms"]) > 0
    statements = json.loads((tmp_path / "health.json").read_text())
    assert len(statements) == int(captured["X-DB-Queries"])
    assert all("SELECT" in s.upper() for s in statements)


@pytest.mark.django_db
def test_query_stats_are_off_by_default():
    assert STATS not in settings.MIDDLEWARE
    assert "X-DB-Queries" not in Client().get("/healthz")


def _result(size: str, p50: float, floor: float) -> dict:
    return {
        "size": size,
        "assignments": assignments(size),
        "sizes": SIZES[size],
        "generated_seconds": 45.0,
        "measured_at": "2024-01-01 00:00:00",
        "machine": "2 cores",
        "scenarios": [
            {
                "name": "get_segment",
                "label": "get one segment",
                "p50_ms": p50,
                "p95_ms": p50 * 1.5,
                "rps": 400.0,
                "server_cpu_ms": 1.5,
                "queries": [2],
                "floor_p50_ms": floor,
                "floor_p95_ms": floor,
                "ratio_to_floor": p50 / floor,
                "statements": ["SELECT 1", "SELECT 2"],
            }
        ],
        "list_queries_by_page_size": {"10": 2, "500": 2},
        "memory": {
            "requests": 1000,
            "workers": [
                {
                    "pid": 1,
                    "hwm_kib_after_100": 80_000,
                    "hwm_kib_after_all": 81_024,
                    "rss_kib_after_all": 1,
                }
            ],
        },
    }


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyparsing, inside matplotlib
def test_report_writes_tables_growth_and_chart(tmp_path):
    (tmp_path / "results-small.json").write_text(json.dumps(_result("small", 2.0, 1.0)))
    (tmp_path / "results-large.json").write_text(json.dumps(_result("large", 2.4, 0.8)))

    report_write(tmp_path, command="python -m benchmarks --size both")

    text = (tmp_path / "results.md").read_text()
    assert "`python -m benchmarks --size both`" in text
    assert "| get one segment | 2.00 | 3.00 | 400 | 2 | 1.50 | 1.00 | 2.00 | yes |" in text
    assert "| get one segment | 2.40 | 3.60 | 400 | 2 | 1.50 | 0.80 | 3.00 | **no** |" in text
    assert "| get one segment | 2.00 | 2.40 | 1.20 | yes | [2] / [2] | ? / ? |" in text
    assert "| 1 | 78.1 MiB | 79.1 MiB | +1.0 MiB |" in text
    assert (tmp_path / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

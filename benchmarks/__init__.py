"""HTTP benchmarks of the hot paths against the real server (gunicorn, PostgreSQL).

    python -m benchmarks --size small          # about 10,000 assignments
    python -m benchmarks --size large --reuse  # about 1,000,000; keeps the generated database
    python -m benchmarks --size xlarge --reuse --no-fresh  # 10,000,000 (generated in ~12 min)

Each run starts gunicorn (2 workers) on a free loopback port against a PostgreSQL database
it creates and fills with `generate_data` (`bench_small`, `bench_large`, `bench_xlarge`), measures every
hot path over HTTP, replays the same SQL straight through psycopg for the floor, and
writes `docs/benchmarks/results.md` and `docs/benchmarks/latency.png`.
Not part of the test suite.
"""

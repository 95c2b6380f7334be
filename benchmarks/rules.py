"""Rules benchmark (SPEC §12), in process on PostgreSQL; not part of the test suite.

    python -m benchmarks.rules --customers 100000 --customers 1000000 --rules 1000

For each size it makes a database `bench_rules_<n>` (BENCH_PG names the server,
BENCH_DB_PREFIX replaces `bench_rules_`), fills a
tenant with `n` customers straight in SQL (a quarter "gold", half of them in one of 1,000
legal entities), then measures through the services the API calls:

- the full evaluation of one rule (`rule_upsert`: the PUT of a new rule), and of a changed
  rule over the same customers (adds and removes);
- the preview of a rule (`rule_preview`, what `POST .../rule/preview` runs);
- one directory change of one customer (`directory_import` of one record) with no rule,
  then with `--rules` enabled rules in the tenant: the difference is what the rules add;
- an import of `--import-customers` new customers (`directory_import`, what
  `manage.py import_directory` runs) with no rule enabled, then of as many other new
  customers with `--import-rules` rules enabled: the ratio is what the rules cost an import.

The databases are dropped at the end (`--keep` keeps them).

Writes `docs/benchmarks/rules.md` with the figures and the command.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# The benchmark databases' names: `<prefix><customers>`.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "bench_rules_")


def _log(message: str) -> None:
    print(f"[bench rules] {message}", file=sys.stderr, flush=True)


def _prepare_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _fill(tenant, customers: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO segments_legalentity (tenant_id, external_id, name) "
            "SELECT %s, 'le' || g, 'Company ' || g FROM generate_series(1, 1000) g",
            [tenant.pk],
        )
        cursor.execute(
            "INSERT INTO segments_customer "
            "(tenant_id, external_id, first_name, last_name, email, attributes) "
            "SELECT %s, 'c' || g, 'First' || g, 'Last' || g, 'c' || g || '@example.com', "
            "jsonb_build_object('tier', (ARRAY['gold','silver','bronze','none'])[1 + g %% 4], "
            "'orders', g %% 50, 'address', jsonb_build_object('city', "
            "(ARRAY['Berlin','Paris','Rome'])[1 + g %% 3])) "
            "FROM generate_series(1, %s) g",
            [tenant.pk, customers],
        )
        # The legal entities were made in order: le<n> is the n-th id (an array read once,
        # where a join on the made-up external id was planned as a nested loop: minutes).
        cursor.execute(
            "INSERT INTO segments_customerlegalentity (tenant_id, customer_id, legal_entity_id) "
            "SELECT %s, c.id, (SELECT array_agg(le.id ORDER BY le.id) "
            "FROM segments_legalentity le WHERE le.tenant_id = %s)[1 + c.id %% 1000] "
            "FROM segments_customer c WHERE c.tenant_id = %s AND c.id %% 2 = 0",
            [tenant.pk, tenant.pk, tenant.pk],
        )
        cursor.execute("ANALYZE")


def _timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _import_records(prefix: str, count: int):
    from segments.services.directory.records import DirectoryRecord

    tiers = ("gold", "silver", "bronze", "none")
    for g in range(1, count + 1):
        record = {
            "id": f"{prefix}{g}",
            "firstName": f"First{g}",
            "lastName": f"Last{g}",
            "email": f"{prefix}{g}@example.com",
            "attributes": {"tier": tiers[g % 4], "orders": g % 50},
        }
        if g % 2 == 0:
            record["legalEntities"] = [f"le{1 + g % 1000}"]
        yield DirectoryRecord("customers", f"line {g}", record)


def measure(customers: int, rules: int, import_customers: int, import_rules: int) -> dict:
    """All figures for one size, in seconds."""
    name = f"{DB_PREFIX}{customers}"
    _prepare_database(name)
    os.environ["DATABASE_URL"] = f"{PG}/{name}"
    # Filling a million rows is one statement: the service's 30 s guard is not for it.
    os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segmentservice.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections, transaction

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)

    from segments.models import Customer, CustomerAssignment, Segment, SegmentRule
    from segments.selectors.rules import rule_compile, rule_preview
    from segments.services.directory.records import DirectoryRecord
    from segments.services.directory.writer import directory_import
    from segments.services.rules import RuleInput, rule_upsert
    from tenants.services import tenant_create

    tenant = tenant_create(name="bench", default_language="en", languages=["en"])
    _log(f"{customers:,} customers: filling")
    _fill(tenant, customers)
    Segment.objects.create(tenant=tenant, external_id="gold", name={"en": "Gold"}, site_code="m")
    figures: dict = {"customers": customers}

    first = RuleInput(q="attributes.tier:gold attributes.orders:>10", assign="B2C", enabled=True)
    _log("full evaluation of a new rule")
    seconds, outcome = _timed(lambda: rule_upsert(tenant=tenant, segment_id="gold", data=first))
    figures["evaluate_new"] = (seconds, outcome[2])
    changed = RuleInput(
        q="attributes.tier:gold attributes.orders:>20 attributes.address.city:Berlin",
        assign="B2C",
        enabled=True,
    )
    _log("full evaluation of a changed rule")
    seconds, outcome = _timed(lambda: rule_upsert(tenant=tenant, segment_id="gold", data=changed))
    figures["evaluate_changed"] = (seconds, outcome[2])

    _log("preview")
    compiled = rule_compile(
        q="attributes.tier:(gold, silver) legalEntities.id:exists",
        assign="B2C",
        default_language="en",
    )
    segment = Segment.objects.get(tenant=tenant, external_id="gold")

    def preview():
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
            return rule_preview(tenant=tenant, segment_pk=segment.pk, rule=compiled)

    seconds, body = _timed(preview, repeat=3)
    figures["preview"] = (seconds, body["count"], body["added"]["count"], body["removed"]["count"])

    customer = Customer.objects.get(tenant=tenant, external_id="c8")
    flip = iter(range(10_000))

    def one_change():
        tier = "gold" if next(flip) % 2 else "silver"
        record = DirectoryRecord(
            "customers", "line 1", {"id": customer.external_id, "attributes": {"tier": tier}}
        )
        directory_import(tenant=tenant, records=[record])

    SegmentRule.objects.filter(tenant=tenant).update(enabled=False)
    base, _ = _timed(one_change, repeat=21)
    _log(f"creating {rules} rules")
    segments = Segment.objects.bulk_create(
        [
            Segment(tenant=tenant, external_id=f"r{n}", name={"en": f"R{n}"}, site_code="m")
            for n in range(rules)
        ]
    )
    SegmentRule.objects.bulk_create(
        [
            SegmentRule(
                tenant=tenant,
                segment=s,
                # Each text its own (a path no customer has), as each rule's SQL is kept.
                q=f"attributes.tier:gold attributes.orders:>{n % 50} attributes.x{n}:missing",
                assign="B2C",
            )
            for n, s in enumerate(segments)
        ]
    )
    cold, _ = _timed(one_change)  # the rules' SQL compiled and kept
    with_rules, _ = _timed(one_change, repeat=5)
    figures["one_change"] = (base, with_rules, rules, cold)

    if import_customers:
        SegmentRule.objects.filter(tenant=tenant).update(enabled=False)
        _log(f"import of {import_customers:,} customers, no rule enabled")
        plain, _ = _timed(
            lambda: directory_import(tenant=tenant, records=_import_records("a", import_customers))
        )
        figures["import"] = {"customers": import_customers, "plain": plain, "rules": import_rules}
        # Broad rules: each matches an eighth of the customers on average, so each imported
        # customer gets about a dozen assignments (and their events) from the rules.
        broad = SegmentRule.objects.filter(tenant=tenant, segment__external_id__startswith="r")
        broad = broad.order_by("segment__external_id")[:import_rules]
        # Narrow rules: each matches one customer in 100 (a tier and an exact order count).
        tiers = ("gold", "silver", "bronze", "none")
        narrow = Segment.objects.bulk_create(
            [
                Segment(tenant=tenant, external_id=f"n{n}", name={"en": f"N{n}"}, site_code="m")
                for n in range(import_rules)
            ]
        )
        narrow_rules = SegmentRule.objects.bulk_create(
            [
                SegmentRule(
                    tenant=tenant,
                    segment=s,
                    q=f"attributes.tier:{tiers[n % 4]} attributes.orders:{(n * 7) % 50}",
                    assign="B2C",
                    enabled=False,
                )
                for n, s in enumerate(narrow)
            ]
        )
        for label, prefix, chosen in (
            ("narrow", "d", [rule.pk for rule in narrow_rules]),
            ("broad", "b", [rule.pk for rule in broad]),
        ):
            SegmentRule.objects.filter(tenant=tenant).update(enabled=False)
            SegmentRule.objects.filter(pk__in=chosen).update(enabled=True)
            _log(f"import of {import_customers:,} customers, {import_rules} {label} rules")
            seconds, _ = _timed(
                lambda prefix=prefix: directory_import(
                    tenant=tenant, records=_import_records(prefix, import_customers)
                )
            )
            added = CustomerAssignment.objects.filter(
                tenant=tenant, customer__external_id__startswith=prefix
            ).count()
            figures["import"][label] = (seconds, added)
    connections.close_all()
    return figures


def report(results: list[dict], command: str) -> str:
    lines = [
        "# Rules benchmark (SPEC §12)",
        "",
        "In process through the services the API calls, on PostgreSQL, on the project's",
        "2-core machine; median of the repeats where there are repeats. Not a timed test.",
        "",
        f"Command: `{command}`",
        "",
        "| customers | what | seconds | changes |",
        "|---:|---|---:|---|",
    ]
    for r in results:
        n = f"{r['customers']:,}"
        s, ev = r["evaluate_new"]
        lines.append(f"| {n} | full evaluation, new rule | {s:.3f} | +{ev.added} -{ev.removed} |")
        s, ev = r["evaluate_changed"]
        lines.append(
            f"| {n} | full evaluation, changed rule | {s:.3f} | +{ev.added} -{ev.removed} |"
        )
        s, count, added, removed = r["preview"]
        lines.append(
            f"| {n} | preview (count {count:,}, +{added:,} -{removed:,}) | {s:.3f} | none |"
        )
        base, with_rules, rules, cold = r["one_change"]
        lines.append(
            f"| {n} | one customer changed by import, no rules → {rules} rules | "
            f"{base * 1000:.1f} ms → {with_rules * 1000:.1f} ms "
            f"(+{(with_rules - base) * 1000:.1f} ms; first change {cold * 1000:.0f} ms) | |"
        )
        if "import" in r:
            imp = r["import"]
            for label in ("narrow", "broad"):
                seconds, added = imp[label]
                lines.append(
                    f"| {n} | import of {imp['customers']:,} new customers, no rule → "
                    f"{imp['rules']} {label} rules | {imp['plain']:.1f} → {seconds:.1f} "
                    f"({seconds / imp['plain']:.2f} times) | +{added:,} assignments |"
                )
    lines += [
        "",
        "Targets (issue 12): 1M < 10 s, 100k < 1.5 s for a full evaluation; one change",
        "against 1,000 rules < 50 ms added; preview of 1M < 3 s; an import of 100,000",
        "customers with 100 rules within twice the same import without rules.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rules", description=__doc__)
    parser.add_argument("--customers", type=int, action="append", help="Repeatable.")
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--import-customers", type=int, default=100_000, help="0 skips it.")
    parser.add_argument("--import-rules", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark databases.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "rules.md")
    args = parser.parse_args(argv)
    sizes = args.customers or [100_000]
    results = []
    for size in sizes:
        try:
            results.append(measure(size, args.rules, args.import_customers, args.import_rules))
        finally:
            if not args.keep:
                _drop_database(f"{DB_PREFIX}{size}")
    command = " ".join(["python -m benchmarks.rules", *(argv or sys.argv[1:])])
    args.out.write_text(report(results, command))
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

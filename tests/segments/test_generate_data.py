"""`manage.py generate_data`: realistic shapes, deterministic ids, on SQLite and PostgreSQL."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from segments.choices import ItemType
from segments.devdata.generate import GenerateSizes, data_generate
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    CustomerLegalEntity,
    ItemAssignment,
    Product,
    ProductCategory,
    Segment,
)

SMALL = [
    "--segments=30",
    "--customers=50",
    "--customer-assignments=200",
    "--products=80",
    "--categories=60",
    "--item-assignments=300",
    "--no-progress",
]


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_data", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def depth(category: Category, parents: dict[int, int | None]) -> int:
    level, node = 1, category.id
    while parents[node] is not None:
        node, level = parents[node], level + 1
    return level


@pytest.mark.django_db
def test_generates_the_requested_counts_and_creates_the_tenant():
    out = generate("--tenant=gen", *SMALL)

    assert "Generated for gen" in out
    assert Segment.objects.filter(tenant="gen").count() == 30
    assert Customer.objects.filter(tenant="gen").count() == 50
    assert CustomerAssignment.objects.filter(tenant="gen").count() == 200
    assert Product.objects.filter(tenant="gen").count() == 80
    assert Category.objects.filter(tenant="gen").count() == 60
    assert ItemAssignment.objects.filter(tenant="gen").count() == 300


@pytest.mark.django_db
def test_the_category_tree_is_five_levels_deep_and_products_sit_in_leaves():
    generate("--tenant=gen", *SMALL)

    categories = list(Category.objects.filter(tenant="gen"))
    parents = {c.id: c.parent_id for c in categories}
    depths = {depth(c, parents) for c in categories}
    assert depths == {1, 2, 3, 4, 5}
    leaves = {c.id for c in categories if depth(c, parents) == 5}
    placed = ProductCategory.objects.filter(tenant="gen").values_list("product", "category")
    assert {p for p, c in placed if c in leaves} == set(
        Product.objects.filter(tenant="gen").values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_customers_sit_in_several_segments_and_b2b_customers_act_for_legal_entities():
    generate("--tenant=gen", *SMALL)

    per_customer = (
        CustomerAssignment.objects.filter(tenant="gen")
        .values("customer")
        .annotate(n=Count("segment", distinct=True))
    )
    assert min(row["n"] for row in per_customer) == 4
    b2b = CustomerAssignment.objects.filter(tenant="gen", legal_entity__isnull=False)
    assert b2b.exists()
    members = set(
        CustomerLegalEntity.objects.filter(tenant="gen").values_list("customer", "legal_entity")
    )
    assert set(b2b.values_list("customer", "legal_entity")) <= members


@pytest.mark.django_db
def test_segments_have_localized_names_mixins_and_both_item_types():
    generate("--tenant=gen", *SMALL)

    segment = Segment.objects.get(tenant="gen", external_id="seg000001")
    assert segment.name == {"en": "Silver customers 1", "de": "Silber-Kunden 1"}
    assert segment.mixins["segmentAttributes"]["membershipStatus"] == "SILVER"
    assert Segment.objects.filter(tenant="gen", valid_to__isnull=False).exists()
    types = set(ItemAssignment.objects.filter(tenant="gen").values_list("type", flat=True))
    assert types == {ItemType.PRODUCT, ItemType.CATEGORY}
    # Category assignments stay below the top two levels, so a subtree is a page's worth.
    categories = list(Category.objects.filter(tenant="gen"))
    parents = {c.id: c.parent_id for c in categories}
    assigned = ItemAssignment.objects.filter(tenant="gen", type=ItemType.CATEGORY)
    assert {depth(a.category, parents) for a in assigned.select_related("category")} <= {3, 4, 5}


@pytest.mark.django_db
def test_ids_are_deterministic_and_a_second_run_needs_replace():
    generate("--tenant=gen", *SMALL)
    first = sorted(
        CustomerAssignment.objects.filter(tenant="gen").values_list(
            "segment__external_id", "customer__external_id", "legal_entity__external_id"
        )
    )

    with pytest.raises(CommandError, match="already has data"):
        generate("--tenant=gen", *SMALL)
    generate("--tenant=gen", "--replace", *SMALL)

    again = sorted(
        CustomerAssignment.objects.filter(tenant="gen").values_list(
            "segment__external_id", "customer__external_id", "legal_entity__external_id"
        )
    )
    assert again == first
    # New rows get ids past the generated ones.
    assert Segment.objects.create(tenant_id="gen", external_id="new", site_code="main").id > max(
        Segment.objects.filter(tenant="gen").exclude(external_id="new").values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_sizes_that_cannot_make_the_shapes_are_refused():
    with pytest.raises(CommandError, match="categories must be at least 5"):
        generate("--tenant=gen", "--categories=3", "--no-progress")
    with pytest.raises(CommandError, match="more customer assignments"):
        generate(
            "--tenant=gen",
            "--segments=2",
            "--customers=2",
            "--customer-assignments=5",
            "--no-progress",
        )


@pytest.mark.django_db
def test_progress_reaches_the_callback_table_by_table(tenant):
    calls: list[tuple[str, int, int]] = []

    report = data_generate(
        tenant=tenant,
        sizes=GenerateSizes(
            segments=30,
            customers=50,
            customer_assignments=200,
            products=80,
            categories=60,
            item_assignments=300,
        ),
        progress=lambda table, rows, total: calls.append((table, rows, total)),
    )

    written: dict[str, int] = {}
    for table, rows, _total in calls:
        written[table] = written.get(table, 0) + rows
    assert written == {table: n for table, n in report.counts.items() if n}
    assert all(rows > 0 for _table, rows, _total in calls)


@pytest.mark.django_db
def test_the_command_draws_a_bar_per_table_on_stderr(capsys):
    call_command("generate_data", "--tenant=gen", *SMALL[:-1], stdout=StringIO())

    err = capsys.readouterr().err
    for table in ("segments", "customers", "products", "customer assignments"):
        assert f"{table}: 100%" in err, err


@pytest.mark.django_db
def test_its_load_runs_without_the_requests_statement_timeout(monkeypatch):
    """A COPY of millions of rows outlasts the statement timeout meant for requests."""
    if connection.vendor != "postgresql":
        pytest.skip("the statement timeout it lifts is PostgreSQL's")
    from segments.devdata import generate as module

    load, seen = module._load, []

    def load_and_look(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen.append(cursor.fetchone()[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(module, "_load", load_and_look)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '30s'")

    generate("--tenant=gen", *SMALL)

    assert seen and set(seen) == {"0"}  # SET LOCAL: for its own transaction only

"""Reads that take a tenant keep to it, whatever else they are given.

The first tests read the source: every ORM query in the selectors, the API views and the
filter sets starts from `.filter(tenant=...)` (or `tenant_id=`; `.none()` names a model
and reads nothing), and raw SQL lives only in the selectors listed in `RAW_SQL`, each
tested below with another tenant's rows in reach. A new query that does neither fails
here until it is scoped, or listed and tested.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

from segments.filtersets import ItemAssignmentFilterSet, SegmentFilterSet, SiteFilterSet
from segments.models import Category, ChangeCounter, Segment, SegmentRule
from segments.selectors.admin import category_ancestors
from segments.selectors.categories import category_trees
from segments.selectors.changes import tenant_version
from segments.selectors.item_assignments import item_assignment_list
from segments.selectors.match import matching_product_ids
from segments.selectors.rules import _rules_fingerprint, tenant_rules_kept
from segments.selectors.workspace import segment_history, segments_overlap
from tests.factories import (
    assign_category,
    assign_customer,
    assign_product,
    make_category,
    make_customer,
    make_product,
    make_segment,
)

SCANNED = ("segments/selectors", "segments/api", "segments/filtersets.py")
# `_ids` (a rule condition's ids) reads `Value.raw`, the text of a q value, not SQL;
# `preview` makes its transaction read-only; `_category_reasons` is match explain's
# category walk; `rule_preview` is a rule's matches, counted and sampled in one statement;
# `hash_join_plans` sets two planner settings for a block.
RAW_SQL = {
    "category_trees",
    "matching_product_ids",
    "category_ancestors",
    "segments_overlap",
    "tenant_version",
    "_category_reasons",
    "preview",
    "_ids",
    "history_groups",
    "rule_preview",
    "hash_join_plans",
    "_rules_fingerprint",
}
# Reads that serve the operator, not a tenant, and so read every tenant's rows on purpose.
ACROSS_TENANTS = {
    "segments/selectors/webhooks.py",  # the /metrics scrape: every tenant's endpoints' backlog
}


def scanned_modules():
    base = Path(settings.BASE_DIR)
    for entry in SCANNED:
        path = base / entry
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def enclosing_function(node, parent_of) -> ast.FunctionDef | None:
    while node in parent_of:
        node = parent_of[node]
        if isinstance(node, ast.FunctionDef):
            return node
    return None


def test_every_orm_query_starts_from_the_tenant():
    unscoped = []
    for module in scanned_modules():
        if str(module.relative_to(settings.BASE_DIR)) in ACROSS_TENANTS:
            continue
        tree = ast.parse(module.read_text())
        parent_of = parents(tree)
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager")
            ):
                continue
            method = parent_of.get(node)
            call = parent_of.get(method)
            nothing = isinstance(method, ast.Attribute) and method.attr == "none"
            scoped = (
                isinstance(method, ast.Attribute)
                and method.attr == "filter"
                and isinstance(call, ast.Call)
                and {k.arg for k in call.keywords} & {"tenant", "tenant_id"}
            )
            if not (scoped or nothing):
                unscoped.append(f"{module.relative_to(settings.BASE_DIR)}:{node.lineno}")
    assert unscoped == []


def test_raw_sql_is_only_in_the_listed_selectors():
    found = set()
    for module in scanned_modules():
        tree = ast.parse(module.read_text())
        parent_of = parents(tree)
        for node in ast.walk(tree):
            raw = isinstance(node, ast.Attribute) and node.attr in ("cursor", "raw", "extra")
            prepared = isinstance(node, ast.Name) and node.id == "prepared_cursor"
            if raw or prepared:
                function = enclosing_function(node, parent_of)
                assert function is not None, f"{module}:{node.lineno}"
                found.add(function.name)
    assert found == RAW_SQL


@pytest.fixture
def twins(tenant, other_tenant):
    """The same ids in both tenants: a segment "s" holding product "p" and category "c"."""
    rows = {}
    for t in (tenant, other_tenant):
        segment = make_segment(t, "s")
        root = make_category(t, "root", name={"en": t.name})
        category = make_category(t, "c", parent=root, name={"en": t.name})
        assign_category(segment, category)
        assign_product(segment, make_product(t, "p", categories=[category]))
        rows[t.name] = (segment, root, category)
    return rows


@pytest.mark.django_db
class TestSelectorsGivenAnotherTenantsRows:
    def test_category_trees(self, twins, tenant):
        trees = category_trees(tenant=tenant, segments=Segment.objects.all())
        assert [(n.category.external_id, n.category.name) for n in trees] == [
            ("root", {"en": "acme"})
        ]
        assert [n.category.name for n in trees[0].subcategories] == [{"en": "acme"}]

    def test_tenant_rules_kept(self, twins, tenant, other_tenant):
        for t, (segment, _, _) in twins.items():
            SegmentRule.objects.create(tenant_id=t, segment=segment, q="attributes.tier:gold")
        fingerprint = _rules_fingerprint(tenant)
        assert [rule.tenant_id for rule in tenant_rules_kept(tenant=tenant)] == ["acme"]
        SegmentRule.objects.filter(tenant=other_tenant).update(q="attributes.tier:silver")
        assert _rules_fingerprint(tenant) == fingerprint
        SegmentRule.objects.filter(tenant=tenant).update(enabled=False)
        assert _rules_fingerprint(tenant) is None

    def test_item_assignment_list(self, twins, tenant):
        rows = item_assignment_list(tenant=tenant, segments=Segment.objects.all())
        assert {row.tenant_id for row in rows} == {"acme"}
        assert rows.count() == 2

    def test_match(self, twins, tenant, other_tenant):
        Segment.objects.filter(tenant=tenant).update(site_code="acme-only")
        found = matching_product_ids(
            tenant=tenant, site_code="main", product_ids=["p"], segment_ids=["s"]
        )
        assert found == []

    def test_tenant_version(self, tenant, other_tenant):
        ChangeCounter.objects.update_or_create(tenant=other_tenant, defaults={"generation": 7})
        ChangeCounter.objects.update_or_create(tenant=tenant, defaults={"generation": 3})
        assert tenant_version(tenant=tenant) == "3.0"
        ChangeCounter.objects.filter(tenant=tenant).delete()
        assert tenant_version(tenant=tenant) == "0.0"

    def test_category_ancestors(self, twins):
        # A parent link into another tenant (bad data) ends the walk at the tenant's edge.
        _, acme_root, acme_category = twins["acme"]
        _, _, globex_category = twins["globex"]
        Category.objects.filter(pk=globex_category.pk).update(parent=acme_root)
        assert set(category_ancestors([globex_category.pk])) == {globex_category.pk}
        assert set(category_ancestors([acme_category.pk])) == {acme_category.pk, acme_root.pk}

    @pytest.mark.parametrize(
        ("filterset", "data"),
        [
            (SiteFilterSet, {"siteCode": "main"}),
            (SegmentFilterSet, {"customerId": "me"}),
            (ItemAssignmentFilterSet, {"siteCode": "main"}),
        ],
    )
    def test_filtersets_need_a_queryset(self, twins, tenant, filterset, data):
        # django-filter would read every tenant's rows from the model's manager.
        with pytest.raises(TypeError, match="queryset"):
            filterset.apply(data, None, tenant=tenant)

    def test_history_groups(self, twins, tenant, other_tenant):
        # Another tenant's events of a segment with the same id are not in the history.
        from segments.services.segments import SegmentFields, segment_upsert

        for t in (tenant, other_tenant):
            segment_upsert(
                tenant=t, segment_id="s", fields=SegmentFields(name={"en": "S"}, site_code="m")
            )
        segment_upsert(
            tenant=other_tenant,
            segment_id="s",
            fields=SegmentFields(name={"en": "T"}, site_code="m"),
        )
        history = segment_history(tenant=tenant, segment_id="s")
        assert history.count() == 1 and [g.count for g in history[0:10]] == [1]

    def test_segments_overlap(self, twins, tenant, other_tenant):
        # Another tenant's segments, even handed in, count none of their customers.
        theirs, _, _ = twins["globex"]
        also_theirs = make_segment(other_tenant, "s2")
        for segment in (theirs, also_theirs):
            assign_customer(segment, make_customer(other_tenant, f"in-{segment.pk}"))
        overlap = segments_overlap(tenant=tenant, segments=[theirs, also_theirs])
        assert (overlap.sizes, overlap.union) == ([0, 0], 0)

    def test_rule_preview(self, tenant, other_tenant):
        from segments.selectors.rules import rule_compile, rule_preview

        for t in (tenant, other_tenant):
            make_segment(t, "s")
            make_customer(t, "ada", attributes={"tier": "gold"})
        theirs = Segment.objects.get(tenant=other_tenant, external_id="s")
        assign_customer(theirs, make_customer(other_tenant, "bob"), assignment_type="AUTOMATIC")
        rule = rule_compile(q="attributes.tier:gold", assign="B2C", default_language="en")
        ours = Segment.objects.get(tenant=tenant, external_id="s")

        body = rule_preview(tenant=tenant, segment_pk=ours.pk, rule=rule)
        assert (body["count"], body["added"]["count"], body["removed"]["count"]) == (1, 1, 0)
        # Another tenant's segment, even handed in, shows none of its members.
        body = rule_preview(tenant=tenant, segment_pk=theirs.pk, rule=rule)
        assert (body["count"], body["added"]["count"], body["removed"]["count"]) == (1, 1, 0)

"""Rules (SPEC §12) on the read side: compiling a rule's `q`, its matches, preview, explain.

A rule's `q` is the list language (`segments.query`) over the customer. Each condition is
compiled by the same compiler through the allow-list of what it is about:

    id, email, firstName, lastName, attributes.<path>   the customer's own columns
    legalEntities.id, legalEntities.name                  one of its legal entities
    groups.id                                             its membership of a (CUSTOMER) group
    segments.id                                           its membership of another segment

A rule assigns `B2C` (its matches are customers) or `B2B` (its matches are the customer-
legal entity pairs whose customer matches and whose legal entity matches the
`legalEntities.*` conditions). Conditions on legal entities, groups and segments are `EXISTS`
subqueries, so two conditions on them are independent (`segments.id:a segments.id:b` is a
customer in both) and a customer is matched once. The matches are a queryset of
`(cid, leid)` (customer pk, legal entity pk or NULL): the evaluator (`services.rules`)
embeds its SQL in set-based statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, Exists, F, OuterRef, Q, QuerySet, Value

from segments.choices import AssignmentType, GroupUserType
from segments.exceptions import NotFound
from segments.models import (
    Customer,
    CustomerAssignment,
    CustomerLegalEntity,
    GroupAssignment,
    GroupMember,
    LegalEntity,
    RuleExclusion,
    Segment,
    SegmentRule,
)
from segments.query.ast import (
    Compare,
    Condition,
    In,
    IsNull,
    Missing,
    Query,
    QuerySyntaxError,
)
from segments.query.ast import (
    Exists as ExistsPredicate,
)
from segments.query.compiler import compile_query, query_limits
from segments.query.fields import (
    RULE_GROUP_FIELDS,
    RULE_LEGAL_ENTITY_FIELDS,
    RULE_SEGMENT_FIELDS,
    FieldMap,
    Text,
    resolve,
    rule_customer_fields,
)
from segments.query.parser import parse_query
from segments.selectors.membership import counting_group_assignments
from segmentservice.formats import format_instant, localize
from tenants.models import Tenant

CUSTOMER, LEGAL_ENTITY, GROUP, SEGMENT = "customer", "legalEntity", "group", "segment"
RELATIONS: dict[str, FieldMap] = {
    CUSTOMER: rule_customer_fields(),
    LEGAL_ENTITY: RULE_LEGAL_ENTITY_FIELDS,
    GROUP: RULE_GROUP_FIELDS,
    SEGMENT: RULE_SEGMENT_FIELDS,
}
# The relations whose conditions name ids of the tenant's records: equality and lists only.
# `segments.id` over a customer's group memberships (GroupMember → its group's assignments).
RULE_GROUP_SEGMENT_FIELDS: FieldMap = {
    "segments.id": Text("group__assignments__segment__external_id"),
}
ID_RELATIONS = {
    GROUP: "groups.id:vip or groups.id:(vip, staff)",
    SEGMENT: "segments.id:gold or segments.id:(gold, silver)",
}


@dataclass(frozen=True)
class RuleCondition:
    """One condition of a rule, with what it is about."""

    condition: Condition
    relation: str
    text: str  # the condition as written

    def segment_ids(self) -> tuple[str, ...]:
        """The segments a `segments.id` condition names."""
        return self._ids() if self.relation == SEGMENT else ()

    def group_ids(self) -> tuple[str, ...]:
        """The groups a `groups.id` condition names."""
        return self._ids() if self.relation == GROUP else ()

    def _ids(self) -> tuple[str, ...]:
        predicate = self.condition.predicate
        if isinstance(predicate, Compare):
            return (predicate.value.raw,)
        if isinstance(predicate, In):
            return tuple(value.raw for value in predicate.values)
        return ()


@dataclass(frozen=True)
class CompiledRule:
    """A rule's parsed and checked `q`."""

    q: str
    assign: str
    conditions: tuple[RuleCondition, ...]

    @property
    def depends_on(self) -> list[str]:
        """The other segments the rule reads, in the order it names them."""
        ids = (sid for c in self.conditions if c.relation == SEGMENT for sid in c.segment_ids())
        return list(dict.fromkeys(ids))

    @property
    def group_ids(self) -> list[str]:
        """The groups the rule reads, in the order it names them."""
        return list(dict.fromkeys(gid for c in self.conditions for gid in c.group_ids()))


def rule_compile(*, q: str, assign: str, default_language: str) -> CompiledRule:
    """Parse and check a rule's `q`; raises QuerySyntaxError naming the problem.

    `rule_compile(q='attributes.tier:gold legalEntities.name:~^Acme', assign="B2B", ...)`
    """
    if not q.strip():
        raise QuerySyntaxError("A rule needs at least one condition", 0)
    limits = query_limits()
    tree = parse_query(q, max_length=limits.max_length, max_conditions=limits.max_conditions)
    conditions = []
    for condition in tree.conditions:
        relation = _relation_of(condition, limits.max_path_segments)
        if relation in ID_RELATIONS and not isinstance(condition.predicate, Compare | In):
            raise QuerySyntaxError(
                f"Only equality and lists are allowed on '{condition.field}'",
                condition.field_pos,
                hint=f"e.g. {ID_RELATIONS[relation]}",
            )
        predicate = condition.predicate
        if relation in ID_RELATIONS and isinstance(predicate, Compare) and predicate.op != "eq":
            raise QuerySyntaxError(
                f"Only equality and lists are allowed on '{condition.field}'", predicate.pos
            )
        # Compiled once here so every problem of the text is a 400 now, not at evaluation.
        compile_query(Query((condition,)), RELATIONS[relation], default_language=default_language)
        end = _end_of(q, tree.conditions, condition)
        conditions.append(RuleCondition(condition, relation, q[condition.field_pos : end].strip()))
    return CompiledRule(q=q, assign=assign, conditions=tuple(conditions))


def _relation_of(condition: Condition, max_segments: int) -> str:
    for relation, fields in RELATIONS.items():
        try:
            resolve(
                fields, condition.field, position=condition.field_pos, max_segments=max_segments
            )
        except QuerySyntaxError as error:
            if error.message.startswith("Unknown field"):
                continue
            raise
        return relation
    raise QuerySyntaxError(
        f"Unknown field '{condition.field}'",
        condition.field_pos,
        hint="a rule reads id, email, firstName, lastName, attributes.<path>, "
        "legalEntities.id, legalEntities.name, groups.id and segments.id",
    )


def _end_of(q: str, conditions: tuple[Condition, ...], condition: Condition) -> int:
    later = [c.field_pos for c in conditions if c.field_pos > condition.field_pos]
    return min(later) if later else len(q)


def compiled_rule(rule: SegmentRule, *, tenant: Tenant) -> CompiledRule:
    """The stored rule, compiled (it was checked when written)."""
    return rule_compile(q=rule.q, assign=rule.assign, default_language=tenant.default_language)


# --- What a rule matches --------------------------------------------------------------------


def condition_filter(
    tenant: Tenant, rule_condition: RuleCondition, *, assign: str, default_language: str
) -> Q:
    """The condition as a filter over the rule's base rows (customers, or B2B pairs)."""
    condition, relation = rule_condition.condition, rule_condition.relation
    b2b = assign == SegmentRule.Assign.B2B
    customer_ref = OuterRef("customer_id") if b2b else OuterRef("pk")
    if relation == CUSTOMER:
        fields = rule_customer_fields("customer__" if b2b else "")
        return compile_query(Query((condition,)), fields, default_language=default_language)
    q = compile_query(Query((condition,)), RELATIONS[relation], default_language=default_language)
    if relation == LEGAL_ENTITY:
        if b2b:  # the pair's own legal entity
            return q
        pairs = CustomerLegalEntity.objects.filter(tenant=tenant, customer=customer_ref)
        if isinstance(condition.predicate, IsNull | Missing):
            return ~Exists(pairs)  # "has no legal entity"
        if isinstance(condition.predicate, ExistsPredicate):
            return Q(Exists(pairs))
        return Q(Exists(pairs.filter(q)))
    if relation == GROUP:
        groups = GroupMember.objects.filter(
            tenant=tenant, customer=customer_ref, group__user_type=GroupUserType.CUSTOMER
        )
        return Q(Exists(groups.filter(q)))
    # Membership of the other segment as everything else reads it (`selectors.membership`):
    # an assignment of the customer (made by hand or by its rule), or one of a group the
    # customer is a member of. Any legal entity's, as for the assignments: the customer is
    # in the segment, acting for someone.
    memberships = CustomerAssignment.objects.filter(tenant=tenant, customer=customer_ref)
    inherited = compile_query(
        Query((condition,)), RULE_GROUP_SEGMENT_FIELDS, default_language=default_language
    )
    through_groups = GroupMember.objects.filter(
        tenant=tenant, customer=customer_ref, group__user_type=GroupUserType.CUSTOMER
    ).filter(inherited, group__assignments__tenant=tenant)
    return Q(Exists(memberships.filter(q))) | Q(Exists(through_groups))


def rule_matches(
    *,
    tenant: Tenant,
    rule: CompiledRule,
    customer_pks: Iterable[int] | None = None,
) -> QuerySet:
    """The rule's matches as rows `{"cid", "leid"}`; only of `customer_pks` when given."""
    b2b = rule.assign == SegmentRule.Assign.B2B
    if b2b:
        rows: QuerySet = CustomerLegalEntity.objects.filter(tenant=tenant)
        if customer_pks is not None:
            rows = rows.filter(customer_id__in=list(customer_pks))
    else:
        rows = Customer.objects.filter(tenant=tenant)
        if customer_pks is not None:
            rows = rows.filter(pk__in=list(customer_pks))
    for rule_condition in rule.conditions:
        rows = rows.filter(
            condition_filter(
                tenant, rule_condition, assign=rule.assign, default_language=tenant.default_language
            )
        )
    if b2b:
        return rows.annotate(cid=F("customer_id"), leid=F("legal_entity_id")).values("cid", "leid")
    return rows.annotate(cid=F("pk"), leid=Value(None, BigIntegerField())).values("cid", "leid")


def rule_matches_sql(
    *, tenant: Tenant, rule: SegmentRule | CompiledRule
) -> tuple[str, tuple[Any, ...]]:
    """The SQL (and its parameters) of all the rule's matches, rows `(cid, leid)`.

    Compiled once per rule text: the cache is keyed on what the SQL is made from (the
    database, the tenant and its default language, the rule's `q` and `assign`), so a
    changed rule is a new key and never meets the SQL of its former text.
    """
    return _matches_sql(connection.vendor, tenant.pk, tenant.default_language, rule.q, rule.assign)


@lru_cache(maxsize=4096)
def _matches_sql(
    vendor: str, tenant_pk: str, default_language: str, q: str, assign: str
) -> tuple[str, tuple[Any, ...]]:
    tenant = Tenant(pk=tenant_pk, default_language=default_language)
    compiled = rule_compile(q=q, assign=assign, default_language=default_language)
    rows = rule_matches(tenant=tenant, rule=compiled).order_by()
    sql, params = rows.query.sql_with_params()
    return sql, tuple(params)


def rule_members(*, tenant: Tenant, segment_pk: int) -> QuerySet:
    """The segment's members as rows `{"cid", "leid"}` (every assignment type)."""
    return (
        CustomerAssignment.objects.filter(tenant=tenant, segment_id=segment_pk)
        .annotate(cid=F("customer_id"), leid=F("legal_entity_id"))
        .values("cid", "leid")
    )


def segment_rule_get(*, tenant: Tenant, segment_pk: int) -> SegmentRule | None:
    """The segment's rule, or None."""
    return SegmentRule.objects.filter(tenant=tenant, segment_id=segment_pk).first()


def tenant_rules_in_order(*, tenant: Tenant, enabled_only: bool = True) -> list[SegmentRule]:
    """The tenant's (enabled) rules, each after the rules of the segments it reads."""
    # Every directory change reads them: not the segments' texts, which no rule needs.
    rows = (
        SegmentRule.objects.filter(tenant=tenant)
        .select_related("segment")
        .defer("segment__name", "segment__description", "segment__mixins")
        .defer("segment__metadata_mixins")
    )
    if enabled_only:
        rows = rows.filter(enabled=True)
    return dependency_order(list(rows.order_by("segment__external_id")))


# (database, tenant, default language) → (the fingerprint of its enabled rules, them in order)
_KEPT_RULES: dict[tuple[str, str, str], tuple[str, list[SegmentRule]]] = {}
KEPT_TENANTS = 256


def tenant_rules_kept(*, tenant: Tenant) -> list[SegmentRule]:
    """`tenant_rules_in_order(tenant=tenant)`, kept in process while they are unchanged.

    Every directory change reads the tenant's rules; building 1,000 of them costs about
    35 ms. What the evaluation reads of them (pk, segment and its id, q, assign,
    depends_on) is fingerprinted in the database, one row, in the caller's transaction:
    any write of a rule or its segment's id, by any process and any path (the API, the
    admin, a bulk `update(enabled=False)`), changes it, and the rules are read again. The
    fingerprint is read before the rules, so what is kept is never older than it. One
    query when the rules are kept, and when the tenant has none; two when they changed.
    """
    key = (str(connection.settings_dict["NAME"]), tenant.pk, tenant.default_language)
    fingerprint = _rules_fingerprint(tenant)
    if fingerprint is None:
        return []
    kept = _KEPT_RULES.get(key)
    if kept is not None and kept[0] == fingerprint:
        return list(kept[1])
    rules = tenant_rules_in_order(tenant=tenant)
    if len(_KEPT_RULES) >= KEPT_TENANTS:
        _KEPT_RULES.clear()
    _KEPT_RULES[key] = (fingerprint, rules)
    return list(rules)


def _rules_fingerprint(tenant: Tenant) -> str | None:
    """What `tenant_rules_kept` keeps, of the tenant's enabled rules, in one value (None:
    no enabled rule): a digest on PostgreSQL, the values themselves elsewhere."""
    q = connection.ops.quote_name
    row = (
        "CAST(r.id AS text) || '|' || CAST(r.segment_id AS text) || '|' || s.external_id "
        "|| '|' || r.assign || '|' || CAST(r.depends_on AS text) || '|' || r.q"
    )
    source = (
        f"FROM {q(SegmentRule._meta.db_table)} r JOIN {q(Segment._meta.db_table)} s "
        "ON s.id = r.segment_id WHERE r.tenant_id = %s AND r.enabled"
    )
    if connection.vendor == "postgresql":
        sql = f"SELECT md5(string_agg({row}, E'\\n' ORDER BY r.id)) {source}"
    else:
        sql = f"SELECT group_concat(x, char(10)) FROM (SELECT {row} AS x {source} ORDER BY r.id)"
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant.pk])
        return cursor.fetchone()[0]


def dependency_order(rules: list[SegmentRule]) -> list[SegmentRule]:
    """`rules` ordered so that a rule comes after the rules of the segments it depends on."""
    by_id = {rule.segment.external_id: rule for rule in rules}
    ordered: list[SegmentRule] = []
    done: set[str] = set()

    def visit(segment_id: str, path: tuple[str, ...]) -> None:
        if segment_id in done or segment_id in path:  # a stored cycle cannot exist; skip it
            return
        rule = by_id.get(segment_id)
        if rule is None:
            return
        for dependency in rule.depends_on:
            visit(dependency, (*path, segment_id))
        done.add(segment_id)
        ordered.append(rule)

    for segment_id in by_id:
        visit(segment_id, ())
    return ordered


def rule_cycle(*, tenant: Tenant, segment_id: str, depends_on: list[str]) -> list[str] | None:
    """The cycle a rule on `segment_id` reading `depends_on` would close, e.g. [a, b, a]."""
    edges: dict[str, list[str]] = {
        external_id: list(deps)
        for external_id, deps in SegmentRule.objects.filter(tenant=tenant).values_list(
            "segment__external_id", "depends_on"
        )
    }
    edges[segment_id] = list(depends_on)

    def walk(node: str, path: list[str]) -> list[str] | None:
        for nxt in edges.get(node, []):
            if nxt == segment_id:
                return [*path, nxt]
            if nxt in path:
                continue
            found = walk(nxt, [*path, nxt])
            if found:
                return found
        return None

    return walk(segment_id, [segment_id])


def customers_documents(*, tenant: Tenant, pks: list[int]) -> dict[int, dict[str, Any]]:
    """Customer pk → the customer as a preview sample shows it."""
    rows = Customer.objects.filter(tenant=tenant, pk__in=pks).only(
        "external_id", "first_name", "last_name", "email"
    )
    return {
        row.pk: {
            "id": row.external_id,
            "firstName": row.first_name,
            "lastName": row.last_name,
            "email": row.email,
        }
        for row in rows
    }


# --- Preview ----------------------------------------------------------------------------------

SAMPLE_SIZE = 20


@contextmanager
def hash_join_plans() -> Iterator[None]:
    """PostgreSQL: statements over all a tenant's customers planned without nested loops,
    and sorted in memory.

    Migrations 0009 and 0010 keep no statistics on `tenant_id`, so the planner estimates a
    tenant's customers at a handful, whatever their number, and a rule's conditions leave
    it one row: it then answers an anti-join by scanning the segment's whole membership
    once per customer (minutes at 100,000). Over a whole tenant hash joins are right
    whatever the sizes. The events of 100,000 changes are sorted by id with their payloads,
    past the default 4 MB of `work_mem`: BULK_WORK_MEM keeps that sort off the disk. The
    settings hold for the block (and go with a rollback).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_nestloop'), current_setting('work_mem'), "
            "set_config('enable_nestloop', 'off', true), set_config('work_mem', %s, true)",
            [BULK_WORK_MEM],
        )
        nestloop, work_mem, _, _ = cursor.fetchone()
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('enable_nestloop', %s, true), set_config('work_mem', %s, true)",
            [nestloop, work_mem],
        )


BULK_WORK_MEM = "64MB"
NONE = "CAST(NULL AS bigint)"
# A (cid, leid) match and an assignment (or exclusion) row of the same key, B2C or B2B.
SAME_PAIR = "{m}.cid = {a}.customer_id AND {m}.leid IS NOT DISTINCT FROM {a}.legal_entity_id"


def rule_preview(*, tenant: Tenant, segment_pk: int, rule: CompiledRule) -> dict[str, Any]:
    """What saving `rule` would make of the segment: its matches, and the added and removed.

    `{"count": 120, "sample": [...], "added": {"count", "sample"}, "removed": {...}}`; a fixed
    number of queries, the matches computed once (one statement for the counts and the
    samples). Equal to what `rule_evaluate` then does (excluded keys left out, MANUAL rows
    never removed).
    """
    q = connection.ops.quote_name
    assignments = q(CustomerAssignment._meta.db_table)
    exclusions = q(RuleExclusion._meta.db_table)
    match_sql, match_params = rule_matches_sql(tenant=tenant, rule=rule)
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    parts = ("all", "added", "removed")
    sql = (
        f"WITH m AS {materialized}(SELECT r.cid, CAST(r.leid AS bigint) AS leid FROM ({match_sql}) r), "
        f"kept AS {materialized}(SELECT m.cid, m.leid FROM m WHERE NOT EXISTS "
        f"(SELECT 1 FROM {exclusions} x WHERE x.tenant_id = %s AND x.segment_id = %s "
        f"AND {SAME_PAIR.format(m='m', a='x')})), "
        f"added AS {materialized}(SELECT k.cid, k.leid FROM kept k WHERE NOT EXISTS "
        f"(SELECT 1 FROM {assignments} a WHERE a.tenant_id = %s AND a.segment_id = %s "
        f"AND {SAME_PAIR.format(m='k', a='a')})), "
        f"removed AS {materialized}(SELECT a.customer_id AS cid, a.legal_entity_id AS leid "
        f"FROM {assignments} a WHERE a.tenant_id = %s AND a.segment_id = %s "
        f"AND a.assignment_type = %s "
        f"AND NOT EXISTS (SELECT 1 FROM m WHERE {SAME_PAIR.format(m='m', a='a')})) "
        + " UNION ALL ".join(
            f"SELECT '{part}' AS part, {NONE} AS cid, {NONE} AS leid, count(*) AS n FROM {source} "
            f"UNION ALL SELECT * FROM (SELECT '{part}', s.cid, s.leid, {NONE} FROM {source} s "
            f"ORDER BY s.cid, s.leid LIMIT {SAMPLE_SIZE}) {source}_sample"
            for part, source in zip(parts, ("kept", "added", "removed"), strict=True)
        )
    )
    params = [*match_params, tenant.pk, segment_pk, tenant.pk, segment_pk, tenant.pk, segment_pk]
    params.append(AssignmentType.AUTOMATIC.value)
    counts: dict[str, int] = {}
    samples: dict[str, list[dict[str, Any]]] = {part: [] for part in parts}
    with hash_join_plans(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        for part, cid, leid, n in cursor.fetchall():
            if n is not None:
                counts[part] = n
            else:
                samples[part].append({"cid": cid, "leid": leid})
    customers = customers_documents(
        tenant=tenant, pks=[row["cid"] for rows in samples.values() for row in rows]
    )
    legal_entities = dict(
        LegalEntity.objects.filter(
            tenant=tenant,
            pk__in=[row["leid"] for rows in samples.values() for row in rows if row["leid"]],
        ).values_list("pk", "external_id")
    )

    def sample(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            document = dict(customers[row["cid"]])
            if row["leid"]:
                document["legalEntityId"] = legal_entities[row["leid"]]
            out.append(document)
        return out

    return {
        "count": counts["all"],
        "sample": sample(samples["all"]),
        "added": {"count": counts["added"], "sample": sample(samples["added"])},
        "removed": {"count": counts["removed"], "sample": sample(samples["removed"])},
    }


# --- Explain ----------------------------------------------------------------------------------


def _customer_value(
    rule_condition: RuleCondition,
    customer: Customer,
    legal_entities: list[LegalEntity],
    memberships: set[str],
    groups: set[str],
) -> Any:
    """The customer's value of the condition's field, as the condition reads it."""
    field = rule_condition.condition.field
    if rule_condition.relation == CUSTOMER:
        column, path = resolve(RELATIONS[CUSTOMER], field)
        value: Any = getattr(customer, column.column)
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value
    if rule_condition.relation == LEGAL_ENTITY:
        attribute = "external_id" if field == "legalEntities.id" else "name"
        return [getattr(entity, attribute) for entity in legal_entities]
    if rule_condition.relation == GROUP:
        return [gid for gid in rule_condition.group_ids() if gid in groups]
    return [sid for sid in rule_condition.segment_ids() if sid in memberships]


def rule_conditions_explain(
    *,
    tenant: Tenant,
    rule: CompiledRule,
    customer: Customer,
    legal_entity: LegalEntity | None,
) -> tuple[bool, list[dict[str, Any]]]:
    """Each condition of the rule with the customer's value and verdict; (matched, conditions).

    With a legal entity, a B2B rule is explained for that pair; otherwise the legal entity
    conditions read any of the customer's legal entities.
    """
    as_b2b = rule.assign == SegmentRule.Assign.B2B and legal_entity is not None
    assign = SegmentRule.Assign.B2B if as_b2b else SegmentRule.Assign.B2C
    if as_b2b:
        model: Any = CustomerLegalEntity
        base = CustomerLegalEntity.objects.filter(
            tenant=tenant, customer=customer, legal_entity=legal_entity
        )
    else:
        model = Customer
        base = Customer.objects.filter(tenant=tenant, pk=customer.pk)
    verdicts = {
        f"c{index}": Exists(
            model.objects.filter(tenant=tenant, pk=OuterRef("pk")).filter(
                condition_filter(
                    tenant, condition, assign=assign, default_language=tenant.default_language
                )
            )
        )
        for index, condition in enumerate(rule.conditions)
    }
    row = base.annotate(**verdicts).values(*verdicts).first() if verdicts else None
    entities = (
        [legal_entity]
        if as_b2b and legal_entity is not None
        else list(LegalEntity.objects.filter(tenant=tenant, customers=customer).order_by("pk"))
    )
    named = {sid for c in rule.conditions for sid in c.segment_ids()}
    memberships = (
        set(
            CustomerAssignment.objects.filter(
                tenant=tenant, customer=customer, segment__external_id__in=named
            )
            .values_list("segment__external_id", flat=True)
            .union(
                GroupAssignment.objects.filter(
                    tenant=tenant,
                    group__user_type=GroupUserType.CUSTOMER,
                    group__members=customer,
                    segment__external_id__in=named,
                ).values_list("segment__external_id", flat=True)
            )
        )
        if named
        else set()
    )
    named_groups = set(rule.group_ids)
    groups = (
        set(
            GroupMember.objects.filter(
                tenant=tenant,
                customer=customer,
                group__user_type=GroupUserType.CUSTOMER,
                group__external_id__in=named_groups,
            ).values_list("group__external_id", flat=True)
        )
        if named_groups
        else set()
    )
    conditions = []
    for index, condition in enumerate(rule.conditions):
        conditions.append(
            {
                "condition": condition.text,
                "field": condition.condition.field,
                "value": _customer_value(condition, customer, entities, memberships, groups),
                "verdict": bool(row and row[f"c{index}"]),
            }
        )
    matched = row is not None and all(c["verdict"] for c in conditions)
    return matched, conditions


def segment_explain(
    *,
    tenant: Tenant,
    segment: Segment,
    customer_id: str,
    legal_entity_id: str | None,
    languages: list[str] | None = None,
) -> dict[str, Any]:
    """Why the customer is, or is not, in the segment (SPEC §12 Explain).

    `{"member": true, "effective": false, "reasons": [{"type": "AUTOMATIC", ...}],
    "segment": {"status": "INACTIVE", "validity": null}}`; raises NotFound for an unknown
    customer or legal entity. A `GROUP` reason is each group assignment through which the
    customer (acting for `legal_entity_id`, or for none) belongs to the segment, as
    `counting_group_assignments` says; its group's name is localized to `languages` (the
    map itself when None).
    """
    customer = Customer.objects.filter(tenant=tenant, external_id=customer_id).first()
    if customer is None:
        raise NotFound(
            f"The customer with id {customer_id} has not been found.", resource_id=customer_id
        )
    legal_entity = None
    if legal_entity_id is not None:
        legal_entity = LegalEntity.objects.filter(
            tenant=tenant, external_id=legal_entity_id
        ).first()
        if legal_entity is None:
            raise NotFound(
                f"The legal entity with id {legal_entity_id} has not been found.",
                resource_id=legal_entity_id,
            )
    assignments = CustomerAssignment.objects.filter(
        tenant=tenant, segment=segment, customer=customer
    ).select_related("legal_entity")
    exclusions = RuleExclusion.objects.filter(
        tenant=tenant, segment=segment, customer=customer
    ).select_related("legal_entity")
    if legal_entity is not None:
        assignments = assignments.filter(legal_entity=legal_entity)
        exclusions = exclusions.filter(legal_entity=legal_entity)
    else:
        assignments = assignments.filter(legal_entity__isnull=True)
        exclusions = exclusions.filter(legal_entity__isnull=True)
    rule_row = SegmentRule.objects.filter(tenant=tenant, segment=segment).first()
    rule_reason = None
    if rule_row is not None:
        compiled = compiled_rule(rule_row, tenant=tenant)
        matched, conditions = rule_conditions_explain(
            tenant=tenant, rule=compiled, customer=customer, legal_entity=legal_entity
        )
        rule_reason = {
            "q": rule_row.q,
            "enabled": rule_row.enabled,
            "matched": matched,
            "conditions": conditions,
        }
    reasons: list[dict[str, Any]] = []
    for row in assignments.order_by("pk"):
        reason: dict[str, Any] = {
            "type": row.assignment_type,
            "legalEntityId": row.legal_entity.external_id if row.legal_entity else None,
        }
        if row.assignment_type == AssignmentType.AUTOMATIC and rule_reason is not None:
            reason.update(rule_reason)
        reasons.append(reason)
    through_groups = (
        counting_group_assignments(
            tenant=tenant, customer_id=customer_id, legal_entity_id=legal_entity_id
        )
        .filter(segment=segment)
        .select_related("group__legal_entity")
        .order_by("group__external_id")
    )
    for row in through_groups:
        group: dict[str, Any] = {"id": row.group.external_id}
        name = localize(row.group.name, languages, tenant.default_language)
        if name is not None:
            group["name"] = name
        bound = row.group.legal_entity
        reasons.append(
            {
                "type": "GROUP",
                "legalEntityId": bound.external_id if bound else None,
                "group": group,
            }
        )
    for row in exclusions.order_by("pk"):
        reasons.append(
            {
                "type": "EXCLUDED",
                "legalEntityId": row.legal_entity.external_id if row.legal_entity else None,
            }
        )
    if rule_reason is not None and not any(r["type"] == "AUTOMATIC" for r in reasons):
        reasons.append({"type": "RULE", "legalEntityId": legal_entity_id, **rule_reason})
    member = any(
        r["type"] in (AssignmentType.MANUAL, AssignmentType.AUTOMATIC, "GROUP") for r in reasons
    )
    return {
        "member": member,
        "effective": member and segment.is_effective(),
        "reasons": reasons,
        "segment": {
            "status": segment.status,
            "validity": {
                end: format_instant(value)
                for end, value in (("from", segment.valid_from), ("to", segment.valid_to))
                if value is not None
            }
            or None,
        },
    }

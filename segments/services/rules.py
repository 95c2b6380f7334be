"""Rules (SPEC §12) on the write side: writing a rule and keeping its assignments current.

A rule keeps the `AUTOMATIC` customer assignments of its segment equal to its matches
(`selectors.rules.rule_matches`, compiled to SQL once per rule text by
`rule_matches_sql`), minus the excluded ones; `MANUAL` rows are never touched.

A rule written (or `evaluate_rules`) is evaluated in full by `rule_evaluate`, set-based
whatever the number of customers, in a fixed number of statements:

    PostgreSQL   WITH gone_rows AS (DELETE ... no longer matching ... RETURNING *)
                 INSERT INTO events SELECT ... FROM gone          (their deleted events)
                 WITH new AS (INSERT ... SELECT missing matches RETURNING *)
                 INSERT INTO events SELECT ... FROM new           (their created events)
                 planned with hash joins (`hash_join_plans`)
    SQLite       the same DELETE and INSERT ... SELECT, the events built from the rows in
                 batches (as a forced segment delete does there, `assignment_events`).

A directory change (`rules_customers_changed`, and the assignment and group assignment
writes for the rules reading their segment) evaluates only the changed customers, every
rule of a dependency level together (`rules_evaluate_customers`): on PostgreSQL one
statement per level, whatever its number of rules (the matches of the level's rules among
the customers in one scan, the deletes, the inserts and all their events); elsewhere a few
statements per level (`_level_elsewhere`).

Every change is evaluated in the transaction of the write that made it. Each event names
the rule as its actor (`rule:<segment id>`). `enabled=false` keeps the rule and freezes
its assignments; deleting the rule removes them (with their events).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from segments.choices import AssignmentType, EventType
from segments.exceptions import SegmentNotFound, ValidationFailed
from segments.models import (
    CustomerAssignment,
    CustomerLegalEntity,
    Event,
    Group,
    GroupMember,
    RuleExclusion,
    Segment,
    SegmentRule,
)
from segments.query.ast import QuerySyntaxError
from segments.selectors.rules import (
    CompiledRule,
    hash_join_plans,
    rule_compile,
    rule_cycle,
    rule_matches_sql,
    tenant_rules_in_order,
    tenant_rules_kept,
)
from segments.services.assignment_events import event_rows_sql
from segments.services.events import events_record
from segmentservice.actor import acting_as
from segmentservice.db import atomic_with_retry, rows_insert
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Past this many changed customers, the rules are evaluated in full (one statement either
# way; a long id list only makes the plan worse).
CHANGED_CUSTOMERS_MAX = 1000
# SQLite: rows read, and events inserted, this many at a time.
BATCH = 1000


@dataclass(frozen=True)
class RuleInput:
    """A rule body: `{"q": "attributes.tier:gold", "assign": "B2C", "enabled": true}`."""

    q: str
    assign: str
    enabled: bool


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation changed."""

    added: int = 0
    removed: int = 0

    def __add__(self, other: Evaluation) -> Evaluation:
        return Evaluation(self.added + other.added, self.removed + other.removed)


def rule_check(*, tenant: Tenant, segment_id: str, data: RuleInput) -> CompiledRule:
    """The rule compiled and checked: q (400 naming the problem), references, cycles."""
    try:
        compiled = rule_compile(
            q=data.q, assign=data.assign, default_language=tenant.default_language
        )
    except QuerySyntaxError as error:
        raise ValidationFailed(f"Invalid rule: q: {error.message}") from error
    depends_on = compiled.depends_on
    _refuse_unknown(tenant, Segment, depends_on, field="segments.id", what="segment")
    if compiled.group_ids:
        _refuse_unknown(tenant, Group, compiled.group_ids, field="groups.id", what="group")
    cycle = rule_cycle(tenant=tenant, segment_id=segment_id, depends_on=depends_on)
    if cycle:
        raise ValidationFailed(f"Invalid rule: q: segments.id makes a cycle: {' → '.join(cycle)}.")
    return compiled


def _refuse_unknown(
    tenant: Tenant, model: type[Segment] | type[Group], ids: Sequence[str], *, field: str, what: str
) -> None:
    """Raise ValidationFailed naming the `ids` (of `field`) that are no `model` of the tenant."""
    known = set(
        model.objects.filter(tenant=tenant, external_id__in=ids).values_list(
            "external_id", flat=True
        )
    )
    unknown = [external_id for external_id in ids if external_id not in known]
    if unknown:
        raise ValidationFailed(
            f"Invalid rule: q: {field} names unknown {what}(s) {', '.join(unknown)}."
        )


def _segment_locked(tenant: Tenant, segment_id: str) -> Segment:
    segment = (
        Segment.objects.select_for_update().filter(tenant=tenant, external_id=segment_id).first()
    )
    if segment is None:
        raise SegmentNotFound(
            f"The segment with id {segment_id} has not been found.", resource_id=segment_id
        )
    return segment


@atomic_with_retry
def rule_upsert(
    *, tenant: Tenant, segment_id: str, data: RuleInput
) -> tuple[SegmentRule, bool, Evaluation]:
    """Create or replace the segment's rule and evaluate it in full.

    Returns (rule, created, what the evaluation of it and its dependents changed).
    """
    segment = _segment_locked(tenant, segment_id)
    compiled = rule_check(tenant=tenant, segment_id=segment_id, data=data)
    now = timezone.now()
    rule, created = SegmentRule.objects.update_or_create(
        tenant=tenant,
        segment=segment,
        defaults={
            "q": data.q,
            "assign": data.assign,
            "enabled": data.enabled,
            "depends_on": compiled.depends_on,
            "modified_at": now,
        },
        create_defaults={
            "q": data.q,
            "assign": data.assign,
            "enabled": data.enabled,
            "depends_on": compiled.depends_on,
            "created_at": now,
            "modified_at": now,
        },
    )
    rule.segment = segment
    evaluation = _evaluate_with_dependents(tenant, rule) if rule.enabled else Evaluation()
    rule.refresh_from_db(fields=["last_evaluated_at"])
    return rule, created, evaluation


@atomic_with_retry
def rule_delete(*, tenant: Tenant, segment_id: str) -> None:
    """Remove the segment's rule, its `AUTOMATIC` assignments (with events) and exclusions."""
    segment = _segment_locked(tenant, segment_id)
    rule = SegmentRule.objects.filter(tenant=tenant, segment=segment).first()
    if rule is None:
        raise SegmentNotFound(
            f"The segment with id {segment_id} has no rule.", resource_id=segment_id
        )
    names = [
        other.segment.external_id
        for other in tenant_rules_in_order(tenant=tenant, enabled_only=False)
        if segment_id in other.depends_on
    ]
    if names:
        raise ValidationFailed(
            f"The rule of segment {segment_id} is read by the rule(s) of {', '.join(names)}."
        )
    with acting_as(f"rule:{segment.external_id}"):
        _apply(tenant, segment, matches=None, assign=rule.assign)
    RuleExclusion.objects.filter(tenant=tenant, segment=segment).delete()
    rule.delete()


@atomic_with_retry
def rule_evaluate_now(*, tenant: Tenant, segment_id: str) -> Evaluation:
    """Evaluate the segment's rule in full now (and the rules that read its segment)."""
    segment = _segment_locked(tenant, segment_id)
    rule = SegmentRule.objects.filter(tenant=tenant, segment=segment).first()
    if rule is None:
        raise SegmentNotFound(
            f"The segment with id {segment_id} has no rule.", resource_id=segment_id
        )
    rule.segment = segment
    return _evaluate_with_dependents(tenant, rule)


def rules_evaluate_all(
    *,
    tenant: Tenant,
    segment_id: str | None = None,
    progress: Callable[[SegmentRule, Evaluation], Any] | None = None,
) -> Evaluation:
    """Evaluate the tenant's enabled rules in full (or one segment's), each in its transaction."""
    rules = tenant_rules_in_order(tenant=tenant)
    if segment_id is not None:
        rules = [rule for rule in rules if rule.segment.external_id == segment_id]
        if not rules:
            raise SegmentNotFound(
                f"The segment with id {segment_id} has no enabled rule.", resource_id=segment_id
            )
    total = Evaluation()
    for rule in rules:
        with transaction.atomic():
            outcome = rule_evaluate(tenant=tenant, rule=rule)
        total += outcome
        if progress is not None:
            progress(rule, outcome)
    return total


def _evaluate_with_dependents(tenant: Tenant, rule: SegmentRule) -> Evaluation:
    """The rule in full, then every enabled rule reading its segment, transitively, in order."""
    rules = tenant_rules_in_order(tenant=tenant)
    readers = {reader.pk for reader in _readers(rules, {rule.segment.external_id})}
    total = Evaluation()
    for candidate in rules:
        if candidate.pk == rule.pk or candidate.pk in readers:
            total += rule_evaluate(tenant=tenant, rule=candidate)
    return total


def _readers(rules: Sequence[SegmentRule], segment_ids: Iterable[str]) -> list[SegmentRule]:
    """Those of `rules` (in dependency order) that read one of `segment_ids` through
    `segments.id`, or the segment of a rule so found: transitively, in the same order."""
    affected = set(segment_ids)
    readers = []
    for rule in rules:
        if affected & set(rule.depends_on):
            affected.add(rule.segment.external_id)
            readers.append(rule)
    return readers


def rule_evaluate(
    *, tenant: Tenant, rule: SegmentRule, customer_pks: Sequence[int] | None = None
) -> Evaluation:
    """Make the rule's `AUTOMATIC` assignments its matches (of `customer_pks`, or all).

    Runs inside the caller's transaction; records every change's event.
    """
    if customer_pks is not None:
        return rules_evaluate_customers(tenant=tenant, rules=[rule], customer_pks=customer_pks)
    matches = rule_matches_sql(tenant=tenant, rule=rule)
    with acting_as(f"rule:{rule.segment.external_id}"), hash_join_plans():
        outcome = _apply(tenant, rule.segment, matches=matches, assign=rule.assign)
    SegmentRule.objects.filter(pk=rule.pk).update(last_evaluated_at=timezone.now())
    return outcome


def rules_after_segments_deleted(*, tenant: Tenant, segment_ids: Sequence[str]) -> None:
    """After segments were deleted, in their transaction: the rules that read them (and the
    rules that read those) follow, since the members they had through them are gone. One
    query when the tenant has no rule; the segment deletes that know (their `has_readers`
    flag) do not call it then."""
    deleted = set(segment_ids)
    for rule in _readers(tenant_rules_in_order(tenant=tenant), deleted):
        if rule.segment.external_id not in deleted:
            rule_evaluate(tenant=tenant, rule=rule)


def rules_customers_changed(*, tenant: Tenant, customer_pks: Iterable[int]) -> Evaluation:
    """Evaluate the changed customers against every enabled rule of the tenant, in order.

    Called by every directory write inside its transaction: `import_directory`, the admin's
    customer and legal entity edits, a legal entity deleted, an assignment written by hand
    (a rule may read its segment).
    """
    pks = sorted(set(customer_pks))
    if not pks:
        return Evaluation()
    rules = tenant_rules_kept(tenant=tenant)
    if not rules:
        return Evaluation()
    if len(pks) <= CHANGED_CUSTOMERS_MAX:
        return rules_evaluate_customers(tenant=tenant, rules=rules, customer_pks=pks)
    total = Evaluation()
    for rule in rules:
        total += rule_evaluate(tenant=tenant, rule=rule)
    return total


def rules_after_assignments_written(
    *,
    tenant: Tenant,
    segment: Segment,
    upserted: Sequence[CustomerAssignment],
    deleted: Sequence[CustomerAssignment],
) -> None:
    """After assignments of `segment` were written by hand (API, admin), in their transaction.

    A deleted `AUTOMATIC` row is excluded from the segment's rule; a PUT one (now `MANUAL`)
    is no longer excluded; the rules that read the segment follow its new members. One
    query when the tenant has no rule.
    """
    rules = tenant_rules_in_order(tenant=tenant, enabled_only=False)
    if not rules:
        return
    if any(rule.segment_id == segment.pk for rule in rules):
        rule_exclusions_add(tenant=tenant, segment=segment, rows=deleted)
        rule_exclusions_clear_for(tenant=tenant, segment=segment, rows=upserted)
    pks = sorted({row.customer_id for row in [*upserted, *deleted]})
    readers = _readers([rule for rule in rules if rule.enabled], {segment.external_id})
    rules_evaluate_customers(tenant=tenant, rules=readers, customer_pks=pks)


def rules_evaluate_customers(
    *, tenant: Tenant, rules: Sequence[SegmentRule], customer_pks: Sequence[int]
) -> Evaluation:
    """Make `rules`' `AUTOMATIC` assignments of these customers their matches.

    `rules` in dependency order; they are evaluated a dependency level at a time, every
    rule of a level together: on PostgreSQL one statement per level whatever the number
    of rules in it (`_levels_postgres`), elsewhere a few (`_level_elsewhere`).
    """
    pks = sorted(set(customer_pks))
    if not pks or not rules:
        return Evaluation()
    levels = _levels(rules)
    # Customers are evaluated independently of each other: a long list goes in parts.
    parts = [
        pks[start : start + CHANGED_CUSTOMERS_MAX]
        for start in range(0, len(pks), CHANGED_CUSTOMERS_MAX)
    ]
    if connection.vendor == "postgresql":
        return _levels_postgres(tenant, levels, parts)
    total = Evaluation()
    for part in parts:
        for rules_of_level in levels:
            total += _level_elsewhere(tenant, rules_of_level, part)
    return total


def _levels(rules: Sequence[SegmentRule]) -> list[list[SegmentRule]]:
    """`rules` (in dependency order) by level: a rule's level is one more than the highest
    level of the rules among `rules` whose segments it reads (0 when it reads none)."""
    level_of: dict[str, int] = {}
    levels: list[list[SegmentRule]] = []
    for rule in rules:
        level = 1 + max((level_of[d] for d in rule.depends_on if d in level_of), default=-1)
        level_of[rule.segment.external_id] = level
        while len(levels) <= level:
            levels.append([])
        levels[level].append(rule)
    return levels


# The same key, B2C (no legal entity) or B2B, in both rows.
SAME_KEY = (
    "{m}.sid = {a}.segment_id AND {m}.cid = {a}.customer_id "
    "AND {m}.leid IS NOT DISTINCT FROM {a}.legal_entity_id"
)


# A rule's matches as `rule_matches_sql` compiles them: its base rows (customers, or B2B
# pairs joined to their customers), the pair it selects and its conditions.
MATCHES_SHAPE = re.compile(
    r'^SELECT (?P<cid>\S+) AS "cid", (?P<leid>\S+) AS "leid" FROM (?P<source>.+?) '
    r"WHERE (?P<where>.+)$",
    re.DOTALL,
)


def _level_matches(tenant: Tenant, rules: list[SegmentRule]) -> tuple[str, int]:
    """PostgreSQL: the SQL of the matches `(sid, cid, leid)` of `rules` among some
    customers, compiled once per set of rule texts, and how many times its parameter, the
    array of the customers' pks, appears in it.

    The rules over the same base rows are read in one scan of the customers' rows, each
    rule's conditions one `CASE` naming its segment: planning a thousand `WHERE`s of one
    scan costs a few milliseconds, where a `UNION ALL` of a thousand subqueries costs a
    third of a second. A rule of another shape (none today) is a branch of its own. The
    rules' parameters are written into the text (`compose_sql`, psycopg's own quoting), so
    a thousand rules are not a thousand parameters to bind at each change.
    """
    key = tuple((rule.q, rule.assign, rule.segment_id) for rule in rules)
    return _level_matches_sql(connection.vendor, tenant.pk, tenant.default_language, key)


@lru_cache(maxsize=256)
def _level_matches_sql(
    vendor: str, tenant_pk: str, default_language: str, rules: tuple[tuple[str, str, int], ...]
) -> tuple[str, int]:
    tenant = Tenant(pk=tenant_pk, default_language=default_language)
    scans: dict[tuple[str, str, str], list[tuple[int, str, Sequence[Any]]]] = {}
    parts: list[str] = []
    for q, assign, segment_pk in rules:
        sql, rule_params = rule_matches_sql(tenant=tenant, rule=RuleInput(q, assign, True))
        shape = MATCHES_SHAPE.match(sql)
        if shape is None:
            branch = connection.ops.compose_sql(sql, rule_params).replace("%", "%%")
            parts.append(
                f"SELECT {segment_pk}::bigint AS sid, r.cid, r.leid::bigint AS leid "
                f"FROM ({branch}) r WHERE r.cid = ANY(%s)"
            )
            continue
        key = (shape["cid"], shape["leid"], shape["source"])
        scans.setdefault(key, []).append((segment_pk, shape["where"], rule_params))
    for (cid, leid, source), members in scans.items():
        cases = ", ".join(
            f"CASE WHEN {connection.ops.compose_sql(where, rule_params).replace('%', '%%')} "
            f"THEN {int(segment_pk)}::bigint END"
            for segment_pk, where, rule_params in members
        )
        source_sql = source.replace("%", "%%")
        parts.append(
            f"SELECT x.sid, x.cid, x.leid FROM (SELECT {cid} AS cid, ({leid})::bigint AS leid, "
            f"unnest(ARRAY[{cases}]) AS sid FROM {source_sql} WHERE {cid} = ANY(%s)) x "
            "WHERE x.sid IS NOT NULL"
        )
    return " UNION ALL ".join(parts), len(parts)


def _levels_postgres(
    tenant: Tenant, levels: list[list[SegmentRule]], parts: list[list[int]]
) -> Evaluation:
    """Each level one statement (`_level_statement`): the level's matches of the customers
    (`_level_matches`), the AUTOMATIC rows no longer matching deleted, the missing not
    excluded inserted, and each change's event naming its rule.

    The statement of 1,000 rules is half a megabyte of SQL: parsing and planning it cost
    about 45 ms, running it about 5. So it is a prepared statement (`PREPARE`, run with a
    generic plan), named after its text, made once per connection and kept there
    (`RULES_PREPARED_STATEMENTS`): a change then runs `EXECUTE name(customers, now, now)`.
    Which statements this connection holds is asked in the same transaction as the
    `EXECUTE`s (`pg_prepared_statements`), so a transaction-pooling proxy, which keeps one
    server connection for a transaction, never sends one to a connection that lacks it. A
    changed rule, or set of rules, is another text, so another name: a statement is never
    run for another rule set than its own (the oldest are deallocated past PREPARED_KEPT).
    With the setting off each statement is prepared, run and deallocated in the
    transaction. Queries: one to ask, one per level and part, one to put `plan_cache_mode`
    back; plus one per statement to prepare.
    """
    statements = [_level_statement(tenant, rules) for rules in levels]
    keep = settings.RULES_PREPARED_STATEMENTS
    total = Evaluation()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "SELECT ARRAY(SELECT name FROM pg_prepared_statements WHERE name LIKE %s "
            "ORDER BY prepare_time), current_setting('plan_cache_mode'), "
            "set_config('plan_cache_mode', 'force_generic_plan', true)",
            [PREPARED_PREFIX + "%"],
        )
        held, plan_cache_mode, _ = cursor.fetchone()
        missing = list(dict.fromkeys(n for _, n in statements if not keep or n not in held))
        if keep:
            stale = [name for name in held if name not in {n for _, n in statements}]
            for name in stale[: max(0, len(held) + len(missing) - PREPARED_KEPT)]:
                cursor.execute(f"DEALLOCATE {name}")
        for text, name in dict(statements).items():
            if name in missing:
                cursor.execute(f"PREPARE {name} (bigint[], timestamptz, timestamptz) AS {text}")
        for part in parts:
            for _, name in statements:
                now = timezone.now()
                cursor.execute(
                    f"EXECUTE {name} (%s::bigint[], %s, %s)", [part, now, timezone.now()]
                )
                added, removed = cursor.fetchone()
                total += Evaluation(added=added, removed=removed)
        if not keep:
            for name in missing:
                cursor.execute(f"DEALLOCATE {name}")
        cursor.execute("SELECT set_config('plan_cache_mode', %s, true)", [plan_cache_mode])
    return total


# Prepared level statements are named PREPARED_PREFIX + a digest of their text; a connection
# keeps at most PREPARED_KEPT of them (the oldest go first).
PREPARED_PREFIX = "segments_rules_level_"
PREPARED_KEPT = 16


class _Arg(str):
    """A parameter of the prepared statement (`$1`), where the text has a `%s`."""


def _level_statement(tenant: Tenant, rules: list[SegmentRule]) -> tuple[str, str]:
    """The level's statement (`_levels_postgres`) for `PREPARE`, and its name: parameters
    $1 the changed customers' pks, $2 the assignments' and $3 the events' time; the
    tenant, the segments and the rules' own values written in. Kept per set of rule texts
    and segments, as `_level_matches`."""
    key = tuple((rule.q, rule.assign, rule.segment_id) for rule in rules)
    return _level_statement_sql(tenant.pk, tenant.default_language, key)


@lru_cache(maxsize=256)
def _level_statement_sql(
    tenant_pk: str, default_language: str, key: tuple[tuple[str, str, int], ...]
) -> tuple[str, str]:
    tenant = Tenant(pk=tenant_pk, default_language=default_language)
    rules = [SegmentRule(tenant=tenant, q=q, assign=a, segment_id=pk) for q, a, pk in key]
    q = connection.ops.quote_name
    assignments = q(CustomerAssignment._meta.db_table)
    exclusions = q(RuleExclusion._meta.db_table)
    union, scans = _level_matches(tenant, rules)
    pks, now, event_now = _Arg("$1"), _Arg("$2"), _Arg("$3")
    params: list[Any] = [pks] * scans
    events, event_params = event_rows_sql(
        CustomerAssignment,
        EventType.CUSTOMER_ASSIGNMENT_CREATED,
        source="(SELECT 0 AS k, g.* FROM gone_rows g UNION ALL SELECT 1, n.* FROM added_rows n)",
        type_sql=(
            f"CASE a.k WHEN 0 THEN '{EventType.CUSTOMER_ASSIGNMENT_DELETED.value}' "
            f"ELSE '{EventType.CUSTOMER_ASSIGNMENT_CREATED.value}' END"
        ),
        actor_sql="'rule:' || s.external_id",
        order_by="a.k, a.id",
        # Said again for the customers' join, so it reads them by key, not all of them.
        where="c.id = ANY(%s)",
    )
    event_params = [event_now]  # the event's time, its only parameter
    columns = (
        "tenant_id, segment_id, customer_id, legal_entity_id, assignment_type, mixins, "
        "metadata_mixins, version, created_at, modified_at"
    )
    sql = (
        f"WITH m AS MATERIALIZED ({union}), "
        # The stored rows are read by key, customer after customer (`OFFSET 0` keeps each
        # lookup a lookup): with no statistics on tenant_id the planner would otherwise
        # take the tenant's million assignments for a few thousand and scan them all.
        f"gone_rows AS (DELETE FROM {assignments} a WHERE a.id = ANY(ARRAY("
        f"SELECT d.id FROM unnest(%s::bigint[]) AS changed(id) CROSS JOIN LATERAL ("
        f"SELECT s.id, s.segment_id, s.customer_id, s.legal_entity_id FROM {assignments} s "
        f"WHERE s.tenant_id = %s AND s.customer_id = changed.id AND s.segment_id = ANY(%s) "
        f"AND s.assignment_type = %s OFFSET 0) d "
        f"WHERE NOT EXISTS (SELECT 1 FROM m WHERE {SAME_KEY.format(m='m', a='d')}))) "
        f"RETURNING a.*), "
        f"added_rows AS (INSERT INTO {assignments} ({columns}) "
        f"SELECT %s, m.sid, m.cid, m.leid, %s, '{{}}', '{{}}', 1, %s, %s FROM m "
        f"WHERE NOT EXISTS (SELECT 1 FROM {assignments} a WHERE a.tenant_id = %s "
        f"AND {SAME_KEY.format(m='m', a='a')} OFFSET 0) "
        f"AND NOT EXISTS (SELECT 1 FROM {exclusions} x WHERE x.tenant_id = %s "
        f"AND {SAME_KEY.format(m='m', a='x')} OFFSET 0) "
        f"ORDER BY m.sid, m.cid, m.leid RETURNING *), "
        f"logged AS ({events}) "
        f"SELECT (SELECT count(*) FROM added_rows), (SELECT count(*) FROM gone_rows)"
    )
    automatic = AssignmentType.AUTOMATIC.value
    params += [pks, tenant.pk, [rule.segment_id for rule in rules], automatic]
    params += [tenant.pk, automatic, now, now, tenant.pk, tenant.pk, *event_params, pks]
    pieces = sql.replace("%%", "\0").split("%s")
    if len(pieces) != len(params) + 1:  # pragma: no cover - a programming error
        raise AssertionError("the level statement's parameters do not match its text")
    text = [pieces[0]]
    for value, piece in zip(params, pieces[1:], strict=True):
        text.append(value if isinstance(value, _Arg) else connection.ops.compose_sql("%s", [value]))
        text.append(piece)
    statement = "".join(text).replace("\0", "%")
    digest = hashlib.blake2b(statement.encode(), digest_size=12).hexdigest()
    return statement, PREPARED_PREFIX + digest


# Elsewhere: this many rules' matches in one statement (SQLite allows 500 per compound).
RULES_PER_STATEMENT = 50


def _level_elsewhere(tenant: Tenant, rules: list[SegmentRule], pks: list[int]) -> Evaluation:
    """As `_levels_postgres`, in a few statements: the matches (a `UNION ALL` per
    RULES_PER_STATEMENT rules), the stored rows and exclusions of the customers, then the
    deletes, inserts and events of the difference."""
    from segments.services.customer_assignments import CUSTOMERS, customer_assignment_deleted_event

    chosen = json.dumps(pks)
    matched: set[tuple[int, int, int | None]] = set()
    for start in range(0, len(rules), RULES_PER_STATEMENT):
        branches, params = [], []
        for rule in rules[start : start + RULES_PER_STATEMENT]:
            sql, rule_params = rule_matches_sql(tenant=tenant, rule=rule)
            branches.append(
                f"SELECT %s AS sid, r.cid, r.leid FROM ({sql}) r "
                "WHERE r.cid IN (SELECT value FROM json_each(%s))"
            )
            params += [rule.segment_id, *rule_params, chosen]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(branches), params)
            matched.update((sid, cid, leid) for sid, cid, leid in cursor.fetchall())
    segment_pks = [rule.segment_id for rule in rules]
    stored = list(
        CustomerAssignment.objects.filter(
            tenant=tenant, segment_id__in=segment_pks, customer_id__in=pks
        )
        .select_related("segment", "customer", "legal_entity")
        .order_by("pk")
    )
    excluded = set(
        RuleExclusion.objects.filter(
            tenant=tenant, segment_id__in=segment_pks, customer_id__in=pks
        ).values_list("segment_id", "customer_id", "legal_entity_id")
    )
    held = {(row.segment_id, row.customer_id, row.legal_entity_id) for row in stored}
    gone = [
        row
        for row in stored
        if row.assignment_type == AssignmentType.AUTOMATIC
        and (row.segment_id, row.customer_id, row.legal_entity_id) not in matched
    ]
    fresh = sorted(matched - held - excluded, key=lambda k: (k[0], k[1], k[2] or 0))
    events = [_event(tenant, row.segment, *customer_assignment_deleted_event(row)) for row in gone]
    if gone:
        CustomerAssignment.objects.filter(tenant=tenant, pk__in=[row.pk for row in gone]).delete()
    if fresh:
        now = timezone.now()
        CustomerAssignment.objects.bulk_create(
            [
                CustomerAssignment(
                    tenant=tenant,
                    segment_id=sid,
                    customer_id=cid,
                    legal_entity_id=leid,
                    assignment_type=AssignmentType.AUTOMATIC,
                    mixins={},
                    metadata_mixins={},
                    version=1,
                    created_at=now,
                    modified_at=now,
                )
                for sid, cid, leid in fresh
            ]
        )
        keys = set(fresh)
        added = [
            row
            for row in CustomerAssignment.objects.filter(
                tenant=tenant,
                segment_id__in=segment_pks,
                customer_id__in=pks,
                assignment_type=AssignmentType.AUTOMATIC,
            )
            .select_related("segment", "customer", "legal_entity")
            .order_by("pk")
            if (row.segment_id, row.customer_id, row.legal_entity_id) in keys
        ]
        events += [
            _event(
                tenant,
                row.segment,
                EventType.CUSTOMER_ASSIGNMENT_CREATED,
                CUSTOMERS.resource_id(row.segment, CUSTOMERS.row_key(row)),
                CUSTOMERS.payload(row.segment, row),
            )
            for row in added
        ]
    rows_insert(events)
    return Evaluation(added=len(fresh), removed=len(gone))


def _event(
    tenant: Tenant, segment: Segment, type_: EventType, resource_id: str, payload: dict[str, Any]
) -> Event:
    return Event(
        tenant=tenant,
        type=type_,
        resource_id=resource_id,
        payload=payload,
        actor=f"rule:{segment.external_id}",
    )


def rules_after_group_assignments_written(
    *, tenant: Tenant, segment: Segment, group_pks: Sequence[int]
) -> None:
    """After groups were assigned to `segment`, or removed from it, in their transaction: the
    rules that read the segment follow the groups' members. One query when the tenant has
    no rule."""
    rules = tenant_rules_in_order(tenant=tenant)
    if not rules:
        return
    readers = _readers(rules, {segment.external_id})
    if not readers:
        return
    members = GroupMember.objects.filter(tenant=tenant, group_id__in=list(group_pks))
    pks = list(members.values_list("customer_id", flat=True).distinct())
    rules_evaluate_customers(tenant=tenant, rules=readers, customer_pks=pks)


# --- Exclusions ---------------------------------------------------------------------------


def rule_exclusions_add(
    *, tenant: Tenant, segment: Segment, rows: Iterable[CustomerAssignment]
) -> int:
    """Exclude from the segment's rule the keys of its deleted `AUTOMATIC` rows (it has one)."""
    automatic = [row for row in rows if row.assignment_type == AssignmentType.AUTOMATIC]
    if not automatic:
        return 0
    exclusions = [
        RuleExclusion(
            tenant=tenant,
            segment=segment,
            customer_id=row.customer_id,
            legal_entity_id=row.legal_entity_id,
        )
        for row in automatic
    ]
    RuleExclusion.objects.bulk_create(exclusions, ignore_conflicts=True)
    return len(exclusions)


def rule_exclusions_clear_for(
    *, tenant: Tenant, segment: Segment, rows: Iterable[CustomerAssignment]
) -> None:
    """A PUT made these assignments `MANUAL`: their keys are no longer excluded."""
    keys = [(row.customer_id, row.legal_entity_id) for row in rows]
    if not keys:
        return
    stale = RuleExclusion.objects.filter(
        tenant=tenant, segment=segment, customer_id__in={c for c, _ in keys}
    ).values_list("pk", "customer_id", "legal_entity_id")
    wanted = set(keys)
    doomed = [pk for pk, c, le in stale if (c, le) in wanted]
    if doomed:
        RuleExclusion.objects.filter(tenant=tenant, pk__in=doomed).delete()


@transaction.atomic
def rule_exclusions_delete(*, tenant: Tenant, exclusion_pks: Sequence[int]) -> int:
    """Clear exclusions (the admin's action); their customers are evaluated again."""
    rows = list(
        RuleExclusion.objects.filter(tenant=tenant, pk__in=list(exclusion_pks)).select_related(
            "segment"
        )
    )
    RuleExclusion.objects.filter(tenant=tenant, pk__in=[row.pk for row in rows]).delete()
    for segment_pk in {row.segment_id for row in rows}:
        rule = SegmentRule.objects.filter(tenant=tenant, segment_id=segment_pk, enabled=True)
        for found in rule.select_related("segment"):
            rule_evaluate(
                tenant=tenant,
                rule=found,
                customer_pks=[row.customer_id for row in rows if row.segment_id == segment_pk],
            )
    return len(rows)


# --- The statements -------------------------------------------------------------------------


def _apply(
    tenant: Tenant,
    segment: Segment,
    *,
    matches: tuple[str, Sequence[Any]] | None,
    assign: str,
) -> Evaluation:
    """Delete the AUTOMATIC rows not in `matches` (None: every one), insert the missing."""
    q = connection.ops.quote_name
    assignments = q(CustomerAssignment._meta.db_table)
    exclusions = q(RuleExclusion._meta.db_table)
    b2b = assign == SegmentRule.Assign.B2B

    key = "m.cid = a.customer_id AND " + (
        "a.legal_entity_id = m.leid" if b2b else "a.legal_entity_id IS NULL"
    )
    doomed = "a.tenant_id = %s AND a.segment_id = %s AND a.assignment_type = %s"
    doomed_params: list[Any] = [tenant.pk, segment.pk, AssignmentType.AUTOMATIC.value]
    if matches is not None:
        match_sql, match_params = matches
        doomed += f" AND NOT EXISTS (SELECT 1 FROM ({match_sql}) m WHERE {key})"
        doomed_params += list(match_params)
    removed = _delete(tenant, assignments, doomed, doomed_params)
    if matches is None:
        return Evaluation(removed=removed)

    now = timezone.now()
    excluded = "x.customer_id = m.cid AND " + (
        "x.legal_entity_id = m.leid" if b2b else "x.legal_entity_id IS NULL"
    )
    missing = (
        f"SELECT %s, %s, m.cid, {'m.leid' if b2b else 'NULL'}, %s, '{{}}', '{{}}', 1, %s, %s "
        f"FROM ({match_sql}) m "
        f"WHERE NOT EXISTS (SELECT 1 FROM {assignments} a "
        f"WHERE a.tenant_id = %s AND a.segment_id = %s AND {key}) "
        f"AND NOT EXISTS (SELECT 1 FROM {exclusions} x "
        f"WHERE x.tenant_id = %s AND x.segment_id = %s AND {excluded}) ORDER BY m.cid, m.leid"
    )
    missing_params = [
        tenant.pk,
        segment.pk,
        AssignmentType.AUTOMATIC.value,
        now,
        now,
        *match_params,
        tenant.pk,
        segment.pk,
        tenant.pk,
        segment.pk,
    ]
    columns = (
        "tenant_id, segment_id, customer_id, legal_entity_id, assignment_type, mixins, "
        "metadata_mixins, version, created_at, modified_at"
    )
    added = _insert(tenant, assignments, columns, missing, missing_params)
    return Evaluation(added=added, removed=removed)


def _delete(tenant: Tenant, table: str, where: str, params: list[Any]) -> int:
    if connection.vendor == "postgresql":
        events, event_params = event_rows_sql(
            CustomerAssignment, EventType.CUSTOMER_ASSIGNMENT_DELETED, source="gone_rows"
        )
        sql = f"WITH gone_rows AS (DELETE FROM {table} a WHERE {where} RETURNING a.*) {events}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *event_params])
            return cursor.rowcount
    from segments.services.customer_assignments import customer_assignment_deleted_event

    pks_sql = f"SELECT a.id FROM {table} a WHERE {where}"
    with connection.cursor() as cursor:
        cursor.execute(pks_sql, params)
        pks = [row[0] for row in cursor.fetchall()]
    for start in range(0, len(pks), BATCH):
        chunk = pks[start : start + BATCH]
        rows = (
            CustomerAssignment.objects.filter(pk__in=chunk)
            .select_related("segment", "customer", "legal_entity")
            .order_by("pk")
        )
        events_record(
            tenant=tenant, events=[customer_assignment_deleted_event(row) for row in rows]
        )
        CustomerAssignment.objects.filter(pk__in=chunk).delete()
    return len(pks)


def _insert(tenant: Tenant, table: str, columns: str, select: str, params: list[Any]) -> int:
    if connection.vendor == "postgresql":
        events, event_params = event_rows_sql(
            CustomerAssignment, EventType.CUSTOMER_ASSIGNMENT_CREATED, source="added_rows"
        )
        sql = f"WITH added_rows AS (INSERT INTO {table} ({columns}) {select} RETURNING *) {events}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *event_params])
            return cursor.rowcount
    from segments.services.customer_assignments import CUSTOMERS

    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select} RETURNING id", params)
        pks = sorted(row[0] for row in cursor.fetchall())
    for start in range(0, len(pks), BATCH):
        rows = list(
            CustomerAssignment.objects.filter(pk__in=pks[start : start + BATCH])
            .select_related("segment", "customer", "legal_entity")
            .order_by("pk")
        )
        events_record(
            tenant=tenant,
            events=[
                (
                    EventType.CUSTOMER_ASSIGNMENT_CREATED,
                    CUSTOMERS.resource_id(row.segment, CUSTOMERS.row_key(row)),
                    CUSTOMERS.payload(row.segment, row),
                )
                for row in rows
            ],
        )
    return len(pks)


def customers_of_legal_entities(*, tenant: Tenant, legal_entity_pks: Iterable[int]) -> list[int]:
    """The customers belonging to some legal entities (whose rules a change may move)."""
    return list(
        CustomerLegalEntity.objects.filter(
            tenant=tenant, legal_entity_id__in=list(legal_entity_pks)
        ).values_list("customer_id", flat=True)
    )

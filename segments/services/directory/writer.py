"""Writing checked directory records in batches: rows, parents, memberships, in dependency order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import DatabaseError, connection, models, transaction

from segments.choices import GroupUserType
from segments.models import (
    Category,
    Customer,
    CustomerLegalEntity,
    GroupAssignment,
    GroupMember,
    LegalEntity,
    Product,
    ProductCategory,
)
from segments.services.changes import changes_note
from segments.services.directory.records import (
    DEFAULT_BATCH_SIZE,
    IDS_PER_LOOKUP,
    KINDS,
    MEMBERSHIPS_PER_STATEMENT,
    DirectoryRecord,
    ImportReport,
    RecordError,
)
from segments.services.directory.validation import (
    KIND_MODELS,
    CheckedRow,
    record_check,
)
from segments.services.group_assignments import group_assignments_prune
from segmentservice.db import tables_analyze
from tenants.models import Tenant


def directory_import(
    *,
    tenant: Tenant,
    records: Iterable[DirectoryRecord],
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Upsert the records into the tenant's directory; returns what was written and skipped."""
    report = ImportReport()
    progress = progress or (lambda n: None)
    by_kind: dict[str, list[CheckedRow]] = {kind: [] for kind in KINDS}
    for record in records:
        try:
            row = record_check(record, tenant.default_language, report)
        except RecordError as exc:
            report.skip(record, str(exc))
            progress(1)
            continue
        by_kind[record.kind].append(row)
    for kind in KINDS:
        rows = _last_wins(by_kind[kind], progress)
        if kind == "categories":
            rows = _tree_order(tenant, rows, report, progress)
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            _write_batch(tenant, kind, batch, report)
            progress(len(batch))
    # A big load into tables other tenants fill too: fresh statistics for its plans.
    tables_analyze(
        [Customer, LegalEntity, CustomerLegalEntity, Category, Product, ProductCategory],
        rows=sum(report.written.values()),
    )
    return report


def _last_wins(rows: list[CheckedRow], progress: Callable[[int], Any]) -> list[CheckedRow]:
    """One row per id: a later record of the same id replaces an earlier one."""
    latest: dict[str, CheckedRow] = {}
    for row in rows:
        if row.external_id in latest:
            progress(1)
        latest[row.external_id] = row
    return list(latest.values())


def _tree_order(
    tenant: Tenant, rows: list[CheckedRow], report: ImportReport, progress
) -> list[CheckedRow]:
    """Categories with parents before children; a missing parent or a cycle skips a record.

    A category's parent is the file's `parentId` once that record is accepted, else the
    stored parent. Records are accepted in file order: when a cycle appears, the record of
    the cycle that comes last in the file is skipped, and a category whose parent is
    skipped (and not stored already) is skipped too.
    """
    stored = dict(
        Category.objects.filter(tenant=tenant).values_list("external_id", "parent__external_id")
    )
    in_file = {row.external_id: row for row in rows}
    accepted: dict[str, bool] = {}  # file category → accepted (True) or skipped (False)

    def parent_of(node: str) -> str | None:
        row = in_file.get(node)
        if row is not None and row.has_parent and accepted.get(node) is not False:
            return row.parent
        return stored.get(node)

    def refuse(node: str, message: str) -> None:
        accepted[node] = False
        report.skip(in_file[node].record, message)
        progress(1)

    ordered: list[CheckedRow] = []
    for row in rows:
        while row.external_id not in accepted:
            # Walk up to a root or an accepted category; a cycle or a hole refuses one record.
            path: list[str] = []
            node: str | None = row.external_id
            while node is not None and not accepted.get(node, False):
                if node in path:
                    cycle = path[path.index(node) :]
                    undecided = [n for n in cycle if n in in_file and n not in accepted]
                    victim = max(undecided, key=lambda n: in_file[n].record.index)
                    turn = cycle.index(victim)
                    loop = [*cycle[turn:], *cycle[:turn], victim]
                    refuse(victim, f"parentId makes a cycle: {' → '.join(loop)}.")
                    break
                if node not in in_file and node not in stored:
                    refuse(
                        path[-1],
                        f"parentId {node} is not a category of this file or of the tenant.",
                    )
                    break
                path.append(node)
                node = parent_of(node)
            else:
                # Decide from the top down, so that parents come before their children.
                for member in reversed(path):
                    if member not in in_file or member in accepted:
                        continue
                    parent = parent_of(member)
                    if parent is None or accepted.get(parent, False) or parent in stored:
                        accepted[member] = True
                        ordered.append(in_file[member])
                    else:
                        refuse(member, f"its parent {parent} was skipped.")
    return ordered


def _write_batch(tenant: Tenant, kind: str, rows: list[CheckedRow], report: ImportReport) -> None:
    """Write one batch in one transaction; if the database refuses it, record by record."""
    rows = _resolve_references(tenant, kind, rows, report)
    if not rows:
        return
    try:
        with transaction.atomic():
            _write_rows(tenant, kind, rows)
        report.written[kind] += len(rows)
        return
    except (DatabaseError, RecordError):
        pass
    for row in rows:
        try:
            with transaction.atomic():
                _write_rows(tenant, kind, [row])
            report.written[kind] += 1
        except RecordError as exc:
            report.skip(row.record, str(exc))
        except DatabaseError as exc:
            report.skip(row.record, f"the database refused it: {str(exc).strip()}")


def _resolve_references(
    tenant: Tenant, kind: str, rows: list[CheckedRow], report: ImportReport
) -> list[CheckedRow]:
    """Check that a batch's references exist; rows naming unknown ones are skipped."""
    if kind == "groups":
        return _resolve_group_references(tenant, rows, report)
    if kind not in ("customers", "products"):
        return rows
    target = LegalEntity if kind == "customers" else Category
    wanted = {ref for row in rows for ref in row.references or ()}
    known = set(_pks_by_external_id(tenant, target, wanted))
    noun = "legal entit(ies)" if kind == "customers" else "categor(ies)"
    kept = []
    for row in rows:
        missing = [ref for ref in row.references or () if ref not in known]
        if missing:
            key = "legalEntities" if kind == "customers" else "categories"
            report.skip(row.record, f"{key}: unknown {noun} {', '.join(missing)}.")
        else:
            kept.append(row)
    return kept


def _resolve_group_references(
    tenant: Tenant, rows: list[CheckedRow], report: ImportReport
) -> list[CheckedRow]:
    """A group's members must be customers, its legalEntityId a legal entity, of the tenant.

    The legal entity's pk goes into the row's values (null unbinds the group).
    """
    customers = set(
        _pks_by_external_id(tenant, Customer, {ref for row in rows for ref in row.references or ()})
    )
    legal_entities = _pks_by_external_id(
        tenant, LegalEntity, {row.parent for row in rows if row.parent}
    )
    kept = []
    for row in rows:
        problems = []
        missing = [ref for ref in row.references or () if ref not in customers]
        if missing:
            problems.append(f"members: unknown customer(s) {', '.join(missing)}.")
        if row.parent and row.parent not in legal_entities:
            problems.append(f"legalEntityId: unknown legal entity {row.parent}.")
        if problems:
            report.skip(row.record, " ".join(problems))
            continue
        if row.has_parent:
            row.values["legal_entity_id"] = legal_entities[row.parent] if row.parent else None
        kept.append(row)
    return kept


def _write_rows(tenant: Tenant, kind: str, rows: list[CheckedRow]) -> None:
    changes_note(tenant=tenant)  # no events: the change counter needs telling
    model = KIND_MODELS[kind]
    # Rows giving the same keys are upserted together: a key left out is left alone.
    groups: dict[frozenset[str], list[CheckedRow]] = {}
    for row in rows:
        groups.setdefault(frozenset(row.values), []).append(row)
    for columns, group in groups.items():
        objects = [model(tenant=tenant, external_id=row.external_id, **row.values) for row in group]
        model.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["tenant", "external_id"],
            update_fields=sorted(columns) or ["external_id"],
        )
        for row, obj in zip(group, objects, strict=True):
            row.pk = obj.pk
    if any(row.pk is None for row in rows):  # a backend that returns no ids from upserts
        pks = dict(
            model.objects.filter(
                tenant=tenant, external_id__in=[row.external_id for row in rows]
            ).values_list("external_id", "pk")
        )
        for row in rows:
            row.pk = pks[row.external_id]
    if kind == "categories":
        _write_parents(tenant, rows)
    elif kind == "customers":
        _write_memberships(
            tenant, rows, CustomerLegalEntity, "customer", "legal_entity", LegalEntity
        )
    if kind in ("customers", "legalEntities"):
        _rules_follow(tenant, kind, rows)
    elif kind == "products":
        _write_memberships(tenant, rows, ProductCategory, "product", "category", Category)
    elif kind == "groups":
        before = _group_members(tenant, rows)
        _write_memberships(tenant, rows, GroupMember, "group", "customer", Customer)
        # A group that no longer holds customers loses its assignments, with their events.
        employees = [
            row.pk for row in rows if row.values.get("user_type") == GroupUserType.EMPLOYEE
        ]
        if employees:
            group_assignments_prune(
                tenant=tenant, assignments=GroupAssignment.objects.filter(group__in=employees)
            )
        # Members added or removed, or a user type changed: a rule may read `groups.id`.
        _rules_follow_customers(tenant, before | _group_members(tenant, rows))


def _group_members(tenant: Tenant, rows: list[CheckedRow]) -> set[int]:
    """The customer pks in the batch's groups."""
    return set(
        GroupMember.objects.filter(
            tenant=tenant, group_id__in=[row.pk for row in rows if row.pk is not None]
        ).values_list("customer_id", flat=True)
    )


def _rules_follow(tenant: Tenant, kind: str, rows: list[CheckedRow]) -> None:
    """The tenant's rules re-read the customers the batch changed, in its transaction."""
    # Imported here: the rules service builds on the assignment services, not on this one.
    from segments.services.rules import customers_of_legal_entities, rules_customers_changed

    pks = [row.pk for row in rows if row.pk is not None]
    if kind == "legalEntities":
        pks = customers_of_legal_entities(tenant=tenant, legal_entity_pks=pks)
    rules_customers_changed(tenant=tenant, customer_pks=pks)


def _rules_follow_customers(tenant: Tenant, customer_pks: Iterable[int]) -> None:
    """The tenant's rules re-read these customers, in the batch's transaction."""
    from segments.services.rules import rules_customers_changed

    rules_customers_changed(tenant=tenant, customer_pks=customer_pks)


def _write_parents(tenant: Tenant, rows: list[CheckedRow]) -> None:
    changing = [row for row in rows if row.has_parent]
    if not changing:
        return
    parents = _pks_by_external_id(tenant, Category, (row.parent for row in changing if row.parent))
    missing = [row.parent for row in changing if row.parent and row.parent not in parents]
    if missing:
        raise RecordError(f"its parent {missing[0]} was not written.")
    updates = [
        Category(pk=row.pk, parent_id=parents[row.parent] if row.parent else None)
        for row in changing
    ]
    Category.objects.bulk_update(updates, ["parent"])


def _write_memberships(
    tenant: Tenant,
    rows: list[CheckedRow],
    through: type[models.Model],
    owner: str,
    member: str,
    member_model: type[models.Model],
) -> None:
    """Make the memberships of the rows that list them (categories, legal entities) be those.

    Only the difference is written, so re-importing an unchanged file writes no memberships.
    """
    listing = [row for row in rows if row.references is not None]
    if not listing:
        return
    wanted_ids = {ref for row in listing for ref in row.references}
    pks = _pks_by_external_id(tenant, member_model, wanted_ids)
    missing = wanted_ids - set(pks)
    if missing:
        raise RecordError(f"unknown id(s) {', '.join(sorted(missing))}.")
    wanted = {(row.pk, pks[ref]) for row in listing for ref in row.references}
    existing = {
        (owner_pk, member_pk): pk
        for pk, owner_pk, member_pk in through.objects.filter(
            tenant=tenant, **{f"{owner}_id__in": [row.pk for row in listing]}
        ).values_list("pk", f"{owner}_id", f"{member}_id")
    }
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    for start in range(0, len(stale), IDS_PER_LOOKUP):
        through.objects.filter(tenant=tenant, pk__in=stale[start : start + IDS_PER_LOOKUP]).delete()
    _insert_pairs(tenant, through, owner, member, sorted(wanted - set(existing)))


def _insert_pairs(
    tenant: Tenant,
    through: type[models.Model],
    owner: str,
    member: str,
    pairs: list[tuple[int, int]],
) -> None:
    """Insert (owner pk, member pk) rows of a membership table."""
    if not pairs:
        return
    if connection.vendor == "postgresql":
        # Two array parameters instead of three per row, and no model instances: this is
        # most of an import's rows, and the ORM's per-row cost dominated its time.
        table = connection.ops.quote_name(through._meta.db_table)
        columns = ", ".join(
            connection.ops.quote_name(through._meta.get_field(name).column)
            for name in ("tenant", owner, member)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                "SELECT %s, pair.o, pair.m FROM unnest(%s::bigint[], %s::bigint[]) AS pair(o, m)",
                [tenant.pk, [o for o, _ in pairs], [m for _, m in pairs]],
            )
        return
    through.objects.bulk_create(
        batch_size=MEMBERSHIPS_PER_STATEMENT,
        objs=[
            through(tenant=tenant, **{f"{owner}_id": owner_pk, f"{member}_id": member_pk})
            for owner_pk, member_pk in pairs
        ],
    )


def _pks_by_external_id(
    tenant: Tenant, model: type[models.Model], external_ids: Iterable[str]
) -> dict[str, int]:
    """external id → pk of those of the tenant's rows that exist, in a few lookups."""
    wanted = sorted(set(external_ids))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), IDS_PER_LOOKUP):
        chunk = wanted[start : start + IDS_PER_LOOKUP]
        found.update(
            model.objects.filter(tenant=tenant, external_id__in=chunk).values_list(
                "external_id", "pk"
            )
        )
    return found

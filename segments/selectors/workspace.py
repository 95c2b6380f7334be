"""Reads behind the segment workspace of the admin: members, pasted ids, overlap, history.

Each selector costs a fixed number of queries whatever the number of rows: members and
history are read a page at a time, pasted ids are resolved in chunks of one query per
`RESOLVE_CHUNK` ids, and the overlap of up to five segments is one query.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    Case,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.fields import BooleanField
from django.db.models.functions import Lower, RowNumber

from segments.choices import AssignmentType, EventType, GroupUserType, ItemType
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    Event,
    Group,
    GroupAssignment,
    GroupMember,
    ItemAssignment,
    LegalEntity,
    Product,
    Segment,
)
from segments.selectors.membership import INHERITED, segment_memberships
from segmentservice.fields import JSONField
from tenants.models import Tenant


class AnyOf(Func):
    """PostgreSQL's `column = ANY(%s)` with the values as one array parameter."""

    template = "%(expressions)s = ANY(%%s)"
    output_field = BooleanField()
    conditional = True

    def __init__(self, expression, values: list[Any]) -> None:
        super().__init__(expression)
        self.values = values

    def as_sql(self, compiler, connection, **extra):
        sql, params = super().as_sql(compiler, connection, **extra)
        return sql, (*params, self.values)


RESOLVE_CHUNK = 900  # ids per lookup query: under SQLite's 999 bound parameters
OVERLAP_MAX = 5
_SEPARATORS = re.compile(r"[\s,;]+")
_ID_COLUMNS = ("customerid", "customer_id", "id", "email", "code", "itemid", "item_id")


# --- members and items -----------------------------------------------------------------------


def segment_members(*, tenant: Tenant, segment: Segment, search: str = "") -> QuerySet:
    """Everyone in the segment, by customer id: manual, rule-made and inherited through a
    group (`segments.selectors.membership.segment_memberships`, dicts); `member_rows`
    turns a page of them into rows.

    `search` matches an id prefix, or a part of the first name, last name or e-mail; every
    word must match.
    """
    return segment_memberships(tenant=tenant, segment_pk=segment.pk, search=search)


@dataclass(frozen=True)
class MemberRow:
    """One line of a segment's members: the customer, for which legal entity, and how."""

    customer: Customer
    legal_entity_id: str | None
    legal_entity: str  # "Schmidt GmbH (le-1)", or "" for none
    how: str  # MANUAL, AUTOMATIC or GROUP
    group_id: str  # the group's id when inherited
    group_name: str
    since: Any

    @property
    def customer_id(self) -> int:
        return self.customer.pk

    @property
    def assignment_type(self) -> str:
        return self.how

    @property
    def inherited(self) -> bool:
        return self.how == INHERITED

    @property
    def label(self) -> str:
        """`manual`, `rule` or `inherited (group Wholesale)`."""
        if self.how == INHERITED:
            return f"inherited (group {self.group_name or self.group_id})"
        return "rule" if self.how == AssignmentType.AUTOMATIC else "manual"


def member_rows(*, tenant: Tenant, page: Iterable[dict[str, Any]]) -> list[MemberRow]:
    """A page of `segment_members` as rows, the groups named (one query at most)."""
    page = list(page)
    group_ids = {row["group_external_id"] for row in page if row["how"] == INHERITED}
    names: dict[str, str] = {}
    if group_ids:
        language = tenant.default_language
        for external_id, name in Group.objects.filter(
            tenant=tenant, external_id__in=group_ids
        ).values_list("external_id", "name"):
            name = name or {}
            names[external_id] = name.get(language) or next((t for t in name.values() if t), "")
    rows = []
    for row in page:
        legal_id, legal_name = row["legal_entity_external_id"], row["legal_entity_name"]
        rows.append(
            MemberRow(
                customer=Customer(
                    pk=row["customer_pk"],
                    tenant_id=tenant.pk,
                    external_id=row["customer_external_id"],
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    email=row["email"],
                ),
                legal_entity_id=legal_id,
                legal_entity=(f"{legal_name} ({legal_id})" if legal_name else legal_id)
                if legal_id
                else "",
                how=row["how"],
                group_id=row["group_external_id"],
                group_name=names.get(row["group_external_id"], ""),
                since=row["since"],
            )
        )
    return rows


def segment_items(
    *, tenant: Tenant, segment: Segment, search: str = "", type: str | None = None
) -> QuerySet:
    """The segment's item assignments, products and categories joined, by type and id.

    `search` matches an id or code prefix, or a part of the name (any language).
    """
    rows = ItemAssignment.objects.filter(tenant=tenant, segment=segment).select_related(
        "product", "category"
    )
    if type in ItemType.values:
        rows = rows.filter(type=type)
    for word in search.split():
        rows = rows.filter(
            Q(product__external_id__startswith=word)
            | Q(product__code__istartswith=word)
            | Q(category__external_id__startswith=word)
            | Q(category__code__istartswith=word)
            | Q(product__name__icontains=word)
            | Q(category__name__icontains=word)
        )
    return rows.order_by("type", "product__external_id", "category__external_id", "pk")


def pasted_tokens(text: str = "", upload: bytes | None = None) -> list[str]:
    """The ids or e-mails a merchandiser pasted or uploaded, in order, each once.

    Pasted text is split on whitespace, commas and semicolons. A CSV file contributes its
    first column, or the column headed `customerId`, `id`, `email` or `code` when it has one
    (a header row is recognised by such a name and skipped).
    """
    tokens: list[str] = []
    if text:
        tokens.extend(token for token in _SEPARATORS.split(text) if token)
    if upload:
        decoded = upload.decode("utf-8-sig", errors="replace")
        rows = list(csv.reader(io.StringIO(decoded)))
        column = 0
        if rows:
            header = [cell.strip().lower() for cell in rows[0]]
            named = next((header.index(name) for name in _ID_COLUMNS if name in header), None)
            if named is not None:
                column, rows = named, rows[1:]
        tokens.extend(
            row[column].strip() for row in rows if len(row) > column and row[column].strip()
        )
    return list(dict.fromkeys(tokens))


@dataclass
class Resolution:
    """What pasted tokens name: the records found (in paste order), the tokens that name none."""

    found: list[Any] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    members: set[int] = field(default_factory=set)  # pks of found records already in the segment

    @property
    def new(self) -> list[Any]:
        """The found records not in the segment yet."""
        return [row for row in self.found if row.pk not in self.members]

    @property
    def present(self) -> list[Any]:
        """The found records already in the segment."""
        return [row for row in self.found if row.pk in self.members]


class FoundCustomer(NamedTuple):
    """A customer a pasted token names, as the preview shows it (`Anna Schmidt (c-1)`)."""

    pk: int
    external_id: str
    first_name: str
    last_name: str
    email: str

    def __str__(self) -> str:
        full_name = f"{self.first_name} {self.last_name}".strip()
        return f"{full_name} ({self.external_id})" if full_name else self.external_id


_FOUND_COLUMNS = ("pk", "external_id", "first_name", "last_name", "email")


def customers_resolve(*, tenant: Tenant, segment: Segment, tokens: Sequence[str]) -> Resolution:
    """The customers pasted tokens name, by id or by e-mail (any case), and which are members.

    Set-based: on PostgreSQL one query per kind of token, the tokens passed as one array;
    elsewhere one query per `RESOLVE_CHUNK` tokens. Rows are read as tuples, not models.
    """
    by_id: dict[str, FoundCustomer] = {}
    by_email: dict[str, FoundCustomer] = {}
    ids = [token for token in tokens if "@" not in token]
    emails = [token.lower() for token in tokens if "@" in token]
    base = Customer.objects.filter(tenant=tenant)
    for chunk in _array_chunks(ids):
        rows = base.filter(_in("external_id", chunk)).values_list(*_FOUND_COLUMNS)
        by_id.update((row[1], FoundCustomer(*row)) for row in rows)
    for chunk in _array_chunks(emails):
        rows = (
            base.annotate(email_lower=Lower("email"))
            .filter(_in("email_lower", chunk))
            .order_by("pk")
            .values_list(*_FOUND_COLUMNS)
        )
        for row in rows:
            by_email.setdefault(row[4].lower(), FoundCustomer(*row))
    resolution = Resolution()
    seen: set[int] = set()
    for token in tokens:
        customer = by_email.get(token.lower()) if "@" in token else by_id.get(token)
        if customer is None:
            resolution.unknown.append(token)
        elif customer.pk not in seen:
            seen.add(customer.pk)
            resolution.found.append(customer)
    pks = [customer.pk for customer in resolution.found]
    for chunk in _array_chunks(pks):
        resolution.members.update(
            CustomerAssignment.objects.filter(tenant=tenant, segment=segment)
            .filter(_in("customer_id", chunk))
            .values_list("customer_id", flat=True)
            .distinct()
        )
    return resolution


def _array_chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """All the values at once on PostgreSQL (one array parameter), else `_chunks`."""
    if connection.vendor == "postgresql":
        if values:
            yield values
        return
    yield from _chunks(values)


def _in(column: str, values: Sequence[Any]) -> Q:
    """`column IN values`: on PostgreSQL `= ANY(%s)`, one array parameter however many
    values (an IN list of 50,000 placeholders costs seconds to build and to parse)."""
    if connection.vendor == "postgresql":
        return Q(AnyOf(F(column), list(values)))
    return Q(**{f"{column}__in": values})


def items_resolve(
    *, tenant: Tenant, segment: Segment, type: ItemType, tokens: Sequence[str]
) -> Resolution:
    """The products or categories pasted tokens name, by id or by code, and which are assigned."""
    model = Product if type == ItemType.PRODUCT else Category
    fk = "product" if type == ItemType.PRODUCT else "category"
    base = model.objects.filter(tenant=tenant).only("pk", "external_id", "code", "name")
    by_id: dict[str, Any] = {}
    by_code: dict[str, Any] = {}
    for chunk in _chunks(list(tokens)):
        for row in base.filter(Q(external_id__in=chunk) | Q(code__in=chunk)):
            by_id[row.external_id] = row
            if row.code:
                by_code.setdefault(row.code, row)
    resolution = Resolution()
    seen: set[int] = set()
    for token in tokens:
        row = by_id.get(token) or by_code.get(token)
        if row is None:
            resolution.unknown.append(token)
        elif row.pk not in seen:
            seen.add(row.pk)
            resolution.found.append(row)
    for chunk in _chunks([row.pk for row in resolution.found]):
        resolution.members.update(
            ItemAssignment.objects.filter(
                tenant=tenant, segment=segment, **{f"{fk}__in": chunk}
            ).values_list(f"{fk}_id", flat=True)
        )
    return resolution


def members_csv_rows(*, tenant: Tenant, segment: Segment) -> Iterator[list[str]]:
    """The segment's members as CSV rows (a header first), read in chunks as they are written:
    its assignments (`MANUAL` or `AUTOMATIC`) and the members of its groups (`GROUP`, with the
    group's id), as the members page lists them (`segment_memberships`)."""
    yield [
        "customerId",
        "firstName",
        "lastName",
        "email",
        "legalEntityId",
        "assignmentType",
        "groupId",
        "createdAt",
    ]
    rows = segment_memberships(tenant=tenant, segment_pk=segment.pk)
    for row in rows.iterator(2000):
        yield [
            row["customer_external_id"],
            row["first_name"],
            row["last_name"],
            row["email"],
            row["legal_entity_external_id"] or "",
            row["how"],
            row["group_external_id"],
            row["since"].isoformat(),
        ]


def items_csv_rows(*, tenant: Tenant, segment: Segment) -> Iterator[list[str]]:
    """The segment's products and categories as CSV rows (a header first), read in chunks."""
    language = tenant.default_language
    yield ["type", "itemId", "code", "name", "createdAt"]
    rows = (
        ItemAssignment.objects.filter(tenant=tenant, segment=segment)
        .order_by("type", "product__external_id", "category__external_id", "pk")
        .values_list(
            "type",
            "product__external_id",
            "product__code",
            "product__name",
            "category__external_id",
            "category__code",
            "category__name",
            "created_at",
        )
    )
    for kind, p_id, p_code, p_name, c_id, c_code, c_name, created in rows.iterator(2000):
        product = kind == ItemType.PRODUCT
        name = (p_name if product else c_name) or {}
        text = name.get(language) or next((t for t in name.values() if t), "")
        yield [
            kind,
            p_id if product else c_id,
            (p_code if product else c_code) or "",
            text,
            created.isoformat(),
        ]


def site_codes(*, tenant: Tenant) -> list[str]:
    """The site codes the tenant's segments use, in order (one query)."""
    return list(
        Segment.objects.filter(tenant=tenant)
        .order_by("site_code")
        .values_list("site_code", flat=True)
        .distinct()
    )


def customer_segments(*, tenant: Tenant, customer: Customer) -> QuerySet:
    """The customer's assignments with their segments (and legal entities), by segment id."""
    return (
        CustomerAssignment.objects.filter(tenant=tenant, customer=customer)
        .select_related("segment", "legal_entity")
        .order_by("segment__external_id", "legal_entity__external_id", "pk")
    )


def customer_group_segments(*, tenant: Tenant, customer: Customer) -> QuerySet:
    """The group assignments through which the customer is in segments (any legal entity
    binding: the page shows the bound legal entity), with segments and groups, by segment id."""
    return (
        GroupAssignment.objects.filter(
            tenant=tenant,
            group__user_type=GroupUserType.CUSTOMER,
            group__in=GroupMember.objects.filter(tenant=tenant, customer=customer).values(
                "group_id"
            ),
        )
        .select_related("segment", "group", "group__legal_entity")
        .order_by("segment__external_id", "group__external_id", "pk")
    )


# --- overlap ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    """How many customers two to five segments share.

    `sizes[i]` counts segment i's distinct customers, `pairs[(i, j)]` those in both i and j,
    `all` those in every one, `union` those in any.
    """

    segments: list[Segment]
    sizes: list[int]
    pairs: dict[tuple[int, int], int]
    all: int
    union: int


def segments_overlap(*, tenant: Tenant, segments: Sequence[Segment]) -> Overlap:
    """Sizes and pairwise and total intersections of 2-5 segments, in one query.

    Each customer gets a bit mask of the segments they are in; the query counts customers
    per mask (at most 31 rows) and the intersections are sums over the masks.
    """
    segments = list(segments)
    if not 2 <= len(segments) <= OVERLAP_MAX:
        raise ValueError(f"choose 2 to {OVERLAP_MAX} segments")
    table = connection.ops.quote_name(CustomerAssignment._meta.db_table)
    bits = " ".join(f"WHEN %s THEN {1 << i}" for i in range(len(segments)))
    placeholders = ", ".join(["%s"] * len(segments))
    sql = (
        f"SELECT mask, COUNT(*) FROM ("
        f" SELECT customer_id, SUM(CASE segment_id {bits} ELSE 0 END) AS mask FROM ("
        f"  SELECT DISTINCT customer_id, segment_id FROM {table}"
        f"  WHERE tenant_id = %s AND segment_id IN ({placeholders})"
        f" ) AS memberships GROUP BY customer_id"
        f") AS masks GROUP BY mask"
    )
    pks = [segment.pk for segment in segments]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*pks, tenant.pk, *pks])
        counts = {int(mask): int(n) for mask, n in cursor.fetchall()}
    n = len(segments)
    full = (1 << n) - 1

    def having(required: int) -> int:
        return sum(count for mask, count in counts.items() if mask & required == required)

    return Overlap(
        segments=segments,
        sizes=[having(1 << i) for i in range(n)],
        pairs={(i, j): having((1 << i) | (1 << j)) for i in range(n) for j in range(i + 1, n)},
        all=having(full),
        union=sum(counts.values()),
    )


# --- history ---------------------------------------------------------------------------------


HISTORY_KINDS = {
    "segment": (EventType.SEGMENT_CREATED, EventType.SEGMENT_UPDATED, EventType.SEGMENT_DELETED),
    "customers": (
        EventType.CUSTOMER_ASSIGNMENT_CREATED,
        EventType.CUSTOMER_ASSIGNMENT_UPDATED,
        EventType.CUSTOMER_ASSIGNMENT_DELETED,
    ),
    "items": (
        EventType.ITEM_ASSIGNMENT_CREATED,
        EventType.ITEM_ASSIGNMENT_UPDATED,
        EventType.ITEM_ASSIGNMENT_DELETED,
    ),
    "groups": (
        EventType.GROUP_ASSIGNMENT_CREATED,
        EventType.GROUP_ASSIGNMENT_UPDATED,
        EventType.GROUP_ASSIGNMENT_DELETED,
    ),
}


def _history_events(*, tenant: Tenant, segment_id: str, kind: str | None) -> QuerySet:
    """The change events of a segment and its assignments (`kind`: one kind of change)."""
    if kind == "segment":
        where = Q(resource_id=segment_id)
    else:
        where = Q(resource_id=segment_id) | Q(resource_id__startswith=f"{segment_id}/")
    if kind in HISTORY_KINDS:
        where &= Q(type__in=HISTORY_KINDS[kind])
    return Event.objects.filter(tenant=tenant).filter(where)


@dataclass(frozen=True)
class HistoryGroup:
    """Consecutive events of one write: one kind of change by one actor in one transaction
    (a bulk add of 50,000 members is one group), the ids `first`..`last`."""

    type: str
    actor: str
    count: int
    first: int
    last: int


class SegmentHistory:
    """The history of a segment as groups of events, newest first, pageable (`Paginator`).

    A group is a run of consecutive events (in the segment's history) of the same type, by
    the same actor, in the same transaction, found with the gaps-and-islands trick (the
    difference of two row numbers) in one query over the segment's events; the count is
    one more. On SQLite, where every event's transaction id is 0, a run is one group.
    """

    def __init__(self, *, tenant: Tenant, segment_id: str, kind: str | None = None) -> None:
        self.tenant, self.segment_id, self.kind = tenant, segment_id, kind

    def _grouped_sql(self) -> tuple[str, list[Any]]:
        inner = (
            _history_events(tenant=self.tenant, segment_id=self.segment_id, kind=self.kind)
            .annotate(
                rn_all=Window(RowNumber(), order_by=F("id").asc()),
                rn_run=Window(
                    RowNumber(),
                    partition_by=[F("type"), F("actor"), F("transaction_id")],
                    order_by=F("id").asc(),
                ),
            )
            .order_by()
            .values("id", "type", "actor", "transaction_id", "rn_all", "rn_run")
        )
        sql, params = inner.query.sql_with_params()
        grouped = (
            f"SELECT ev.type, ev.actor, COUNT(*) AS n, MIN(ev.id) AS first_id, MAX(ev.id) AS last_id "
            f"FROM ({sql}) ev GROUP BY ev.type, ev.actor, ev.transaction_id, ev.rn_all - ev.rn_run"
        )
        return grouped, list(params)

    def count(self) -> int:
        return history_groups(self, count=True)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[HistoryGroup]:
        start = int(index.start or 0)
        limit = None if index.stop is None else int(index.stop) - start
        return history_groups(self, offset=start, limit=limit)


def history_groups(
    history: SegmentHistory, *, count: bool = False, offset: int = 0, limit: int | None = None
) -> int | list[HistoryGroup]:
    """How many groups a history has (`count`), or a slice of them, newest first (raw SQL
    over the ORM's tenant-scoped query of the segment's events)."""
    sql, params = history._grouped_sql()
    with connection.cursor() as cursor:
        if count:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) groups", params)
            return int(cursor.fetchone()[0])
        page = "" if limit is None else f" LIMIT {int(limit)}"
        cursor.execute(f"{sql} ORDER BY last_id DESC{page} OFFSET {int(offset)}", params)
        return [HistoryGroup(*row) for row in cursor.fetchall()]


def segment_history(*, tenant: Tenant, segment_id: str, kind: str | None = None) -> SegmentHistory:
    """The change events of a segment and its assignments, grouped by write, newest first.

    `kind` ("segment", "customers", "items") keeps one kind of change; `history_events`
    reads a page's events.
    """
    return SegmentHistory(tenant=tenant, segment_id=segment_id, kind=kind)


HISTORY_SHOWN = 20  # events shown of one group; the rest are counted


def history_events(
    *,
    tenant: Tenant,
    segment_id: str,
    kind: str | None,
    groups: Sequence[HistoryGroup],
    shown: int = HISTORY_SHOWN,
) -> list[list[Event]]:
    """The first `shown` events of each group (in order), in one query.

    Each event carries `previous`: the payload of the event before it for the same resource
    (a subquery served by the event index on (tenant, resource id, id)), so a page can say
    what changed.
    """
    if not groups:
        return []
    number = Case(
        *(
            When(id__gte=group.first, id__lte=group.last, then=Value(n))
            for n, group in enumerate(groups)
        ),
        output_field=IntegerField(),
    )
    within = Q()
    for group in groups:
        within |= Q(id__gte=group.first, id__lte=group.last)
    previous = (
        Event.objects.filter(
            tenant=tenant, resource_id=OuterRef("resource_id"), id__lt=OuterRef("id")
        )
        .order_by("-id")
        .values("payload")[:1]
    )
    rows = (
        _history_events(tenant=tenant, segment_id=segment_id, kind=kind)
        .filter(within)
        .annotate(
            group_number=number,
            rank=Window(RowNumber(), partition_by=[number], order_by=F("id").asc()),
        )
        .filter(rank__lte=shown)
        .annotate(previous=Subquery(previous, output_field=JSONField()))
        .order_by("id")
    )
    found: list[list[Event]] = [[] for _ in groups]
    for event in rows:
        found[event.group_number].append(event)
    return found


IGNORED_CHANGES = ("metadata",)


def payload_changes(
    previous: dict[str, Any] | None, current: dict[str, Any]
) -> list[tuple[str, Any, Any]]:
    """The fields that differ between two payloads: (field, before, after), in field order.

    Metadata (version, timestamps) is left out: it changes with every write.
    """
    previous = previous or {}
    names = list(dict.fromkeys([*current, *previous]))
    return [
        (name, previous.get(name), current.get(name))
        for name in names
        if name not in IGNORED_CHANGES and previous.get(name) != current.get(name)
    ]


def event_subject(event: Event) -> tuple[str, str, str | None] | None:
    """What an assignment event is about, from its resource id: `(kind, id, legal entity id
    or None)`, the kind `customer`, `group` or the item type; None for the segment's own."""
    parts = event.resource_id.split("/")
    if event.type.startswith("customer-segment.customer-assignment") and len(parts) > 1:
        return "customer", parts[1], parts[2] if len(parts) > 2 else None
    if event.type.startswith("customer-segment.segment-group-assignment") and len(parts) > 2:
        return "group", parts[2], None
    if event.type.startswith("customer-segment.item-assignment") and len(parts) > 2:
        return parts[1], parts[2], None
    return None


def event_subjects(*, tenant: Tenant, events: Iterable[Event]) -> dict[str, dict[str, Any]]:
    """Labels for the customers, legal entities, groups, products and categories a page of
    events names, by kind.

    `{"customer": {"c1": Customer}, "legal_entity": {...}, "group": {...}, "PRODUCT": {...},
    "CATEGORY": {...}}`: a query per kind named at most, whatever the page holds.
    """
    wanted: dict[str, set[str]] = {
        "customer": set(),
        "legal_entity": set(),
        "group": set(),
        "PRODUCT": set(),
        "CATEGORY": set(),
    }
    for event in events:
        about = event_subject(event)
        if about is not None:
            kind, external_id, legal_entity_id = about
            wanted.setdefault(kind, set()).add(external_id)
            if legal_entity_id:
                wanted["legal_entity"].add(legal_entity_id)
    found: dict[str, dict[str, Any]] = {}
    models: tuple[tuple[str, Any], ...] = (
        ("customer", Customer),
        ("legal_entity", LegalEntity),
        ("group", Group),
        ("PRODUCT", Product),
        ("CATEGORY", Category),
    )
    for kind, model in models:
        ids = wanted.get(kind) or set()
        rows = model.objects.filter(tenant=tenant, external_id__in=list(ids)) if ids else []
        found[kind] = {row.external_id: row for row in rows}
    return found


SEGMENT_EVENTS = {EventType.SEGMENT_CREATED, EventType.SEGMENT_UPDATED, EventType.SEGMENT_DELETED}


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), RESOLVE_CHUNK):
        yield values[start : start + RESOLVE_CHUNK]

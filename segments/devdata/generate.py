"""Synthetic data at scale: realistic shapes for load tests and benchmarks.

`data_generate(tenant=..., sizes=GenerateSizes(...))` fills one tenant with legal entities,
customers (a fifth of them B2B members of one or two legal entities), a category tree five
levels deep, products in leaf categories, segments with localized names, validity windows
and mixins, and the requested numbers of customer and item assignments.

Everything is deterministic: the same sizes give the same rows, ids and external ids
(`seg000017`, `c0000042`, `p0000007`, `cat00003`, `le00001`), so benchmarks can name
rows without asking the database. On PostgreSQL rows go in with `COPY ... FROM STDIN`
(about 1,000,000 assignments in well under two minutes); elsewhere in large `executemany`
batches. Columns come from the models, so a column added later gets its model default.

Bulk loading records no change events: this is test data, not a history of changes.
Progress goes to an optional callback, `progress(table, rows, total)`: `rows` more rows of
`table` (its verbose plural name) written, of an estimated `total`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, models, transaction

from segments.choices import AssignmentType, ItemType, SegmentStatus
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    CustomerLegalEntity,
    Event,
    ItemAssignment,
    LegalEntity,
    Product,
    ProductCategory,
    Segment,
)
from segments.services.changes import changes_note
from segmentservice.db import tables_analyze
from segmentservice.exceptions import AlreadyExists, ValidationFailed
from tenants.models import Tenant

# Children per category per level; five levels of 4 make 341 categories per root.
TREE_BRANCHING = 4
TREE_LEVELS = 5
SITES = ("main", "main", "main", "b2b", "outlet")
TIERS = (
    ("Gold", "Gold"),
    ("Silver", "Silber"),
    ("Bronze", "Bronze"),
    ("Platinum", "Platin"),
    ("Trade", "Handel"),
    ("Wholesale", "Großhandel"),
    ("Newsletter", "Newsletter"),
)
DEPARTMENTS = (
    ("Tools", "Werkzeuge"),
    ("Garden", "Garten"),
    ("Kitchen", "Küche"),
    ("Office", "Büro"),
    ("Outdoor", "Draußen"),
    ("Lighting", "Beleuchtung"),
)
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Linus", "Radia")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Perlman")
REGIONS = ("north", "south", "east", "west")
# A fixed clock, so that generated rows are the same on every run.
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# Share of item assignments that are categories rather than products.
CATEGORY_SHARE = 10
# Every fifth customer is a B2B buyer; its odd-numbered assignments are made for a legal entity.
B2B_EVERY = 5
# Products assigned to a segment are drawn with this stride, coprime to realistic sizes.
PRODUCT_STRIDE = 7919


@dataclass(frozen=True)
class GenerateSizes:
    """How many rows of each kind to generate for one tenant."""

    segments: int = 200
    customers: int = 1000
    customer_assignments: int = 5000
    products: int = 1000
    categories: int = 341
    item_assignments: int = 5000

    def check(self) -> None:
        """Raise ValidationFailed when the sizes cannot make the promised shapes."""
        problems = []
        for name in ("segments", "customers", "products"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        if self.categories < TREE_LEVELS:
            problems.append(f"categories must be at least {TREE_LEVELS} (a five-level tree)")
        if self.customer_assignments < 0 or self.item_assignments < 0:
            problems.append("assignment counts cannot be negative")
        if self.customer_assignments > self.customers * self.segments:
            problems.append("more customer assignments than customers times segments")
        deep = self.categories - sum(_level_sizes(self.categories)[:2]) if not problems else 0
        categories_wanted = self.item_assignments // CATEGORY_SHARE
        if not problems and categories_wanted > self.segments * deep:
            problems.append("more category assignments than segments times deep categories")
        if (
            not problems
            and self.item_assignments - categories_wanted > self.segments * self.products
        ):
            problems.append("more product assignments than segments times products")
        if problems:
            raise ValidationFailed("Cannot generate: " + "; ".join(problems) + ".")


@dataclass
class GenerateReport:
    """What was generated and how long it took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# progress(table, rows written since the last call, estimated total rows of the table)
Progress = Callable[[str, int, int], None]


def data_generate(
    *,
    tenant: Tenant,
    sizes: GenerateSizes,
    replace: bool = False,
    progress: Progress | None = None,
) -> GenerateReport:
    """Fill `tenant` with generated rows; raises AlreadyExists when it has segments already.

    With `replace`, the tenant's segments, assignments, events and referenced records are
    deleted first (in the same transaction).
    """
    sizes.check()
    started = datetime.now(UTC)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One COPY of 5,000,000 assignments runs for minutes: the service's statement
            # timeout (DATABASE_STATEMENT_TIMEOUT_MS) is for requests, not for this load.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = 0")
        if (
            Segment.objects.filter(tenant=tenant).exists()
            or Customer.objects.filter(tenant=tenant).exists()
        ):
            if not replace:
                raise AlreadyExists(
                    f"Tenant {tenant.name!r} already has data; pass replace to start over.",
                    resource_id=tenant.name,
                )
            _tenant_clear(tenant)
        plan = _Plan(tenant=tenant, sizes=sizes)
        report = GenerateReport()
        for model, estimate, rows in plan.tables():
            written = _load(model, rows, total=estimate, progress=progress)
            report.counts[str(model._meta.verbose_name_plural)] = written
        _sequences_reset()
        changes_note(tenant=tenant, segments=True)  # loaded without events
    tables_analyze(_MODELS)
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    return report


_MODELS: tuple[type[models.Model], ...] = (
    LegalEntity,
    Customer,
    CustomerLegalEntity,
    Category,
    Product,
    ProductCategory,
    Segment,
    CustomerAssignment,
    ItemAssignment,
)


def _tenant_clear(tenant: Tenant) -> None:
    """Delete every row of the tenant's, children first, with one statement per table."""
    for model in (Event, *reversed(_MODELS)):
        if model is Category:
            # The tree points at itself; cut the links before the rows go.
            model.objects.filter(tenant=tenant).update(parent=None)
        # `_raw_delete` (private Django API, pinned by tests/test_private_apis.py): one
        # DELETE, without the collector's per-row signals and cascades.
        model.objects.filter(tenant=tenant)._raw_delete(connection.alias)


def _next_id(model: type[models.Model]) -> int:
    """The first surrogate id free for generated rows of `model`."""
    last = model.objects.order_by("-id").values_list("id", flat=True).first()
    return (last or 0) + 1


def _level_sizes(total: int) -> list[int]:
    """How many categories sit on each of the five levels (each level at least one)."""
    roots = max(1, total // sum(TREE_BRANCHING**k for k in range(TREE_LEVELS)))
    sizes, remaining = [], total
    for level in range(TREE_LEVELS):
        levels_after = TREE_LEVELS - 1 - level
        if levels_after == 0:
            sizes.append(remaining)
        else:
            size = max(1, min(roots * TREE_BRANCHING**level, remaining - levels_after))
            sizes.append(size)
            remaining -= size
    return sizes


def customer_segment(customer: int, nth: int, *, segments: int) -> int:
    """The segment index of customer `customer`'s `nth` assignment (distinct for nth < segments)."""
    return (customer * 7 + (customer * customer) % 13 + nth) % segments


class _Plan:
    """The rows of every table, as generators of column dicts keyed by attname."""

    def __init__(self, *, tenant: Tenant, sizes: GenerateSizes) -> None:
        self.tenant = tenant
        self.sizes = sizes
        self.first = {model: _next_id(model) for model in _MODELS}
        self.levels = _level_sizes(sizes.categories)
        # First category index of each level: levels are stored one after another.
        self.level_start = [sum(self.levels[:k]) for k in range(TREE_LEVELS)]
        self.legal_entities = max(1, sizes.customers // 50)

    def tables(self) -> Iterator[tuple[type[models.Model], int, Iterator[dict[str, Any]]]]:
        """(model, about how many rows, rows) for each table, parents before children."""
        s = self.sizes
        b2b_customers = (s.customers + B2B_EVERY - 1) // B2B_EVERY
        memberships = b2b_customers * min(2, self.legal_entities) * 3 // 4
        yield LegalEntity, self.legal_entities, self._legal_entities()
        yield Customer, s.customers, self._customers()
        yield CustomerLegalEntity, memberships, self._memberships()
        yield Category, s.categories, self._categories()
        yield Product, s.products, self._products()
        yield ProductCategory, s.products + s.products // 3, self._product_categories()
        yield Segment, s.segments, self._segments()
        yield CustomerAssignment, s.customer_assignments, self._customer_assignments()
        yield ItemAssignment, s.item_assignments, self._item_assignments()

    # --- referenced records ---------------------------------------------------------------

    def _legal_entities(self) -> Iterator[dict[str, Any]]:
        first = self.first[LegalEntity]
        for i in range(self.legal_entities):
            yield {
                "id": first + i,
                "tenant_id": self.tenant.pk,
                "external_id": f"le{i:05d}",
                "name": f"{LAST[i % len(LAST)]} {('GmbH', 'Ltd', 'Inc', 'AG', 'SA')[i % 5]} {i}",
            }

    def _customer_legal_entities(self, c: int) -> list[int]:
        """Indexes of the legal entities customer `c` belongs to (B2B customers only)."""
        if c % B2B_EVERY:
            return []
        count = min(1 + (c // B2B_EVERY) % 2, self.legal_entities)
        base = (c // B2B_EVERY) % self.legal_entities
        return [(base + k) % self.legal_entities for k in range(count)]

    def _customers(self) -> Iterator[dict[str, Any]]:
        first = self.first[Customer]
        for c in range(self.sizes.customers):
            given, family = FIRST[c % len(FIRST)], LAST[(c // len(FIRST)) % len(LAST)]
            yield {
                "id": first + c,
                "tenant_id": self.tenant.pk,
                "external_id": f"c{c:07d}",
                "first_name": given,
                "last_name": family,
                "email": f"{given.lower()}.{family.lower()}.{c}@example.com",
                "attributes": json.dumps(
                    {"tier": ("new", "regular", "vip")[c % 3], "region": REGIONS[c % 4]}
                ),
            }

    def _memberships(self) -> Iterator[dict[str, Any]]:
        first, n = self.first[CustomerLegalEntity], 0
        for c in range(0, self.sizes.customers, B2B_EVERY):
            for le in self._customer_legal_entities(c):
                yield {
                    "id": first + n,
                    "tenant_id": self.tenant.pk,
                    "customer_id": self.first[Customer] + c,
                    "legal_entity_id": self.first[LegalEntity] + le,
                }
                n += 1

    def _category_parent(self, index: int) -> int | None:
        """The parent's index of category `index`, None for a root."""
        level = self._category_level(index)
        if level == 0:
            return None
        within = index - self.level_start[level]
        return self.level_start[level - 1] + within % self.levels[level - 1]

    def _category_level(self, index: int) -> int:
        for level in range(TREE_LEVELS - 1, -1, -1):
            if index >= self.level_start[level]:
                return level
        return 0

    def _categories(self) -> Iterator[dict[str, Any]]:
        first = self.first[Category]
        for i in range(self.sizes.categories):
            level = self._category_level(i)
            within = i - self.level_start[level]
            parent = self._category_parent(i)
            en, de = DEPARTMENTS[within % len(DEPARTMENTS)]
            label = f"{en} L{level} {i}"
            yield {
                "id": first + i,
                "tenant_id": self.tenant.pk,
                "external_id": f"cat{i:05d}",
                "code": f"CAT-{i:05d}",
                "name": json.dumps({"en": label, "de": f"{de} E{level} {i}"}),
                "description": json.dumps({"en": f"{en}, level {level}"}),
                "slug": json.dumps({"en": f"{en.lower()}-{i}"}),
                "ecn": json.dumps([f"ECN-{i:05d}"] if level == TREE_LEVELS - 1 else []),
                "parent_id": None if parent is None else first + parent,
                "position": 0 if level == 0 else within // self.levels[level - 1],
                "published": i % 17 != 0,
                "valid_from": None,
                "valid_to": None,
            }

    def _product_leaf(self, p: int) -> int:
        """The leaf category index product `p` sits in."""
        return self.level_start[-1] + p % self.levels[-1]

    def _products(self) -> Iterator[dict[str, Any]]:
        first = self.first[Product]
        for p in range(self.sizes.products):
            yield {
                "id": first + p,
                "tenant_id": self.tenant.pk,
                "external_id": f"p{p:07d}",
                "code": f"SKU-{p:07d}",
                "name": json.dumps({"en": f"Product {p}", "de": f"Produkt {p}"}),
            }

    def _product_categories(self) -> Iterator[dict[str, Any]]:
        first, n = self.first[ProductCategory], 0
        cat0, prod0 = self.first[Category], self.first[Product]
        for p in range(self.sizes.products):
            placed = [self._product_leaf(p)]
            # Every third product is also listed one level up, in a sibling branch.
            if p % 3 == 0:
                level3 = self.level_start[-2] + (p // 3) % self.levels[-2]
                if level3 != self._category_parent(placed[0]):
                    placed.append(level3)
            for category in placed:
                yield {
                    "id": first + n,
                    "tenant_id": self.tenant.pk,
                    "product_id": prod0 + p,
                    "category_id": cat0 + category,
                }
                n += 1

    # --- segments and assignments ---------------------------------------------------------

    def _segments(self) -> Iterator[dict[str, Any]]:
        first = self.first[Segment]
        for i in range(self.sizes.segments):
            en, de = TIERS[i % len(TIERS)]
            created = EPOCH + timedelta(minutes=7 * i)
            windowed = i % 3 == 0
            # Of the windowed ones, every fourth has ended, so "effective" filters something.
            ended = windowed and i % 12 == 0
            starts = EPOCH - timedelta(days=30 + i % 300)
            ends = (EPOCH - timedelta(days=1)) if ended else datetime(2099, 1, 1, tzinfo=UTC)
            yield {
                "id": first + i,
                "tenant_id": self.tenant.pk,
                "external_id": f"seg{i:06d}",
                "name": json.dumps({"en": f"{en} customers {i}", "de": f"{de}-Kunden {i}"}),
                "description": json.dumps({"en": f"{en} tier, cohort {i}"}),
                "valid_from": starts if windowed else None,
                "valid_to": ends if windowed else None,
                "status": SegmentStatus.INACTIVE if i % 10 == 9 else SegmentStatus.ACTIVE,
                "site_code": SITES[i % len(SITES)],
                "mixins": json.dumps(
                    {
                        "segmentAttributes": {
                            "membershipStatus": en.upper(),
                            "priority": i % 10,
                            "region": REGIONS[i % 4],
                        }
                    }
                ),
                "metadata_mixins": json.dumps(
                    {"segmentAttributes": "https://example.com/schemas/segment-attributes.json"}
                ),
                "version": 1 + i % 3,
                "created_at": created,
                "modified_at": created + timedelta(days=i % 5),
            }

    def _customer_assignments(self) -> Iterator[dict[str, Any]]:
        s = self.sizes
        first, cust0, seg0, le0 = (
            self.first[CustomerAssignment],
            self.first[Customer],
            self.first[Segment],
            self.first[LegalEntity],
        )
        # Round-robin over customers: assignment a is customer a % customers's (a // customers)th.
        for a in range(s.customer_assignments):
            c, j = a % s.customers, a // s.customers
            segment = customer_segment(c, j, segments=s.segments)
            entities = self._customer_legal_entities(c)
            legal_entity = entities[(j // 2) % len(entities)] if entities and j % 2 else None
            created = EPOCH + timedelta(seconds=31 * a)
            yield {
                "id": first + a,
                "tenant_id": self.tenant.pk,
                "segment_id": seg0 + segment,
                "customer_id": cust0 + c,
                "legal_entity_id": None if legal_entity is None else le0 + legal_entity,
                "assignment_type": AssignmentType.AUTOMATIC
                if a % 4 == 0
                else AssignmentType.MANUAL,
                "mixins": json.dumps({"source": {"campaign": f"cmp{a % 20:02d}"}})
                if a % 2
                else "{}",
                "metadata_mixins": "{}",
                "version": 1,
                "created_at": created,
                "modified_at": created,
            }

    def _item_assignments(self) -> Iterator[dict[str, Any]]:
        s = self.sizes
        first, seg0, prod0, cat0 = (
            self.first[ItemAssignment],
            self.first[Segment],
            self.first[Product],
            self.first[Category],
        )
        # Category assignments go to levels 2..4, so a subtree stays a page view's worth.
        deep_start = self.level_start[2]
        deep = s.categories - deep_start
        categories = s.item_assignments // CATEGORY_SHARE
        products = s.item_assignments - categories
        n = 0
        for a in range(products):
            segment, j = a % s.segments, a // s.segments
            product = (segment * PRODUCT_STRIDE + j) % s.products
            yield self._item(first + n, seg0 + segment, ItemType.PRODUCT, product=prod0 + product)
            n += 1
        for a in range(categories):
            segment, j = a % s.segments, a // s.segments
            category = deep_start + (segment * 31 + j) % deep
            yield self._item(first + n, seg0 + segment, ItemType.CATEGORY, category=cat0 + category)
            n += 1

    def _item(
        self, pk: int, segment: int, type_: str, *, product: int | None = None, category=None
    ) -> dict[str, Any]:
        created = EPOCH + timedelta(seconds=17 * pk)
        return {
            "id": pk,
            "tenant_id": self.tenant.pk,
            "segment_id": segment,
            "type": type_,
            "product_id": product,
            "category_id": category,
            "mixins": "{}",
            "metadata_mixins": "{}",
            "version": 1,
            "created_at": created,
            "modified_at": created,
        }


# --- loading ------------------------------------------------------------------------------

BATCH = 5000


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields]


def _defaults(model: type[models.Model]) -> dict[str, Callable[[], Any]]:
    """For columns the generator does not fill: the model's default, JSON as text."""
    result = {}
    for f in _columns(model):
        default = f.get_default()
        if isinstance(f, models.JSONField):
            result[f.attname] = lambda d=default: json.dumps(d)
        else:
            result[f.attname] = lambda d=default: d
    return result


def _load(
    model: type[models.Model],
    rows: Iterator[dict[str, Any]],
    *,
    total: int,
    progress: Progress | None,
) -> int:
    """Write `rows` into `model`'s table (COPY on PostgreSQL, batched INSERTs elsewhere).

    Returns how many rows were written; `total` is only passed on to `progress`.
    """
    fields = _columns(model)
    names = [f.attname for f in fields]
    defaults = _defaults(model)
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    label = str(model._meta.verbose_name_plural)

    def report(rows: int) -> None:
        if progress is not None and rows:
            progress(label, rows, total)

    postgres = connection.vendor == "postgresql"
    adapt = connection.ops.adapt_datetimefield_value

    def tuples() -> Iterator[tuple]:
        for row in rows:
            values = tuple(row[n] if n in row else defaults[n]() for n in names)
            if not postgres:
                values = tuple(adapt(v) if isinstance(v, datetime) else v for v in values)
            yield values

    written = 0
    with connection.cursor() as cursor:
        if postgres:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for values in tuples():
                    copy.write_row(values)
                    written += 1
                    if written % BATCH == 0:
                        report(BATCH)
            report(written % BATCH)
            return written
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})"
        batch: list[tuple] = []
        for values in tuples():
            batch.append(values)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                written += len(batch)
                report(len(batch))
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
            report(len(batch))
    return written


def _sequences_reset() -> None:
    """Move the id sequences past the generated ids (PostgreSQL; SQLite needs nothing)."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), list(_MODELS))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)

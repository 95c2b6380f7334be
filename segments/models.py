"""The data model: segments, their assignments, and the records they refer to.

Every table carries its tenant; every unique constraint and composite index starts with
it, and no query crosses tenants (so the schema can later be distributed by tenant). The
tenant foreign keys carry no index of their own, since those composites serve them. Each
row has a surrogate `id` for joins and an `external_id`, the id the API speaks of; the
single-column indexes Django keeps on the other foreign keys serve its cascading deletes,
which look rows up by those ids alone.
"""

from __future__ import annotations

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from segments.choices import AssignmentType, EventType, GroupUserType, ItemType, SegmentStatus
from segmentservice.db import CurrentTransactionId
from segmentservice.fields import JSONField
from tenants.models import Tenant

EXTERNAL_ID_MAX = 64


class Versioned(models.Model):
    """Mixins, mixin schema links, an optimistic-locking version and timestamps."""

    mixins = JSONField(default=dict, blank=True)
    metadata_mixins = JSONField(
        default=dict, blank=True, help_text="Mixin name → schema URL, stored as given."
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


def localized_text(values: dict[str, str] | None, language: str | None = None) -> str:
    """The text of a localized map in `language`, else in English, else in the first language
    in alphabetical order (PostgreSQL keeps no key order), else ''."""
    if not values:
        return ""
    for preferred in (language, "en"):
        if preferred and values.get(preferred):
            return values[preferred]
    return next((values[key] for key in sorted(values) if values[key]), "")


def _cached_tenant_language(row: models.Model) -> str | None:
    # The default language only when the tenant is loaded already: a label costs no query.
    tenant = row._state.fields_cache.get("tenant")
    return tenant.default_language if tenant is not None else None


def item_label(row: Product | Category) -> str:
    """A product or category as people name it: `Hammer (HAMMER)`, else its code or id."""
    name = localized_text(row.name, _cached_tenant_language(row))
    code = row.code or row.external_id
    return f"{name} ({code})" if name else code


# --- Referenced records -----------------------------------------------------------------------


class LegalEntity(models.Model):
    """A company that B2B customers act for."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    name = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name_plural = "legal entities"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="legalentity_tenant_extid_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})" if self.name else self.external_id


class Customer(models.Model):
    """A customer of the tenant's shop, as its customer service knows them."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=320, blank=True)
    attributes = JSONField(default=dict, blank=True)
    legal_entities = models.ManyToManyField(
        LegalEntity, through="CustomerLegalEntity", related_name="customers", blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="customer_tenant_extid_uniq"
            )
        ]

    def __str__(self) -> str:
        full_name = f"{self.first_name} {self.last_name}".strip()
        return f"{full_name} ({self.external_id})" if full_name else self.external_id


class CustomerLegalEntity(models.Model):
    """A customer's membership of a legal entity."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE)

    class Meta:
        verbose_name = "customer membership"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer", "legal_entity"], name="customerle_tenant_pair_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "legal_entity"], name="customerle_tenant_le_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} acts for {self.legal_entity}"


class Group(models.Model):
    """A named set of the tenant's customers (or employees), perhaps bound to a legal entity."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    name = JSONField(default=dict, blank=True)
    user_type = models.CharField(
        max_length=8, choices=GroupUserType.choices, default=GroupUserType.CUSTOMER
    )
    # A bound group counts for its members only while they act for this legal entity.
    legal_entity = models.ForeignKey(
        LegalEntity, null=True, blank=True, on_delete=models.CASCADE, related_name="groups"
    )
    members = models.ManyToManyField(
        Customer, through="GroupMember", related_name="directory_groups", blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="group_tenant_extid_uniq"
            )
        ]

    def __str__(self) -> str:
        name = localized_text(self.name, _cached_tenant_language(self))
        return f"{name} ({self.external_id})" if name else self.external_id


class GroupMember(models.Model):
    """A customer's membership of a group."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)

    class Meta:
        verbose_name = "group member"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "group", "customer"], name="groupmember_tenant_pair_uniq"
            )
        ]
        indexes = [
            # A customer's groups: the inherited-membership lookup goes this way.
            models.Index(fields=["tenant", "customer"], name="groupmember_tenant_cust_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} in group {self.group}"


class Category(models.Model):
    """A node of the tenant's category tree."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    code = models.CharField(max_length=255, blank=True)
    name = JSONField(default=dict, blank=True)
    description = JSONField(default=dict, blank=True)
    slug = JSONField(default=dict, blank=True)
    ecn = JSONField(default=list, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    position = models.IntegerField(default=0)
    published = models.BooleanField(default=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="category_tenant_extid_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "parent", "position"], name="category_tenant_parent_idx"
            ),
        ]

    def __str__(self) -> str:
        return item_label(self)


class Product(models.Model):
    """A product of the tenant's catalogue."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    code = models.CharField(max_length=255, blank=True)
    name = JSONField(default=dict, blank=True)
    categories = models.ManyToManyField(
        Category, through="ProductCategory", related_name="products", blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="product_tenant_extid_uniq"
            )
        ]

    def __str__(self) -> str:
        return item_label(self)


class ProductCategory(models.Model):
    """A product sitting in a category."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)

    class Meta:
        verbose_name = "product in category"
        verbose_name_plural = "products in categories"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "product", "category"], name="productcat_tenant_pair_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "category"], name="productcat_tenant_cat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product} in {self.category}"


# --- Segments and assignments -----------------------------------------------------------------


class Segment(Versioned):
    """A customer segment: a named, optionally time-boxed group for one site."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    name = JSONField(default=dict)
    description = JSONField(default=dict, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=SegmentStatus.choices, default=SegmentStatus.INACTIVE
    )
    site_code = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="segment_tenant_extid_uniq"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_from__lt=models.F("valid_to")),
                name="segment_validity_order",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "site_code", "status"], name="segment_tenant_site_idx"),
        ]

    def __str__(self) -> str:
        name = localized_text(self.name, _cached_tenant_language(self))
        return f"{name} ({self.external_id})" if name else self.external_id

    def quoted(self) -> str:
        """The segment as a sentence names it: `"Spring VIP" (spring)`."""
        name = localized_text(self.name, _cached_tenant_language(self))
        return f'"{name}" ({self.external_id})' if name else self.external_id

    def is_effective(self, at=None) -> bool:
        """ACTIVE and `at` (default: now) inside the validity window, open ends unbounded."""
        at = at or timezone.now()
        return (
            self.status == SegmentStatus.ACTIVE
            and (self.valid_from is None or self.valid_from <= at)
            and (self.valid_to is None or at < self.valid_to)
        )


class CustomerAssignment(Versioned):
    """A customer (B2C), or a customer acting for a legal entity (B2B), in a segment."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="customer_assignments"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    legal_entity = models.ForeignKey(
        LegalEntity, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    assignment_type = models.CharField(
        max_length=9, choices=AssignmentType.choices, default=AssignmentType.MANUAL
    )

    class Meta:
        constraints = [
            # Two partial constraints, since NULL legal entities are otherwise never equal.
            models.UniqueConstraint(
                fields=["tenant", "segment", "customer"],
                condition=Q(legal_entity__isnull=True),
                name="custassign_b2c_uniq",
            ),
            models.UniqueConstraint(
                fields=["tenant", "segment", "customer", "legal_entity"],
                condition=Q(legal_entity__isnull=False),
                name="custassign_b2b_uniq",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "customer", "segment"], name="custassign_tenant_cust_idx"
            ),
            models.Index(
                fields=["tenant", "segment", "customer"], name="custassign_tenant_seg_idx"
            ),
        ]

    def __str__(self) -> str:
        suffix = f" for {self.legal_entity}" if self.legal_entity_id else ""
        return f"{self.customer}{suffix} in {self.segment.quoted()}"


class ItemAssignment(Versioned):
    """A product or a category assigned to a segment."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="item_assignments")
    type = models.CharField(max_length=8, choices=ItemType.choices)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(type=ItemType.PRODUCT, product__isnull=False, category__isnull=True)
                    | Q(type=ItemType.CATEGORY, category__isnull=False, product__isnull=True)
                ),
                name="itemassign_type_matches_item",
            ),
            models.UniqueConstraint(
                fields=["tenant", "segment", "product"],
                condition=Q(product__isnull=False),
                name="itemassign_product_uniq",
            ),
            models.UniqueConstraint(
                fields=["tenant", "segment", "category"],
                condition=Q(category__isnull=False),
                name="itemassign_category_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "segment", "type"], name="itemassign_tenant_seg_idx"),
            models.Index(
                fields=["tenant", "product", "segment"],
                condition=Q(product__isnull=False),
                name="itemassign_tenant_prod_idx",
            ),
            models.Index(
                fields=["tenant", "category", "segment"],
                condition=Q(category__isnull=False),
                name="itemassign_tenant_cat_idx",
            ),
        ]

    def __str__(self) -> str:
        item = self.product if self.type == ItemType.PRODUCT else self.category
        return f"{ItemType(self.type).label} {item} in {self.segment.quoted()}"


class GroupAssignment(Versioned):
    """A directory group assigned to a segment: each of its members belongs to the segment."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="group_assignments")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "segment", "group"], name="groupassign_tenant_pair_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "group", "segment"], name="groupassign_tenant_grp_idx"),
        ]

    def __str__(self) -> str:
        return f"group {self.group} in {self.segment.quoted()}"


# --- Change events ----------------------------------------------------------------------------


class Event(models.Model):
    """One change to a segment or an assignment, recorded in the writing transaction."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    type = models.CharField(max_length=64, choices=EventType.choices)
    resource_id = models.CharField(
        max_length=255,
        help_text="The segment id, or segment/customer[/legal entity], or segment/type/item.",
    )
    payload = JSONField(default=dict)
    actor = models.CharField(
        max_length=255,
        default="system",
        help_text="Who made the change: api-client:<id>, admin:<username>, command:<name> or system.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Ids are taken at insert, not at commit: delivery goes by which transactions had
    # committed (PostgreSQL; 0 on SQLite, whose writers commit in id order).
    transaction_id = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "id"], name="event_tenant_seq_idx"),
            models.Index(fields=["tenant", "transaction_id"], name="event_tenant_txn_idx"),
            # A segment's history (resource id equal to the segment's, or starting with it
            # and "/"; pattern ops serve the prefix on PostgreSQL whatever the collation) and
            # the event before each (the same resource id, the greatest smaller id).
            models.Index(
                fields=["tenant", "resource_id", "id"],
                name="event_tenant_resource_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "int8_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.resource_id}"


class ChangeCounter(models.Model):
    """A tenant's change generation: one more for every committed transaction that changed
    what its API shows, and the segment validity boundaries to come (see
    `segments.selectors.changes`).

    Kept by the database: a trigger on the event table notes every transaction that
    records an event, `segments.services.changes.changes_note` one that changes the
    directory; the bump itself runs at commit (PostgreSQL; see migration 0011).
    """

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    generation = models.BigIntegerField(default=0)
    # Epoch seconds of the next (at most BOUNDARIES_KEPT) instants at which an ACTIVE
    # segment's validity starts or ends, as of the last change; `boundaries_complete`
    # says no later one was left out.
    boundaries = JSONField(default=list)
    boundaries_complete = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.tenant_id} at {self.generation}"


BOUNDARIES_KEPT = 64


def event_log_position() -> str:
    """The event log's position now: which writing transactions have committed.

    PostgreSQL: the snapshot, e.g. "1203:1207:1204,1205"; SQLite: the highest event id.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_current_snapshot()::text")
        else:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Event._meta.db_table}")
        return str(cursor.fetchone()[0])


class WebhookEndpoint(models.Model):
    """A URL that receives the tenant's change events, signed with its secret, in order."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, help_text="Signs each delivery (HMAC-SHA256).")
    event_types = JSONField(
        default=list, blank=True, help_text="Event types to send; empty sends every type."
    )
    is_active = models.BooleanField(default=True)
    replay_from_event_id = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Send again every event from this id on (then carry on as usual); "
        "cleared once the replay has begun.",
    )
    # Delivery state (see segments.services.webhooks): the events of every transaction
    # committed at `delivered_through` have been sent; the batch up to `batch_through` is
    # being sent, in id order, and has been sent up to `batch_after_id`.
    delivered_through = models.TextField(blank=True, editable=False)
    batch_through = models.TextField(blank=True, editable=False)
    batch_after_id = models.BigIntegerField(default=0, editable=False)
    last_event_id = models.BigIntegerField(default=0, help_text="The last event delivered.")
    failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    # The delivery worker sending to this endpoint now, and until when it may.
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "is_active", "next_attempt_at"], name="webhook_tenant_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs) -> None:
        """A new endpoint starts with the events recorded after it was created."""
        if self._state.adding and not self.delivered_through:
            self.delivered_through = event_log_position()
        super().save(*args, **kwargs)


# --- Rules (dynamic segments, SPEC §12) --------------------------------------------------------


class SegmentRule(models.Model):
    """A segment's rule: the customers its `q` matches hold its `AUTOMATIC` assignments."""

    class Assign(models.TextChoices):
        """What one match becomes: one B2C assignment, or one per legal entity (B2B)."""

        B2C = "B2C"
        B2B = "B2B"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    segment = models.OneToOneField(Segment, on_delete=models.CASCADE, related_name="rule")
    q = models.TextField(help_text="A q expression over the tenant's customers.")
    assign = models.CharField(max_length=3, choices=Assign.choices, default=Assign.B2C)
    enabled = models.BooleanField(default=True)
    # The segment ids the q names in `segments.id` conditions: the rule is evaluated after theirs.
    depends_on = JSONField(default=list, blank=True, editable=False)
    last_evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "enabled"], name="segmentrule_tenant_idx"),
        ]

    def __str__(self) -> str:
        return f"rule of {self.segment.external_id}: {self.q}"


class RuleExclusion(models.Model):
    """A customer (for a legal entity, or B2C) a segment's rule no longer assigns: its
    `AUTOMATIC` assignment was deleted by hand."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="rule_exclusions")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    legal_entity = models.ForeignKey(
        LegalEntity, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "segment", "customer"],
                condition=Q(legal_entity__isnull=True),
                name="ruleexcl_b2c_uniq",
            ),
            models.UniqueConstraint(
                fields=["tenant", "segment", "customer", "legal_entity"],
                condition=Q(legal_entity__isnull=False),
                name="ruleexcl_b2b_uniq",
            ),
        ]

    def __str__(self) -> str:
        suffix = f" for {self.legal_entity}" if self.legal_entity_id else ""
        return f"{self.customer}{suffix} excluded from {self.segment.quoted()}"

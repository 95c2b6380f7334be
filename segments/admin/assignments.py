"""Admin of customer, item and group assignments: filtered lists reached from a segment.

A segment may hold 100,000 customers, so its form links to filtered lists instead of
rendering inlines. Assignments made here are `MANUAL` and go through the API's services
(versions, timestamps, reference checks and events alike); customers, legal entities,
products and categories are picked with autocompletes bound to the segment's tenant.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from segments.admin.base import TenantOwnedAdmin
from segments.admin.common import (
    ChosenObjectFilter,
    JSONObjectField,
    change_link,
    changelist_param,
    text_in,
)
from segments.admin.forms import ServiceForm, ServiceFormAdminMixin
from segments.admin.rules import explain_link
from segments.admin.workspace import segment_label
from segments.choices import ItemType
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    Group,
    GroupAssignment,
    ItemAssignment,
    Product,
    Segment,
)
from segments.services.assignments import WriteFields
from segments.services.customer_assignments import (
    CustomerAssignmentInput,
    customer_assignment_delete,
    customer_assignment_upsert,
    customer_assignments_bulk_delete,
)
from segments.services.group_assignments import (
    GroupAssignmentInput,
    group_assignment_delete,
    group_assignment_upsert,
    group_assignments_bulk_delete,
)
from segments.services.item_assignments import (
    ItemAssignmentInput,
    item_assignment_delete,
    item_assignment_upsert,
    item_assignments_bulk_delete,
)
from segmentservice.bulk import BulkItemResult
from tenants.admin_scoping import allow_add_related, may_see_tenant


class SegmentFilter(ChosenObjectFilter):
    """Assignments of one segment (the segment form links here)."""

    title = "segment"
    parameter_name = "segment"
    related_model = Segment
    field = "segment"


class CustomerFilter(ChosenObjectFilter):
    """Assignments of one customer (the customer list links here)."""

    title = "customer"
    parameter_name = "customer"
    related_model = Customer
    field = "customer"


class ProductFilter(ChosenObjectFilter):
    """Assignments of one product."""

    title = "product"
    parameter_name = "product"
    related_model = Product
    field = "product"


class CategoryFilter(ChosenObjectFilter):
    """Assignments of one category."""

    title = "category"
    parameter_name = "category"
    related_model = Category
    field = "category"


class GroupFilter(ChosenObjectFilter):
    """Assignments of one group (a group's page links here)."""

    title = "group"
    parameter_name = "group"
    related_model = Group
    field = "group"


class AssignmentAdmin(ServiceFormAdminMixin, TenantOwnedAdmin):
    """What both assignment admins share: reached from a segment, written by services."""

    save_as = False
    list_per_page = 100

    def resolve_add_tenant(self, request: HttpRequest):
        """An add form opened from a segment belongs to the segment's tenant."""
        segment = self.requested_segment(request)
        if segment is not None:
            return segment.tenant
        return super().resolve_add_tenant(request)

    def requested_segment(self, request: HttpRequest) -> Segment | None:
        """The segment named by `?segment=` (or the changelist filter we came from)."""
        value = changelist_param(request, "segment")
        if not value or not str(value).isdigit():
            return None
        segment = Segment.objects.select_related("tenant").filter(pk=value).first()
        if segment is None or not may_see_tenant(request, segment.tenant_id):
            return None
        return segment

    def get_changeform_initial_data(self, request: HttpRequest):
        """The segment (and item type) the add link came with."""
        initial = super().get_changeform_initial_data(request)
        segment = changelist_param(request, "segment")
        if segment:
            initial["segment"] = segment
        return initial

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """What identifies an assignment cannot change; only its mixins can."""
        return self.identity_fields if obj else []

    @admin.display(description="segment", ordering="segment__external_id")
    def segment_link(self, row) -> str:
        """The segment by name and id, linking to its form."""
        return change_link(row.segment, segment_label(row.segment))

    def get_actions(self, request: HttpRequest):
        """Deletion goes through the services (one event per assignment)."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def remove_through_service(
        self,
        request: HttpRequest,
        rows,
        *,
        noun: str,
        batch_of: Callable[[Any], tuple[tuple, Any]],
        delete: Callable[[tuple, list[tuple[int, Any]]], list[BulkItemResult]],
    ) -> None:
        """Remove `rows` in one transaction, one bulk delete of the service per batch
        (`batch_of(row)` gives the batch and the row's key in it), and say how many went."""
        rows = list(rows)
        batches: dict[tuple, list[Any]] = defaultdict(list)
        for row in rows:
            batch, key = batch_of(row)
            batches[batch].append(key)
        removed = 0
        names = sorted({segment_label(row.segment) for row in rows})
        with transaction.atomic():
            for batch, keys in batches.items():
                results = delete(batch, list(enumerate(keys, 1)))
                removed += sum(1 for result in results if result.code < 300)
        self.message_user(
            request,
            f"Removed {removed:,} {noun}(s) from {', '.join(names[:5])}"
            f"{' and more' if len(names) > 5 else ''}.",
            messages.SUCCESS,
        )

    workspace_view = "members"  # the segment page "Save" returns to
    list_title = "Customers in {}"

    def changelist_view(self, request: HttpRequest, extra_context=None):
        """Titled by the segment when showing one segment's assignments."""
        segment = self.requested_segment(request)
        if segment is not None:
            extra_context = {
                **(extra_context or {}),
                "title": self.list_title.format(segment_label(segment)),
            }
        return super().changelist_view(request, extra_context)

    def response_add(self, request: HttpRequest, obj, post_url_continue=None):
        """ "Save" returns to the segment's page of these assignments."""
        if self._plain_save(request):
            return self._back_to_segment(request, obj, "added")
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj):
        """ "Save" returns to the segment's page of these assignments."""
        if self._plain_save(request):
            return self._back_to_segment(request, obj, "changed")
        return super().response_change(request, obj)

    @staticmethod
    def _plain_save(request: HttpRequest) -> bool:
        keys = ("_continue", "_addanother", "_saveasnew", "_popup")
        return not any(key in request.POST for key in keys)

    def _back_to_segment(self, request: HttpRequest, obj, verb: str):
        self.message_user(request, f"{obj} {verb}.", messages.SUCCESS)
        url = reverse(f"admin:segments_segment_{self.workspace_view}", args=[obj.segment_id])
        return HttpResponseRedirect(url)


class AssignmentForm(ServiceForm):
    """What the assignment forms share: the mixins and the fields every write takes."""

    mixins = JSONObjectField(help_text="A JSON object of additional attributes.")
    metadata_mixins = JSONObjectField(
        label="Mixin schemas", help_text="Mixin name → schema URL, stored as given."
    )

    def write_fields(self) -> WriteFields:
        """The mixins and the version the form was opened at, as the API's body gives them."""
        data = self.cleaned_data
        return WriteFields(
            mixins=data.get("mixins") or {},
            metadata_mixins=data.get("metadata_mixins") or {},
            version=data.get("version"),
        )


class CustomerAssignmentForm(AssignmentForm):
    """A customer (and, for B2B, the legal entity they act for) in a segment."""

    class Meta:
        model = CustomerAssignment
        fields = ["tenant", "segment", "customer", "legal_entity", "mixins", "metadata_mixins"]

    def save_through_service(self) -> CustomerAssignment:
        """`customer_assignment_upsert`, as `PUT .../customers/{id}[/{legalEntityId}]` does."""
        data = self.cleaned_data
        instance = self.instance
        segment = instance.segment if instance.pk else data["segment"]
        customer = instance.customer if instance.pk else data["customer"]
        legal_entity = instance.legal_entity if instance.pk else data.get("legal_entity")
        outcome = customer_assignment_upsert(
            tenant=segment.tenant,
            segment_id=segment.external_id,
            data=CustomerAssignmentInput(
                customer_id=customer.external_id,
                legal_entity_id=legal_entity.external_id if legal_entity else None,
                fields=self.write_fields(),
            ),
        )
        return outcome.assignment


@admin.register(CustomerAssignment)
class CustomerAssignmentAdmin(AssignmentAdmin):
    """Customers in segments."""

    form = CustomerAssignmentForm
    identity_fields = ["segment", "customer", "legal_entity", "assignment_type"]
    list_display = [
        "customer_link",
        "customer_name",
        "legal_entity",
        "segment_link",
        "assignment_type",
        "explain",
        "modified_at",
        "tenant_name",
    ]
    list_select_related = ["segment__tenant", "customer", "legal_entity"]
    list_filter = [
        SegmentFilter,
        CustomerFilter,
        "assignment_type",
        ("legal_entity", admin.EmptyFieldListFilter),
    ]
    search_fields = [
        "=customer__external_id",
        "customer__email",
        "customer__last_name",
        "=segment__external_id",
    ]
    ordering = ["tenant_id", "segment_id", "customer_id", "id"]
    autocomplete_fields = ["segment", "customer", "legal_entity"]
    fields = [
        "tenant",
        "segment",
        "customer",
        "legal_entity",
        "assignment_type",
        "mixins",
        "metadata_mixins",
        "version",
    ]

    class Media:
        js = ["admin/js/jquery.init.js", "segments/legal_entity_picker.js"]

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        """A "+" next to the legal entity: create one the chosen customer acts for."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "legal_entity":
            # The pop-up's form is bound to the form's tenant; the service refuses an
            # entity of another tenant or not the customer's.
            allow_add_related(formfield, request, self.admin_site)
        return formfield

    def get_fields(self, request: HttpRequest, obj=None):
        """The type is shown once the assignment exists (admin-made ones are MANUAL)."""
        fields = list(self.fields)
        return fields if obj else [f for f in fields if f != "assignment_type"]

    @admin.display(description="customer", ordering="customer__external_id")
    def customer_link(self, row: CustomerAssignment) -> str:
        """The customer's id, linking to the assignment."""
        return row.customer.external_id

    @admin.display(description="name")
    def customer_name(self, row: CustomerAssignment) -> str:
        """The customer's name and e-mail."""
        customer = row.customer
        name = f"{customer.first_name} {customer.last_name}".strip()
        return f"{name} <{customer.email}>" if customer.email else name

    @admin.display(description="why")
    def explain(self, row: CustomerAssignment) -> str:
        """Why the customer is in the segment (manual, or each condition of the rule)."""
        return explain_link(row)

    def delete_model(self, request: HttpRequest, obj: CustomerAssignment) -> None:
        """`customer_assignment_delete`, recording its event."""
        customer_assignment_delete(
            tenant=obj.tenant,
            segment_id=obj.segment.external_id,
            customer_id=obj.customer.external_id,
            legal_entity_id=obj.legal_entity.external_id if obj.legal_entity else None,
        )

    @admin.action(
        description="Remove selected customers from their segments", permissions=["delete"]
    )
    def remove_selected(self, request: HttpRequest, queryset) -> None:
        """`customer_assignments_bulk_delete`, one call per segment."""
        self.remove_through_service(
            request,
            queryset.select_related("tenant", "segment__tenant", "customer", "legal_entity"),
            noun="customer",
            batch_of=lambda row: (
                (row.tenant, row.segment.external_id),
                (
                    row.customer.external_id,
                    row.legal_entity.external_id if row.legal_entity else None,
                ),
            ),
            delete=lambda batch, keys: customer_assignments_bulk_delete(
                tenant=batch[0], segment_id=batch[1], keys=keys
            ),
        )

    actions = ["remove_selected"]


class ItemAssignmentForm(AssignmentForm):
    """A product or a category in a segment."""

    class Meta:
        model = ItemAssignment
        fields = ["tenant", "segment", "type", "product", "category", "mixins", "metadata_mixins"]

    def clean(self):
        """A product assignment names a product, a category assignment a category."""
        cleaned = super().clean()
        if self.instance.pk:
            return cleaned
        item_type = cleaned.get("type")
        product, category = cleaned.get("product"), cleaned.get("category")
        if item_type == ItemType.PRODUCT:
            if product is None:
                self.add_error("product", "Pick the product to assign.")
            if category is not None:
                self.add_error("category", "A product assignment names no category.")
        elif item_type == ItemType.CATEGORY:
            if category is None:
                self.add_error("category", "Pick the category to assign.")
            if product is not None:
                self.add_error("product", "A category assignment names no product.")
        return cleaned

    def save_through_service(self) -> ItemAssignment:
        """`item_assignment_upsert`, as `PUT .../items/{type}/{itemId}` does."""
        data = self.cleaned_data
        instance = self.instance
        if instance.pk:
            segment, item_type = instance.segment, instance.type
            item = instance.product or instance.category
        else:
            segment, item_type = data["segment"], data["type"]
            item = data["product"] if item_type == ItemType.PRODUCT else data["category"]
        outcome = item_assignment_upsert(
            tenant=segment.tenant,
            segment_id=segment.external_id,
            type=ItemType(item_type),
            data=ItemAssignmentInput(
                item_id=item.external_id,
                fields=self.write_fields(),
            ),
        )
        return outcome.assignment


@admin.register(ItemAssignment)
class ItemAssignmentAdmin(AssignmentAdmin):
    """Products and categories in segments."""

    form = ItemAssignmentForm
    workspace_view = "items"
    list_title = "Products and categories in {}"
    identity_fields = ["segment", "type", "product", "category"]
    list_display = ["item_id", "item_name", "type", "segment_link", "modified_at", "tenant_name"]
    list_select_related = ["segment__tenant", "product", "category", "tenant"]
    list_filter = [SegmentFilter, ProductFilter, CategoryFilter, "type"]
    search_fields = [
        "=product__external_id",
        "product__code",
        "=category__external_id",
        "category__code",
        "=segment__external_id",
    ]
    ordering = ["tenant_id", "segment_id", "type", "id"]
    autocomplete_fields = ["segment", "product", "category"]
    radio_fields = {"type": admin.HORIZONTAL}
    fields = [
        "tenant",
        "segment",
        "type",
        "product",
        "category",
        "mixins",
        "metadata_mixins",
        "version",
    ]

    def get_changeform_initial_data(self, request: HttpRequest):
        """The item type the add link came with (`?type=CATEGORY`)."""
        initial = super().get_changeform_initial_data(request)
        item_type = changelist_param(request, "type") or changelist_param(request, "type__exact")
        if item_type and item_type.upper() in ItemType.values:
            initial["type"] = item_type.upper()
        return initial

    @admin.display(description="item", ordering="id")
    def item_id(self, row: ItemAssignment) -> str:
        """The product's or category's id."""
        item = row.product if row.type == ItemType.PRODUCT else row.category
        return item.external_id if item else "?"

    @admin.display(description="name")
    def item_name(self, row: ItemAssignment) -> str:
        """The item's code and name in the tenant's default language."""
        item = row.product if row.type == ItemType.PRODUCT else row.category
        if item is None:
            return ""
        name = text_in(item.name, row.tenant.default_language)
        return f"{item.code} · {name}" if item.code else name

    def delete_model(self, request: HttpRequest, obj: ItemAssignment) -> None:
        """`item_assignment_delete`, recording its event."""
        item = obj.product if obj.type == ItemType.PRODUCT else obj.category
        item_assignment_delete(
            tenant=obj.tenant,
            segment_id=obj.segment.external_id,
            type=ItemType(obj.type),
            item_id=item.external_id,
        )

    @admin.action(description="Remove selected items from their segments", permissions=["delete"])
    def remove_selected(self, request: HttpRequest, queryset) -> None:
        """`item_assignments_bulk_delete`, one call per segment and type."""
        self.remove_through_service(
            request,
            queryset.select_related("tenant", "segment__tenant", "product", "category"),
            noun="item",
            batch_of=lambda row: (
                (row.tenant, row.segment.external_id, row.type),
                (row.product if row.type == ItemType.PRODUCT else row.category).external_id,
            ),
            delete=lambda batch, keys: item_assignments_bulk_delete(
                tenant=batch[0], segment_id=batch[1], type=ItemType(batch[2]), item_ids=keys
            ),
        )

    actions = ["remove_selected"]


class GroupAssignmentForm(AssignmentForm):
    """A directory group in a segment: its members belong to the segment."""

    class Meta:
        model = GroupAssignment
        fields = ["tenant", "segment", "group", "mixins", "metadata_mixins"]

    def save_through_service(self) -> GroupAssignment:
        """`group_assignment_upsert`, as `PUT .../groups/{groupId}` does."""
        data = self.cleaned_data
        instance = self.instance
        segment = instance.segment if instance.pk else data["segment"]
        group = instance.group if instance.pk else data["group"]
        outcome = group_assignment_upsert(
            tenant=segment.tenant,
            segment_id=segment.external_id,
            data=GroupAssignmentInput(
                group_id=group.external_id,
                fields=self.write_fields(),
            ),
        )
        return outcome.assignment


@admin.register(GroupAssignment)
class GroupAssignmentAdmin(AssignmentAdmin):
    """Groups in segments: every customer of an assigned group is in the segment."""

    form = GroupAssignmentForm
    list_title = "Groups in {}"
    identity_fields = ["segment", "group"]
    list_display = ["group_id_link", "group_name", "segment_link", "modified_at", "tenant_name"]
    list_select_related = ["segment__tenant", "group", "tenant"]
    list_filter = [SegmentFilter, GroupFilter]
    search_fields = ["=group__external_id", "=segment__external_id"]
    ordering = ["tenant_id", "segment_id", "group_id", "id"]
    autocomplete_fields = ["segment", "group"]
    fields = ["tenant", "segment", "group", "mixins", "metadata_mixins", "version"]

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        """A "+" next to the group: create one in the form's tenant, then assign it."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "group":
            # The service refuses a group of another tenant or one holding employees.
            allow_add_related(formfield, request, self.admin_site)
        return formfield

    @admin.display(description="group", ordering="group__external_id")
    def group_id_link(self, row: GroupAssignment) -> str:
        """The group's id, linking to the assignment."""
        return row.group.external_id

    @admin.display(description="name")
    def group_name(self, row: GroupAssignment) -> str:
        """The group's name in the tenant's language."""
        return text_in(row.group.name, row.tenant.default_language)

    def delete_model(self, request: HttpRequest, obj: GroupAssignment) -> None:
        """`group_assignment_delete`, recording its event."""
        group_assignment_delete(
            tenant=obj.tenant, segment_id=obj.segment.external_id, group_id=obj.group.external_id
        )

    @admin.action(description="Remove selected groups from their segments", permissions=["delete"])
    def remove_selected(self, request: HttpRequest, queryset) -> None:
        """`group_assignments_bulk_delete`, one call per segment."""
        self.remove_through_service(
            request,
            queryset.select_related("tenant", "segment__tenant", "group"),
            noun="group",
            batch_of=lambda row: ((row.tenant, row.segment.external_id), row.group.external_id),
            delete=lambda batch, keys: group_assignments_bulk_delete(
                tenant=batch[0], segment_id=batch[1], keys=keys
            ),
        )

    actions = ["remove_selected"]

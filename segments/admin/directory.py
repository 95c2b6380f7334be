"""Admin of the records segments refer to: customers, legal entities, groups, products,
categories.

Categories show as a tree: each row names its path from the root (breadcrumbs, indented by
depth), its direct product count and a link to its subcategories.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminSplitDateTime
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from segments.admin.base import (
    LOCALIZED,
    ExistingRowsInline,
    NewRowsInline,
    TenantOwnedAdmin,
)
from segments.admin.common import (
    JSONObjectField,
    LocalizedFormMixin,
    change_link,
    changelist_link,
    text_in,
)
from segments.admin.workspace import customer_segments_display
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    CustomerLegalEntity,
    Group,
    GroupMember,
    ItemAssignment,
    LegalEntity,
    Product,
    ProductCategory,
    Segment,
)
from segments.selectors.admin import (
    categories_annotated,
    category_ancestors,
    customers_annotated,
    groups_annotated,
    legal_entities_annotated,
    products_annotated,
)
from segments.services.changes import changes_note
from segments.services.group_assignments import group_saved
from segments.services.records import records_delete
from segments.services.rules import customers_of_legal_entities, rules_customers_changed
from tenants.admin_scoping import TenantAutocompleteSelect, allow_add_related
from tenants.models import Tenant


class RecordAdmin(TenantOwnedAdmin):
    """A referenced record: deleting it goes through `records_delete`, so the assignments
    that go with it record their deleted events as they do through the API."""

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        """Save the record, noting the change for the tenant's ETags (no event tells)."""
        super().save_model(request, obj, form, change)
        changes_note(tenant=obj.tenant)

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:
        """Save the memberships edited inline, noting the change likewise."""
        super().save_related(request, form, formsets, change)
        changes_note(tenant=form.instance.tenant)

    def delete_model(self, request: HttpRequest, obj) -> None:
        """Delete one record and its assignments, with events."""
        records_delete(tenant=obj.tenant, rows=type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        """Delete the selected records, tenant by tenant, with events."""
        for tenant in Tenant.objects.filter(name__in=queryset.values("tenant_id")):
            records_delete(tenant=tenant, rows=queryset)


CRUMB = " \u203a "  # the breadcrumb separator, a single right-pointing angle quotation mark

# --- legal entities and customers --------------------------------------------------------------


@admin.register(LegalEntity)
class LegalEntityAdmin(RecordAdmin):
    """Companies that B2B customers act for."""

    list_display = ["external_id", "name", "tenant_name", "customer_total"]
    search_fields = ["external_id", "name"]
    ordering = ["tenant_id", "external_id"]
    fields = ["tenant", "external_id", "name"]

    def get_queryset(self, request: HttpRequest):
        return legal_entities_annotated(super().get_queryset(request))

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        """Narrowed to one customer's legal entities by `?customer=` (the assignment form's)."""
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        customer = request.GET.get("customer", "")
        if customer.isdigit():
            queryset = queryset.filter(customers__pk=customer)
        return queryset, duplicates

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        """A legal entity made from an assignment form (`?customer=`) is that customer's;
        the rules re-read its customers (a rule may read its name)."""
        super().save_model(request, obj, form, change)
        customer = request.GET.get("customer", "")
        if not change and customer.isdigit():
            row = self.scoped_related(request, Customer).filter(
                pk=customer, tenant_id=obj.tenant_id
            )
            for found in row:
                CustomerLegalEntity.objects.get_or_create(
                    tenant_id=obj.tenant_id, customer=found, legal_entity=obj
                )
        rules_customers_changed(
            tenant=obj.tenant,
            customer_pks=customers_of_legal_entities(tenant=obj.tenant, legal_entity_pks=[obj.pk]),
        )

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """The id is what the API and assignments refer to: fixed once created."""
        return ["external_id"] if obj else []

    @admin.display(description="customers", ordering="customer_count")
    def customer_total(self, entity: LegalEntity) -> str:
        """How many customers act for it."""
        return str(getattr(entity, "customer_count", 0))


class CustomerForm(forms.ModelForm):
    """A customer; `attributes` is a JSON object."""

    attributes = JSONObjectField(help_text='A JSON object of attributes, e.g. {"tier": "vip"}.')

    class Meta:
        model = Customer
        fields = ["tenant", "external_id", "first_name", "last_name", "email", "attributes"]


class CustomerMembershipsInline(ExistingRowsInline):
    """The legal entities a customer acts for."""

    model = CustomerLegalEntity
    related_field = "legal_entity"
    total_attribute = "legal_entity_count"
    verbose_name = "legal entity"
    verbose_name_plural = "Legal entities this customer acts for"


class NewCustomerMembershipInline(NewRowsInline):
    """Add the customer to legal entities."""

    model = CustomerLegalEntity
    related_field = "legal_entity"
    verbose_name = "legal entity"
    verbose_name_plural = "Add to legal entities"


@admin.register(Customer)
class CustomerAdmin(RecordAdmin):
    """Customers, with the segments they are in."""

    form = CustomerForm
    list_display = [
        "external_id",
        "full_name",
        "email",
        "tenant_name",
        "legal_entity_total",
        "segment_total",
    ]
    search_fields = ["external_id", "first_name", "last_name", "email"]
    ordering = ["tenant_id", "external_id"]
    inlines = [CustomerMembershipsInline, NewCustomerMembershipInline]

    change_form_template = "admin/segments/customer/change_form.html"

    def get_queryset(self, request: HttpRequest):
        return customers_annotated(super().get_queryset(request))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """Below the customer's form, "why is this customer in / not in …": a segment picked
        with the tenant's autocomplete, a legal entity of theirs, opening the explain view."""
        if obj is not None and obj.pk:
            widget = TenantAutocompleteSelect(
                CustomerAssignment._meta.get_field("segment"), self.admin_site, tenant=obj.tenant_id
            )
            # The field gives the widget its choices; nothing is chosen, so nothing is read.
            widget = forms.ModelChoiceField(
                Segment.objects.filter(tenant_id=obj.tenant_id), widget=widget
            ).widget
            entities = list(
                obj.legal_entities.order_by("external_id").values_list("external_id", "name")[
                    : self.list_per_page
                ]
            )
            context["explain_picker"] = {
                "url": reverse("admin:rule-explain"),
                "segment": widget.render("segment", None, {"id": "why-segment"}),
                "legal_entities": entities,
            }
            context["media"] = context["media"] + widget.media
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """Save the memberships; then the rules re-read the customer, in the same transaction."""
        super().save_related(request, form, formsets, change)
        rules_customers_changed(tenant=form.instance.tenant, customer_pks=[form.instance.pk])

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """The id is fixed once created; the segments the customer is in are shown."""
        return ["external_id", "segment_memberships"] if obj else []

    @admin.display(description="segments")
    def segment_memberships(self, customer: Customer) -> str:
        """The segments the customer is in and how (manual or by a rule)."""
        return customer_segments_display(customer)

    @admin.display(description="name", ordering="last_name")
    def full_name(self, customer: Customer) -> str:
        """First and last name."""
        return f"{customer.first_name} {customer.last_name}".strip()

    @admin.display(description="legal entities", ordering="legal_entity_count")
    def legal_entity_total(self, customer: Customer) -> int:
        """How many legal entities the customer acts for."""
        return getattr(customer, "legal_entity_count", 0)

    @admin.display(description="segments", ordering="segment_count")
    def segment_total(self, customer: Customer) -> str:
        """How many segment assignments, linking to them."""
        count = getattr(customer, "segment_count", 0)
        return changelist_link(CustomerAssignment, count, customer=customer.pk)


# --- groups -----------------------------------------------------------------------------------


class GroupForm(LocalizedFormMixin, forms.ModelForm):
    """A group: localized name, who it holds, and the legal entity it may be bound to."""

    localized = {"name": ("Name", forms.TextInput)}

    class Meta:
        model = Group
        fields = ["tenant", "external_id", "user_type", "legal_entity"]
        help_texts = {
            "user_type": "Only CUSTOMER groups can be assigned to segments; making a group "
            "EMPLOYEE takes it off every segment.",
            "legal_entity": "When set, the group counts for its members only while they act "
            "for this legal entity.",
        }

    def _post_clean(self) -> None:
        self.instance.name = self.localized_map("name")
        super()._post_clean()


class GroupMembersInline(ExistingRowsInline):
    """The customers in a group."""

    model = GroupMember
    related_field = "customer"
    total_attribute = "member_count"
    verbose_name = "member"
    verbose_name_plural = "Members of this group"


class NewGroupMemberInline(NewRowsInline):
    """Add customers to the group."""

    model = GroupMember
    related_field = "customer"
    verbose_name = "member"
    verbose_name_plural = "Add members"


@admin.register(Group)
class GroupAdmin(RecordAdmin):
    """Groups of customers: every member belongs to the segments the group is assigned to."""

    form = GroupForm
    fieldsets = [
        (None, {"fields": ["tenant", "external_id", LOCALIZED, "user_type", "legal_entity"]})
    ]
    list_display = [
        "external_id",
        "group_name",
        "user_type",
        "legal_entity",
        "tenant_name",
        "member_total",
        "segment_total",
    ]
    list_filter = ["user_type"]
    search_fields = ["external_id", "name"]
    ordering = ["tenant_id", "external_id"]
    autocomplete_fields = ["legal_entity"]
    inlines = [GroupMembersInline, NewGroupMemberInline]

    def get_queryset(self, request: HttpRequest):
        return groups_annotated(super().get_queryset(request))

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        """A "+" next to the legal entity: create the one the group is bound to."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "legal_entity":
            allow_add_related(formfield, request, self.admin_site)
        return formfield

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """The id is what the API and assignments refer to: fixed once created."""
        return ["external_id"] if obj else []

    def save_model(self, request: HttpRequest, obj: Group, form, change: bool) -> None:
        """Save; a group that no longer holds customers loses its segment assignments."""
        super().save_model(request, obj, form, change)
        group_saved(tenant=obj.tenant, group=obj)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """Save the members; then the rules re-read the members before and after (a rule
        may read `groups.id`, and a user type change moves them all), in the same
        transaction."""
        group = form.instance
        members = GroupMember.objects.filter(tenant_id=group.tenant_id, group=group)
        before = set(members.values_list("customer_id", flat=True))
        super().save_related(request, form, formsets, change)
        after = set(members.values_list("customer_id", flat=True))
        rules_customers_changed(tenant=group.tenant, customer_pks=before | after)

    @admin.display(description="name")
    def group_name(self, group: Group) -> str:
        """The name in the tenant's default language."""
        return text_in(group.name, group.tenant.default_language)

    @admin.display(description="members", ordering="member_count")
    def member_total(self, group: Group) -> int:
        """How many customers are in the group."""
        return getattr(group, "member_count", 0)

    @admin.display(description="segments", ordering="segment_count")
    def segment_total(self, group: Group) -> str:
        """How many segments the group is assigned to."""
        return str(getattr(group, "segment_count", 0))


# --- products and categories ----------------------------------------------------------------


class ProductForm(LocalizedFormMixin, forms.ModelForm):
    """A product: code and localized name."""

    localized = {"name": ("Name", forms.TextInput)}

    class Meta:
        model = Product
        fields = ["tenant", "external_id", "code"]

    def _post_clean(self) -> None:
        self.instance.name = self.localized_map("name")
        super()._post_clean()


class ProductCategoriesInline(ExistingRowsInline):
    """The categories a product sits in."""

    model = ProductCategory
    related_field = "category"
    total_attribute = "category_count"
    verbose_name = "category"
    verbose_name_plural = "Categories this product is in"


class NewProductCategoryInline(NewRowsInline):
    """Put the product in more categories."""

    model = ProductCategory
    related_field = "category"
    verbose_name = "category"
    verbose_name_plural = "Add to categories"


@admin.register(Product)
class ProductAdmin(RecordAdmin):
    """Products, with their categories and segments."""

    form = ProductForm
    fieldsets = [(None, {"fields": ["tenant", "external_id", "code", LOCALIZED]})]
    list_display = [
        "external_id",
        "code",
        "product_name",
        "tenant_name",
        "category_total",
        "segment_total",
    ]
    search_fields = ["external_id", "code", "name"]
    ordering = ["tenant_id", "external_id"]
    list_select_related = ["tenant"]
    inlines = [ProductCategoriesInline, NewProductCategoryInline]

    def get_queryset(self, request: HttpRequest):
        return products_annotated(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """The id is what the API and assignments refer to: fixed once created."""
        return ["external_id"] if obj else []

    @admin.display(description="name")
    def product_name(self, product: Product) -> str:
        """The name in the tenant's default language."""
        return text_in(product.name, product.tenant.default_language)

    @admin.display(description="categories", ordering="category_count")
    def category_total(self, product: Product) -> int:
        """How many categories the product is in."""
        return getattr(product, "category_count", 0)

    @admin.display(description="segments", ordering="segment_count")
    def segment_total(self, product: Product) -> str:
        """How many segments hold the product directly, linking to them."""
        count = getattr(product, "segment_count", 0)
        return changelist_link(ItemAssignment, count, product=product.pk)


class CategoryForm(LocalizedFormMixin, forms.ModelForm):
    """A category: localized name, description and slug; place in the tree; validity."""

    localized = {
        "name": ("Name", forms.TextInput),
        "description": ("Description", forms.Textarea),
        "slug": ("Slug", forms.TextInput),
    }
    ecn = forms.JSONField(
        required=False,
        label="ECNs",
        help_text='A JSON list, e.g. ["123", "456"].',
        widget=forms.TextInput(attrs={"size": 60}),
    )
    valid_from = forms.SplitDateTimeField(required=False, widget=AdminSplitDateTime)
    valid_to = forms.SplitDateTimeField(required=False, widget=AdminSplitDateTime)

    class Meta:
        model = Category
        fields = [
            "tenant",
            "external_id",
            "code",
            "parent",
            "position",
            "published",
            "ecn",
            "valid_from",
            "valid_to",
        ]

    def clean_ecn(self):
        """ECNs are a list."""
        value = self.cleaned_data.get("ecn")
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            raise forms.ValidationError('Enter a JSON list, like ["123"].')
        return value

    def clean(self):
        """Validity ends follow their starts; a category is not its own ancestor."""
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_to")
        if start and end and start >= end:
            self.add_error("valid_to", "The end of validity must come after its start.")
        parent = cleaned.get("parent")
        if parent is not None and self.instance.pk:
            chain = category_ancestors([parent.pk])
            if self.instance.pk in chain:
                self.add_error("parent", "A category cannot sit under itself or its descendants.")
        return cleaned

    def _post_clean(self) -> None:
        for field in self.localized:
            setattr(self.instance, field, self.localized_map(field))
        super()._post_clean()


class CategoryChangeList(ChangeList):
    """Labels each category of the page with its path from the root (one query for all)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)  # evaluated once; the template reuses these instances
        ancestry = category_ancestors([row.pk for row in rows])
        for row in rows:
            path, parent, seen = [], row.parent_id, {row.pk}
            while parent is not None and parent in ancestry and parent not in seen:
                seen.add(parent)
                path.append((parent, *ancestry[parent][1:]))
                parent = ancestry[parent][0]
            row.tree_path = list(reversed(path))


@admin.register(Category)
class CategoryAdmin(RecordAdmin):
    """The category tree: breadcrumbs from the root, product counts, subcategory links."""

    form = CategoryForm
    fieldsets = [
        (None, {"fields": ["tenant", "external_id", "code", "parent", "position", "published"]}),
        ("Texts", {"fields": [LOCALIZED]}),
        ("More", {"fields": ["ecn", "valid_from", "valid_to"]}),
    ]
    list_display = [
        "tree_name",
        "external_id",
        "code",
        "tenant_name",
        "product_total",
        "subcategory_total",
        "published",
        "position",
    ]
    list_display_links = ["external_id"]
    list_filter = ["published", ("parent", admin.EmptyFieldListFilter)]
    list_select_related = ["tenant"]
    search_fields = ["external_id", "code", "name"]
    ordering = ["tenant_id", "external_id"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request: HttpRequest):
        return categories_annotated(super().get_queryset(request))

    def get_changelist(self, request: HttpRequest, **kwargs):
        return CategoryChangeList

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """The id is what the API and assignments refer to: fixed once created."""
        return ["external_id"] if obj else []

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Allow the subcategory links' `parent__id__exact`."""
        return lookup == "parent__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="category")
    def tree_name(self, category: Category) -> str:
        """The name indented by depth, then its path from the root, ancestors as links."""
        language = category.tenant.default_language
        path = getattr(category, "tree_path", [])
        crumbs = format_html_join(
            CRUMB,
            "{}",
            (
                (changelist_link(Category, text_in(name, language) or code, parent__id__exact=pk),)
                for pk, name, code in path
            ),
        )
        name = text_in(category.name, language) or category.code or category.external_id
        return format_html(
            '<span class="category-tree" style="padding-left:{}em" data-depth="{}">'
            '<span class="tree-branch">{}</span><strong>{}</strong>'
            '<span class="category-path">{}</span></span>',
            1.5 * len(path),
            len(path),
            "\u2514 " if path else "",
            name,
            crumbs,
        )

    @admin.display(description="products", ordering="product_count")
    def product_total(self, category: Category) -> int:
        """How many products sit directly in the category."""
        return getattr(category, "product_count", 0)

    @admin.display(description="subcategories", ordering="child_count")
    def subcategory_total(self, category: Category) -> str:
        """How many children, linking to them."""
        count = getattr(category, "child_count", 0)
        if not count:
            return "0"
        return changelist_link(Category, count, parent__id__exact=category.pk)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        """Titled with the parent when showing one category's children."""
        parent_pk = request.GET.get("parent__id__exact")
        if parent_pk and parent_pk.isdigit():
            parent = self.get_queryset(request).filter(pk=parent_pk).first()
            if parent is not None:
                extra_context = {**(extra_context or {}), "title": f"Subcategories of {parent}"}
                extra_context["subtitle"] = change_link(parent)
        return super().changelist_view(request, extra_context)

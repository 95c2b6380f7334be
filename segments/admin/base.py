"""The base ModelAdmin of every tenant-owned model of the segments app."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from segments.admin.common import LocalizedFormMixin, localized_field_names, localized_form
from tenants.admin_scoping import (
    TenantListFilter,
    TenantScopedAdminMixin,
    TenantScopedInlineMixin,
    allow_add_related,
    form_tenant,
)

LOCALIZED = "<localized>"


class TenantOwnedAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Scoped to the user's tenants; a tenant filter first; localized inputs per language.

    `fieldsets` may hold the marker `LOCALIZED`, replaced by one input per language of
    the form's tenant for each localized field of `form` (a `LocalizedFormMixin` form).
    """

    list_per_page = 50
    show_full_result_count = False  # the filtered count is enough; skips a full-table COUNT

    class Media:
        css = {"all": ["segments/admin.css"]}

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        """The tenant filter, then the class's own."""
        return [TenantListFilter, *self.list_filter]

    @admin.display(description="tenant", ordering="tenant_id")
    def tenant_name(self, row) -> str:
        """The row's tenant (its name is its key: no join needed)."""
        return row.tenant_id

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        """The form, with one input per language of the form's tenant for localized fields."""
        if isinstance(self.form, type) and issubclass(self.form, LocalizedFormMixin):
            kwargs["form"] = localized_form(self.form, form_tenant(request), obj)
        return super().get_form(request, obj, change, **kwargs)

    def base_fieldsets(self, request: HttpRequest, obj=None) -> list[Any] | None:
        """The fieldsets before the localized marker is expanded (default: `fieldsets`)."""
        return self.fieldsets

    def get_fieldsets(self, request: HttpRequest, obj=None):
        """`base_fieldsets`, the localized marker expanded for the form's tenant."""
        fieldsets = self.base_fieldsets(request, obj)
        if not fieldsets:
            return super().get_fieldsets(request, obj)
        names = (
            localized_field_names(self.form, form_tenant(request), obj)
            if issubclass(self.form, LocalizedFormMixin)
            else []
        )
        expanded = []
        for title, options in fieldsets:
            fields: list[Any] = []
            for field in options.get("fields", ()):
                fields.extend(names if field == LOCALIZED else [field])
            expanded.append((title, {**options, "fields": fields}))
        return expanded


class ExistingRowsInline(TenantScopedInlineMixin, admin.TabularInline):
    """The rows of a link table, read-only (removable): one query, whatever their number.

    Editing existing links through autocompletes would cost a query per row to label the
    chosen option; links are added through `NewRowsInline` instead.
    """

    extra = 0
    related_field: str = ""
    shown = 50  # rows shown at most: a group of 50,000 members renders a page of them
    total_attribute: str = ""  # the parent's annotated count of these rows, for the heading

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        """The formset of the first `shown` rows; the heading says how many there are."""
        formset = super().get_formset(request, obj, **kwargs)
        shown = self.shown

        class FirstRows(formset):  # type: ignore[misc, valid-type]
            def get_queryset(self):
                if not hasattr(self, "_first_rows"):
                    self._first_rows = super().get_queryset()[:shown]
                return self._first_rows

        total = getattr(obj, self.total_attribute, None) if self.total_attribute else None
        if total is not None and total > shown:
            self.verbose_name_plural = (
                f"{type(self).verbose_name_plural} (the first {shown} of {total:,})"
            )
        return FirstRows

    def get_queryset(self, request: HttpRequest):
        """The links with both linked rows joined in (a link's label names both)."""
        linked = [
            field.name
            for field in self.model._meta.concrete_fields
            if field.many_to_one and field.name != "tenant"
        ]
        rows = super().get_queryset(request).select_related(*linked)
        return rows.order_by(f"{self.related_field}__external_id", "pk")

    def get_fields(self, request: HttpRequest, obj=None):
        return [self.related_field]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [self.related_field]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class NewRowsInline(TenantScopedInlineMixin, admin.TabularInline):
    """Blank rows to add links, the linked row picked with a tenant-bound autocomplete."""

    extra = 1
    related_field: str = ""
    can_delete = False

    def get_queryset(self, request: HttpRequest):
        """No existing rows: `ExistingRowsInline` shows those."""
        return super().get_queryset(request).none()

    def get_fields(self, request: HttpRequest, obj=None):
        return ["tenant", self.related_field]

    def get_autocomplete_fields(self, request: HttpRequest):
        return [self.related_field]

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        """The linked row's picker keeps its "+": create a legal entity or a group in a
        pop-up (in the form's tenant) and pick it at once."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == self.related_field:
            allow_add_related(formfield, request, self.admin_site)
        return formfield

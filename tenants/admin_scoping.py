"""Tenant scoping for the admin, applied once for every tenant-owned model.

Superusers see every tenant. A staff user sees only the tenants granted to them
(`StaffTenantAccess`): every changelist, change form, foreign-key choice and autocomplete
answer is limited to those tenants, so no admin class can forget it.

Forms of tenant-owned rows are bound to one tenant: the row's own on change; on add the one
named by `?tenant=` (or the changelist's tenant filter, or the user's only tenant), and the
admin asks which tenant first when none is named. Foreign-key choices and autocomplete
results of such a form come from that tenant only.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import (
    AutocompleteSelect,
    AutocompleteSelectMultiple,
    RelatedFieldWidgetWrapper,
)
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from tenants.models import Tenant

TENANT_PARAM = "tenant"
_ALLOWED_ATTR = "_admin_allowed_tenants"
_FORM_TENANT_ATTR = "_admin_form_tenant"


def allowed_tenant_names(request: HttpRequest) -> frozenset[str] | None:
    """The tenants the request's user may see; None means all (a superuser). Cached per request."""
    if not hasattr(request, _ALLOWED_ATTR):
        user = request.user
        names: frozenset[str] | None
        if user.is_active and user.is_superuser:
            names = None
        elif not (user.is_active and user.is_staff):
            names = frozenset()
        else:
            names = frozenset(user.tenant_access.values_list("tenant_id", flat=True))
        setattr(request, _ALLOWED_ATTR, names)
    return getattr(request, _ALLOWED_ATTR)


def visible_tenants(request: HttpRequest) -> QuerySet[Tenant]:
    """The Tenant rows the request's user may see."""
    names = allowed_tenant_names(request)
    queryset = Tenant.objects.all()
    return queryset if names is None else queryset.filter(name__in=names)


def visible_tenant_list(request: HttpRequest) -> list[Tenant]:
    """`visible_tenants` evaluated once per request (filters and choosers share it)."""
    cached = getattr(request, "_admin_visible_tenant_list", None)
    if cached is None:
        cached = list(visible_tenants(request))
        request._admin_visible_tenant_list = cached
    return cached


def may_see_tenant(request: HttpRequest, name: str | None) -> bool:
    """Whether the user may see tenant `name`."""
    names = allowed_tenant_names(request)
    return name is not None and (names is None or name in names)


def form_tenant(request: HttpRequest) -> Tenant | None:
    """The tenant the current change form is bound to, once the admin has resolved it."""
    return getattr(request, _FORM_TENANT_ATTR, None)


def requested_tenant_name(request: HttpRequest) -> str | None:
    """The tenant named by `?tenant=`, or by the tenant filter of the changelist we came from."""
    name = request.GET.get(TENANT_PARAM)
    if name:
        return name
    filters = dict(parse_qsl(request.GET.get("_changelist_filters", "")))
    return filters.get(TENANT_PARAM) or filters.get("tenant__name__exact") or None


def _holds_a_tenant(request: HttpRequest) -> bool:
    names = allowed_tenant_names(request)
    return names is None or bool(names)


def _has_tenant(model: type[Model]) -> bool:
    return any(field.name == "tenant" for field in model._meta.concrete_fields)


class TenantAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that only offers rows of one tenant (it adds `?tenant=` to its URL)."""

    def __init__(self, *args: Any, tenant: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def get_url(self) -> str:
        """The admin's autocomplete URL, narrowed to the form's tenant."""
        url = super().get_url()
        return f"{url}?{urlencode({TENANT_PARAM: self.tenant})}" if self.tenant else url


class TenantAutocompleteSelectMultiple(TenantAutocompleteSelect, AutocompleteSelectMultiple):
    """The many-valued `TenantAutocompleteSelect`."""


class TenantRelatedFieldWidgetWrapper(RelatedFieldWidgetWrapper):
    """The related-object wrapper whose "+" pop-up makes the row in the form's tenant
    (`?tenant=` joins the pop-up's URL), so it cannot land in another tenant."""

    tenant: str | None = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if self.tenant:
            context["url_params"] += "&" + urlencode({TENANT_PARAM: self.tenant})
        return context


def allow_add_related(formfield: Any, request: HttpRequest, admin_site: admin.AdminSite) -> None:
    """Give a foreign key's widget its "+" again (the scoping mixin removes it): a pop-up
    creating the related row in the form's tenant, when that model's admin is registered
    and the user may add such rows."""
    widget = getattr(formfield, "widget", None)
    if not isinstance(widget, RelatedFieldWidgetWrapper):
        return
    related_admin = admin_site._registry.get(widget.rel.model)
    if related_admin is None or not related_admin.has_add_permission(request):
        return
    tenant = form_tenant(request)
    widget.__class__ = TenantRelatedFieldWidgetWrapper
    widget.tenant = tenant.name if tenant else None
    widget.can_add_related = True


class TenantListFilter(admin.SimpleListFilter):
    """Filter on the tenants the user may see (one query, shared with the chooser)."""

    title = "tenant"
    parameter_name = TENANT_PARAM
    lookup = "tenant_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Every visible tenant."""
        return [(t.name, t.name) for t in visible_tenant_list(request)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Rows of the chosen tenant."""
        if self.value():
            return queryset.filter(**{self.lookup: self.value()})
        return queryset


class TenantScopedAdminMixin:
    """Limits a ModelAdmin (or inline) of a tenant-owned model to the user's tenants.

    `tenant_lookup` is the path from the model to the tenant's name; `tenant_bound_forms`
    makes add views ask for the tenant first and fixes it in the form.
    """

    tenant_lookup = "tenant_id"
    tenant_bound_forms = True
    change_form_template = "admin/tenants/tenant_change_form.html"

    # --- reading ----------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Only rows of the tenants the user may see."""
        queryset = super().get_queryset(request)
        names = allowed_tenant_names(request)
        if names is not None:
            queryset = queryset.filter(**{f"{self.tenant_lookup}__in": names})
        return queryset

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Search, narrowed to `?tenant=` when given (the tenant-bound autocompletes send it)."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        tenant = request.GET.get(TENANT_PARAM)
        if tenant:
            queryset = queryset.filter(**{self.tenant_lookup: tenant})
        return queryset, may_have_duplicates

    def get_list_display(self, request: HttpRequest):
        """Without the tenant column when the user sees one tenant, or filtered to one."""
        columns = list(super().get_list_display(request))
        if "tenant_name" in columns and (
            request.GET.get(TENANT_PARAM) or len(visible_tenant_list(request)) == 1
        ):
            columns.remove("tenant_name")
        return columns

    def scoped_related(self, request: HttpRequest, model: type[Model]) -> QuerySet:
        """Rows of another tenant-owned model that the user may see."""
        names = allowed_tenant_names(request)
        queryset = model._default_manager.all()
        return queryset if names is None else queryset.filter(tenant_id__in=names)

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Hide the model from staff users who hold no tenant at all."""
        return _holds_a_tenant(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        """Nothing to see for a staff user who holds no tenant."""
        return _holds_a_tenant(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        """Nothing to add for a staff user who holds no tenant."""
        return _holds_a_tenant(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        """Nothing to change for a staff user who holds no tenant."""
        return _holds_a_tenant(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        """Nothing to delete for a staff user who holds no tenant."""
        return _holds_a_tenant(request) and super().has_delete_permission(request, obj)

    # --- forms ------------------------------------------------------------------------------

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        """The row (from the scoped queryset), remembering its tenant for the form."""
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and getattr(obj, "tenant_id", None):
            setattr(request, _FORM_TENANT_ATTR, obj.tenant)
        return obj

    def resolve_add_tenant(self, request: HttpRequest) -> Tenant | None:
        """The tenant an add form is for: named, or the user's only one; None when unclear."""
        name = requested_tenant_name(request)
        tenants = visible_tenant_list(request)
        if name:
            if not may_see_tenant(request, name):
                raise PermissionDenied(f"No access to tenant {name!r}.")
            return next((t for t in tenants if t.name == name), None)
        return tenants[0] if len(tenants) == 1 else None

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        """Ask for the tenant first unless it is known; then a form bound to it."""
        if not self.tenant_bound_forms:
            return super().add_view(request, form_url, extra_context)
        tenant = self.resolve_add_tenant(request)
        if tenant is None:
            return self.tenant_chooser(request)
        setattr(request, _FORM_TENANT_ATTR, tenant)
        return super().add_view(request, form_url, extra_context)

    def tenant_chooser(self, request: HttpRequest) -> HttpResponse:
        """A page listing the user's tenants, each linking back here with `?tenant=`."""
        params = request.GET.copy()
        choices = []
        for tenant in visible_tenant_list(request):
            params[TENANT_PARAM] = tenant.name
            choices.append((tenant, f"?{params.urlencode()}"))
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": f"Add {opts.verbose_name}: which tenant?",
            "opts": opts,
            "choices": choices,
        }
        return TemplateResponse(request, "admin/tenants/choose_tenant.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """Show the form's tenant and its languages above the fields."""
        context.setdefault("admin_tenant", form_tenant(request))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        """The model form, its `tenant` field fixed to the form's tenant."""
        form = super().get_form(request, obj, change, **kwargs)
        fix_tenant_field(form, form_tenant(request))
        return form

    def get_field_queryset(self, db, db_field, request: HttpRequest):
        """Choices of a foreign key: the form's tenant's rows, else the visible tenants' rows."""
        queryset = super().get_field_queryset(db, db_field, request)
        model = db_field.remote_field.model
        if queryset is None:
            queryset = model._default_manager.using(db).all()
        tenant = form_tenant(request)
        if model is Tenant:
            if tenant is not None:
                return queryset.filter(name=tenant.name)
            names = allowed_tenant_names(request)
            return queryset if names is None else queryset.filter(name__in=names)
        if _has_tenant(model):
            if tenant is not None:
                return queryset.filter(tenant=tenant)
            names = allowed_tenant_names(request)
            return queryset if names is None else queryset.filter(tenant__in=names)
        return queryset

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        """Foreign keys without add/change/delete pop-ups; viewing the chosen row stays."""
        # A row made in a pop-up could belong to another tenant than the form's.
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(formfield, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget.can_add_related = widget.can_change_related = widget.can_delete_related = False
        return formfield

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        """Autocompletes narrowed to the form's tenant."""
        if db_field.name in self.get_autocomplete_fields(request) and "widget" not in kwargs:
            tenant = form_tenant(request)
            kwargs["widget"] = TenantAutocompleteSelect(
                db_field,
                self.admin_site,
                using=kwargs.get("using"),
                tenant=tenant.name if tenant else None,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        """Many-valued autocompletes narrowed to the form's tenant."""
        if db_field.name in self.get_autocomplete_fields(request) and "widget" not in kwargs:
            tenant = form_tenant(request)
            kwargs["widget"] = TenantAutocompleteSelectMultiple(
                db_field,
                self.admin_site,
                using=kwargs.get("using"),
                tenant=tenant.name if tenant else None,
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        """New rows belong to the form's tenant, whatever was posted."""
        tenant = form_tenant(request)
        if not change and tenant is not None and hasattr(obj, "tenant_id"):
            obj.tenant = tenant
        super().save_model(request, obj, form, change)


def fix_tenant_field(form: type[forms.BaseForm], tenant: Tenant | None) -> None:
    """Fix a form's `tenant` field to `tenant`, hidden: posted values are ignored.

    The field stays in the form (rather than being excluded) so that the model's unique
    constraints, which all start with the tenant, are still checked by form validation.
    The change form names the tenant in a banner instead.
    """
    if "tenant" not in form.base_fields or tenant is None:
        return
    # A copy: a declared field would be shared by every form class made from the same form.
    field = form.base_fields["tenant"] = copy.deepcopy(form.base_fields["tenant"])
    field.widget = forms.HiddenInput()
    field.queryset = Tenant.objects.filter(name=tenant.name)
    field.initial = tenant.name
    field.disabled = True


class TenantScopedInlineMixin(TenantScopedAdminMixin):
    """The mixin for inlines: the same queryset and choice scoping; rows take the parent's tenant."""

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        """The inline formset, its hidden `tenant` field fixed to the parent's tenant."""
        formset = super().get_formset(request, obj, **kwargs)
        fix_tenant_field(formset.form, form_tenant(request))
        return formset

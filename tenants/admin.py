"""Admin for tenants, API clients, and which staff users may act for which tenants.

An API client's secret is shown once, on the page that follows its creation, and is
never stored in clear; revoking is an action. Staff users are limited to the tenants
granted to them (see `tenants.admin_scoping`); only superusers grant tenants.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse

from tenants.admin_scoping import TenantListFilter, TenantScopedAdminMixin
from tenants.choices import Scope
from tenants.models import LANGUAGE_PATTERN, ApiClient, StaffTenantAccess, Tenant
from tenants.selectors import tenant_row_counts
from tenants.services import api_client_create, api_client_revoke, tenant_create, tenant_delete

User = get_user_model()

admin.site.site_header = "Customer Segment Service"
admin.site.site_title = "Customer segments"
admin.site.index_title = "Segments, customers, catalogue and access"
# The changelists are wide (names, validity, counts); the sidebar would squeeze them.
admin.site.enable_nav_sidebar = False


def copy_saved(target, saved) -> None:
    """Make the admin's unsaved `target` the row a service saved (the admin goes on with it)."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class LanguagesField(forms.CharField):
    """A list of language codes, edited as comma-separated text."""

    def prepare_value(self, value):
        """Show a list as `en, de`."""
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        """`en, de` → `["en", "de"]`, each a language code."""
        text = super().to_python(value) or ""
        languages = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        bad = [lang for lang in languages if not LANGUAGE_PATTERN.match(lang)]
        if bad:
            raise ValidationError(f"Not language codes: {', '.join(bad)}.")
        if not languages:
            raise ValidationError("Name at least one language.")
        return languages


class TenantForm(forms.ModelForm):
    """A tenant's name and languages."""

    languages = LanguagesField(help_text="Comma-separated, e.g. en, de, fr.")

    class Meta:
        model = Tenant
        fields = ["name", "default_language", "languages"]


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Tenants with their languages; staff users see theirs, only superusers change them."""

    form = TenantForm
    tenant_lookup = "name"
    tenant_bound_forms = False
    change_form_template = None
    list_display = ["name", "default_language", "languages_text", "created_at"]
    search_fields = ["name"]

    @admin.display(description="languages")
    def languages_text(self, tenant: Tenant) -> str:
        """The allowed languages, comma-separated."""
        return ", ".join(tenant.languages)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """A tenant's name is its key everywhere: fixed once created."""
        return ["name", "created_at"] if obj else ["created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Only superusers create tenants."""
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        """Only superusers delete tenants (and with them all their data)."""
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        """Only superusers change a tenant's languages (the API validates against them)."""
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Tenant, form, change: bool) -> None:
        """New tenants go through `tenant_create`, like `manage.py create_tenant`."""
        if change:
            super().save_model(request, obj, form, change)
            return
        # The form has checked the name, its uniqueness and the languages already.
        saved = tenant_create(
            name=obj.name, default_language=obj.default_language, languages=obj.languages
        )
        copy_saved(obj, saved)

    # --- deletion --------------------------------------------------------------------------

    def get_deleted_objects(self, objs, request: HttpRequest):
        """How many rows of each kind go (one count per table), never a line per row.

        A tenant with more rows than `ADMIN_TENANT_DELETE_MAX_ROWS` is refused (as a
        protected object, so the page has no button and a POST deletes nothing), naming
        the `delete_tenant` command, which has no request timeout to finish within.
        """
        tenants = list(objs)
        counts = tenant_row_counts(tenants=tenants)
        summary = {"tenants": len(tenants), **{kind: n for kind, n in counts.items() if n}}
        listed = [f"Tenant: {tenant.name}" for tenant in tenants]
        limit = settings.ADMIN_TENANT_DELETE_MAX_ROWS
        total = sum(counts.values())
        protected = []
        if total > limit:
            commands = " and ".join(f"manage.py delete_tenant {t.name}" for t in tenants)
            protected = [
                f"{'This tenant holds' if len(tenants) == 1 else 'These tenants hold'} "
                f"{total:,} rows, more than the admin deletes within one request "
                f"({limit:,}). Delete {'it' if len(tenants) == 1 else 'them'} with {commands}."
            ]
        return listed, summary, set(), protected

    def delete_model(self, request: HttpRequest, obj: Tenant) -> None:
        """`tenant_delete`: every row of the tenant, in chunks, children first."""
        tenant_delete(tenant=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        """`tenant_delete` for each selected tenant."""
        for tenant in list(queryset):
            tenant_delete(tenant=tenant)


class ApiClientAddForm(forms.ModelForm):
    """A new API client: its name and scopes (client id and secret are generated)."""

    scope_choices = forms.MultipleChoiceField(
        label="Scopes", choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiClient
        fields = ["tenant", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["scope_choices"].initial = self.instance.scope_list

    def clean(self):
        """Store the chosen scopes the way the model keeps them."""
        cleaned = super().clean()
        chosen = cleaned.get("scope_choices") or []
        self.instance.scopes = " ".join(s for s in Scope.values if s in chosen)
        return cleaned


@admin.register(ApiClient)
class ApiClientAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """API clients; the secret is shown once after creation, then only its hash exists."""

    form = ApiClientAddForm
    list_display = ["client_id", "name", "tenant", "scopes", "active", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["tenant"]
    search_fields = ["client_id", "name"]
    actions = ["revoke"]

    def get_list_filter(self, request):
        """Tenant first, then whether revoked."""
        return [TenantListFilter, ("revoked_at", admin.EmptyFieldListFilter)]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """Generated and lifecycle fields are never edited."""
        return ["client_id", "created_at", "revoked_at"] if obj else []

    def get_fields(self, request: HttpRequest, obj=None):
        """Tenant, name and scopes; the generated fields too once the client exists."""
        fields = ["tenant", "name", "scope_choices"]
        return [*fields, "client_id", "created_at", "revoked_at"] if obj else fields

    @admin.display(boolean=True, description="active")
    def active(self, client: ApiClient) -> bool:
        """Whether the client may still obtain tokens."""
        return client.is_active

    def save_model(self, request: HttpRequest, obj: ApiClient, form, change: bool) -> None:
        """Create through `api_client_create`, keeping the one-time secret for the next page."""
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = api_client_create(tenant=obj.tenant, scopes=obj.scopes, name=obj.name)
        copy_saved(obj, issued.client)
        obj._issued_secret = issued.client_secret

    def response_add(self, request: HttpRequest, obj: ApiClient, post_url_continue=None):
        """Show the client id and secret, once; they are not shown again anywhere."""
        secret = getattr(obj, "_issued_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "API client created",
            "opts": self.model._meta,
            "client": obj,
            "client_secret": secret,
        }
        response = TemplateResponse(request, "admin/tenants/apiclient/secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API clients", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        """Revoke: the clients obtain no more tokens, and the ones they hold stop working."""
        count = 0
        with transaction.atomic():
            for client in queryset.filter(revoked_at__isnull=True):
                api_client_revoke(client=client)
                count += 1
        self.message_user(request, f"Revoked {count} API client(s).", messages.SUCCESS)


class StaffTenantAccessInline(admin.TabularInline):
    """The tenants a staff user may act for; only superusers change them."""

    model = StaffTenantAccess
    extra = 1
    verbose_name = "tenant this user may act for"
    verbose_name_plural = "Tenants this user may act for (superusers see all)"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin, plus the tenants each staff user may act for."""

    inlines = [StaffTenantAccessInline]
    list_display = ["username", "email", "is_staff", "is_superuser", "tenants"]

    def get_queryset(self, request: HttpRequest):
        """Users with their tenant grants in one extra query."""
        return super().get_queryset(request).prefetch_related("tenant_access")

    @admin.display(description="tenants")
    def tenants(self, user) -> str:
        """The granted tenants, or 'all' for a superuser."""
        if user.is_superuser:
            return "all"
        return ", ".join(sorted(access.tenant_id for access in user.tenant_access.all())) or "—"

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Staff limited to tenants do not manage users (they could grant themselves more)."""
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

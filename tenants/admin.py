"""Admin for tenants and API clients."""

from django.contrib import admin

from tenants.models import ApiClient, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Tenants with their languages."""

    list_display = ["name", "default_language", "languages", "created_at"]
    search_fields = ["name"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """API clients; secrets are never shown here."""

    list_display = ["client_id", "name", "tenant", "scopes", "created_at", "revoked_at"]
    list_filter = ["tenant"]
    search_fields = ["client_id", "name"]
    readonly_fields = ["client_id", "created_at", "revoked_at"]

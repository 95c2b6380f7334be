"""The tenants app: tenants, API clients and bearer tokens."""

from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """Configuration of the tenants app."""

    name = "tenants"
    verbose_name = "Tenants and access"

    def ready(self) -> None:
        """Register the OpenAPI description of the bearer token; re-read saved tenants.

        A tenant saved or deleted in this process is re-read on its next request; an API
        client saved or deleted is re-read too (every worker, when the cache is shared).
        """
        from django.db.models.signals import post_delete, post_save

        from tenants import schema  # noqa: F401
        from tenants.models import ApiClient, Tenant
        from tenants.selectors import api_client_cache_forget, tenant_cache_clear

        post_save.connect(tenant_cache_clear, sender=Tenant, dispatch_uid="tenant_cache_save")
        post_delete.connect(tenant_cache_clear, sender=Tenant, dispatch_uid="tenant_cache_delete")
        post_save.connect(
            api_client_cache_forget, sender=ApiClient, dispatch_uid="api_client_cache_save"
        )
        post_delete.connect(
            api_client_cache_forget, sender=ApiClient, dispatch_uid="api_client_cache_delete"
        )

"""The tenants app: tenants, API clients and bearer tokens."""

from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """Configuration of the tenants app."""

    name = "tenants"
    verbose_name = "Tenants and access"

    def ready(self) -> None:
        """Register the OpenAPI description of the bearer token; forget saved API clients;
        keep the shipped Merchandiser group's permissions after every migrate.

        An API client saved or deleted is re-read on its next use (by every worker, when
        the cache is shared).
        """
        from django.db.models.signals import post_delete, post_migrate, post_save

        from tenants import schema  # noqa: F401
        from tenants.models import ApiClient
        from tenants.roles import sync_after_migrate
        from tenants.selectors import api_client_cache_forget

        post_save.connect(
            api_client_cache_forget, sender=ApiClient, dispatch_uid="api_client_cache_save"
        )
        post_delete.connect(
            api_client_cache_forget, sender=ApiClient, dispatch_uid="api_client_cache_delete"
        )
        post_migrate.connect(sync_after_migrate, dispatch_uid="merchandiser_group_sync")

"""The tenants app: tenants, API clients and bearer tokens."""

from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """Configuration of the tenants app."""

    name = "tenants"
    verbose_name = "Tenants and access"

    def ready(self) -> None:
        """Register the OpenAPI description of the bearer token."""
        from tenants import schema  # noqa: F401

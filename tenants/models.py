"""Tenants and the API clients that act for them."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from segmentservice.fields import JSONField

TENANT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]+$")
TENANT_NAME_MIN, TENANT_NAME_MAX = 3, 16
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def validate_tenant_name(value: str) -> None:
    """Raise ValidationError unless `value` is a valid tenant name."""
    if not (TENANT_NAME_MIN <= len(value) <= TENANT_NAME_MAX) or not TENANT_NAME_PATTERN.match(
        value
    ):
        raise ValidationError(
            f"Tenant name {value!r} must match ^[a-z][a-z0-9]+$ and be "
            f"{TENANT_NAME_MIN} to {TENANT_NAME_MAX} characters long."
        )


def validate_languages(value: list[str]) -> None:
    """Raise ValidationError unless `value` is a non-empty list of language codes."""
    if not isinstance(value, list) or not value:
        raise ValidationError("Languages must be a non-empty list of language codes.")
    bad = [lang for lang in value if not isinstance(lang, str) or not LANGUAGE_PATTERN.match(lang)]
    if bad:
        raise ValidationError(f"Not language codes: {', '.join(map(str, bad))}.")


class Tenant(models.Model):
    """One customer of the service; every other row belongs to exactly one tenant."""

    name = models.CharField(
        primary_key=True, max_length=TENANT_NAME_MAX, validators=[validate_tenant_name]
    )
    default_language = models.CharField(max_length=16, default="en")
    languages = JSONField(default=list, validators=[validate_languages])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The default language must be one of the allowed ones."""
        if self.languages and self.default_language not in self.languages:
            raise ValidationError(
                {"default_language": f"{self.default_language!r} is not in the allowed languages."}
            )


class ApiClient(models.Model):
    """A client-credentials identity of a tenant; its secret is stored hashed."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="api_clients", db_index=False
    )
    name = models.CharField(max_length=100, blank=True)
    # Globally unique, since `/oauth/token` names no tenant. A control-plane table: in a
    # distributed database it is a reference table, not sharded by tenant.
    client_id = models.CharField(max_length=64, unique=True, editable=False)
    secret_hash = models.CharField(max_length=256, editable=False)
    scopes = models.CharField(max_length=500, help_text="Space-separated scopes.")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["tenant", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "client_id"], name="apiclient_tenant_client_uniq"
            )
        ]
        verbose_name = "API client"

    def __str__(self) -> str:
        return f"{self.name or self.client_id} ({self.tenant_id})"

    @property
    def scope_list(self) -> list[str]:
        """The scopes granted to this client, in stored order."""
        return self.scopes.split()

    @property
    def is_active(self) -> bool:
        """Whether the client may still obtain tokens."""
        return self.revoked_at is None


class StaffTenantAccess(models.Model):
    """A staff user's right to see and change one tenant's data in the admin.

    Superusers see every tenant. A staff user sees exactly the tenants they hold a row for,
    so a new staff user sees nothing until granted. Like `ApiClient`, a control-plane table.
    """

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="staff_access", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_access"
    )

    class Meta:
        verbose_name = "tenant access"
        verbose_name_plural = "tenant access"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="staffaccess_tenant_user_uniq")
        ]
        indexes = [models.Index(fields=["user", "tenant"], name="staffaccess_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.tenant_id}"

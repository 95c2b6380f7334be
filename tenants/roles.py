"""Shipped admin roles: the "Merchandiser" group, so granting a staff user access is one click.

A merchandiser curates segments and their assignments and keeps the directory (customers,
legal entities, products, categories, and any directory model added later) up to date; they
read the change log; they do not manage tenants, API clients, webhooks or users. The group's
permissions are set again after every `migrate` (a new model's permissions join it), and by
`manage.py create_merchandiser_group`. Access to a tenant's rows is still granted per tenant
(`StaffTenantAccess`).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

MERCHANDISER = "Merchandiser"
CURATED = (
    "segment",
    "customerassignment",
    "itemassignment",
    "groupassignment",
)  # view, add, change, delete
READ_ONLY = ("event",)
NOT_THEIRS = ("webhookendpoint",)


def merchandiser_permissions() -> Q:
    """Which permissions a merchandiser holds, as a filter on `Permission`."""
    segments = Q(content_type__app_label="segments")
    curated = segments & Q(content_type__model__in=CURATED)
    read_only = segments & Q(content_type__model__in=READ_ONLY, codename__startswith="view_")
    directory = (
        segments
        & ~Q(content_type__model__in=(*CURATED, *READ_ONLY, *NOT_THEIRS))
        & ~Q(codename__startswith="delete_")
    )
    return curated | read_only | directory


def merchandiser_group_sync() -> Group:
    """Create the Merchandiser group, or set its permissions to exactly the shipped ones."""
    group, _ = Group.objects.get_or_create(name=MERCHANDISER)
    group.permissions.set(Permission.objects.filter(merchandiser_permissions()))
    return group


def sync_after_migrate(sender, **kwargs) -> None:
    """`post_migrate` receiver: once the segments app's permissions exist, sync the group."""
    if getattr(sender, "label", None) == "segments":
        merchandiser_group_sync()

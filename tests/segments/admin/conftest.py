"""Fixtures for the admin tests: logged-in superusers and tenant-limited staff users."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from tenants.models import StaffTenantAccess, Tenant

User = get_user_model()


@pytest.fixture
def superuser(db):
    """A superuser: sees every tenant."""
    # No password: these clients log in with force_login, and hashing one costs half a second.
    return User.objects.create_superuser("root", "root@example.com", None)


@pytest.fixture
def su_client(superuser) -> Client:
    """A browser-like client logged in as the superuser."""
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def make_staff(db) -> Callable[..., User]:
    """make_staff(tenant, ...): a staff user with every segments/tenants permission, limited to those tenants."""

    def make(*tenants: Tenant, username: str = "merch") -> User:
        user = User.objects.create_user(username, f"{username}@example.com", None)
        user.is_staff = True
        user.save()
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label__in=["segments", "tenants"])
        )
        for tenant in tenants:
            StaffTenantAccess.objects.create(user=user, tenant=tenant)
        return user

    return make


@pytest.fixture
def staff_client(make_staff, tenant) -> Client:
    """A client logged in as a staff user limited to `tenant` (acme)."""
    client = Client()
    client.force_login(make_staff(tenant))
    return client

"""A tenant deleted anywhere is a 404 at once, on every worker, for reads and writes.

A worker learns nothing when another process (another worker, the admin, a command, an
operator's SQL) deletes a tenant, so the request path never trusts a remembered tenant:
each request reads it. These tests delete the tenant behind the back of the process that
serves the requests, after it has served one, and expect the next requests to be 404s.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from tenants import selectors
from tenants.models import Tenant
from tests.conftest import MANAGE, READ, READ_OWN
from tests.factories import make_segment

T = "/customer-segment/acme"
GONE = {
    "code": 404,
    "status": "Not Found",
    "message": "Tenant 'acme' does not exist.",
    "resourceId": "acme",
}
SEGMENT = {"name": "Gold", "siteCode": "main"}
REQUESTS = [
    ("get", f"{T}/segments", None),
    ("post", f"{T}/segments/search", {}),
    ("get", f"{T}/segments/s1", None),
    ("get", f"{T}/segments/items", None),
    ("get", f"{T}/segments/items/category-trees", None),
    ("get", f"{T}/segments/s1/customers", None),
    ("get", f"{T}/segments/s1/items", None),
    ("post", f"{T}/segments/match", {"siteCode": "main", "items": [{"id": "p"}], "segmentIds": ["s1"]}),
    ("post", f"{T}/segments", SEGMENT),
    ("put", f"{T}/segments/s2", SEGMENT),
    ("patch", f"{T}/segments/s1", [{"op": "replace", "path": "/status", "value": "ACTIVE"}]),
    ("delete", f"{T}/segments/s1", None),
    ("post", f"{T}/segments/bulk", [SEGMENT]),
    ("put", f"{T}/segments/s1/items/product/p1", {}),
    ("put", f"{T}/segments/s1/customers/c1", {}),
]  # fmt: skip


def every_request(client: APIClient) -> dict[str, tuple[int, object]]:
    answers = {}
    for method, path, body in REQUESTS:
        response = getattr(client, method)(path, body, format="json")
        answers[f"{method} {path}"] = (response.status_code, response.json())
    return answers


@pytest.fixture
def client(make_token) -> APIClient:
    """Every scope: each request passes the scope check and reaches the tenant's."""
    client = APIClient(raise_request_exception=False)
    token = make_token("acme", MANAGE, READ, READ_OWN)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def raw_delete(name: str) -> None:
    """Delete a tenant's row in SQL: no Django signal runs anywhere."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Tenant._meta.db_table} WHERE name = %s", [name])


@pytest.mark.django_db(transaction=True)
class TestDeletedBehindTheWorkersBack:
    def test_deleted_in_sql_after_a_request(self, tenant, client):
        assert client.get(f"{T}/segments").status_code == 200
        raw_delete("acme")

        answers = every_request(client)

        assert answers == dict.fromkeys(answers, (404, GONE))

    def test_deleted_with_a_queryset_after_a_request(self, tenant, other_tenant, client):
        make_segment(tenant, "s1")
        assert client.get(f"{T}/segments/s1").status_code == 200
        Tenant.objects.filter(name="acme").delete()

        answers = every_request(client)

        assert answers == dict.fromkeys(answers, (404, GONE))
        assert Tenant.objects.filter(name="globex").exists()

    def test_created_again_it_is_served_again(self, tenant, client):
        assert client.get(f"{T}/segments").status_code == 200
        raw_delete("acme")
        assert client.get(f"{T}/segments").status_code == 404
        Tenant.objects.create(name="acme", languages=["en"])
        assert client.get(f"{T}/segments").status_code == 200

    def test_deleted_between_its_check_and_the_write_is_404_not_500(
        self, tenant, client, monkeypatch
    ):
        # The tenant is read, then deleted before the write commits: the foreign key fails.
        read = selectors._tenant_read  # under tenant_get and tenant_get_with

        def read_then_lose(name, sql, extra):
            found = read(name, sql, extra)
            raw_delete(name)
            return found

        monkeypatch.setattr(selectors, "_tenant_read", read_then_lose)
        response = client.post(f"{T}/segments", SEGMENT, format="json")
        assert (response.status_code, response.json()) == (404, GONE)


@pytest.mark.django_db(transaction=True)
def test_a_tenant_changed_in_sql_applies_to_the_next_request(tenant, client):
    body = {"name": "Gold", "siteCode": "main"}
    spanish = {"HTTP_CONTENT_LANGUAGE": "es"}
    assert client.put(f"{T}/segments/s1", body, format="json", **spanish).status_code == 400
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Tenant._meta.db_table} SET languages = %s WHERE name = 'acme'",
            ['["en", "es"]'],
        )
    assert client.put(f"{T}/segments/s1", body, format="json", **spanish).status_code == 201


@pytest.mark.postgres
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="another process needs the same database: PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_a_tenant_deleted_by_another_process_is_404_at_once(tenant, client):
    make_segment(tenant, "s1")
    assert client.get(f"{T}/segments/s1").status_code == 200

    # Another process deletes it the way the admin or a command would, with its own signals.
    db = connection.settings_dict
    user = f"{db['USER']}:{db['PASSWORD']}" if db["PASSWORD"] else db["USER"]
    url = f"postgres://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    script = "from tenants.models import Tenant; Tenant.objects.filter(name='acme').delete()"
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        timeout=60,
    )

    answers = every_request(client)
    assert answers == dict.fromkeys(answers, (404, GONE))

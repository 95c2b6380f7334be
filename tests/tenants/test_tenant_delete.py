"""Deleting a tenant with all its rows: `manage.py delete_tenant` and the admin."""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from segments.models import ChangeCounter, Event, WebhookEndpoint
from tenants.models import ApiClient, StaffTenantAccess, Tenant
from tenants.selectors import tenant_owned_models, tenant_row_counts
from tenants.services import tenant_create, tenant_delete
from tests.conftest import MANAGE
from tests.factories import (
    assign_category,
    assign_customer,
    assign_product,
    make_category,
    make_customer,
    make_legal_entity,
    make_product,
    make_segment,
)

User = get_user_model()
TENANTS = "/admin/tenants/tenant/"


def fill(tenant: Tenant, assignments: int = 1) -> None:
    """One of everything a tenant holds, and `assignments` customers in a segment."""
    gold = make_segment(tenant, "gold")
    company = make_legal_entity(tenant, "le1")
    buyer = make_customer(tenant, "buyer", legal_entities=[company])
    assign_customer(gold, buyer, company)
    for n in range(assignments):
        assign_customer(gold, make_customer(tenant, f"c{n:04d}"))
    root = make_category(tenant, "root")
    leaf = make_category(tenant, "leaf", parent=root)
    assign_product(gold, make_product(tenant, "p1", categories=[leaf]))
    assign_category(gold, root)
    Event.objects.create(tenant=tenant, type="customer-segment.segment-created", resource_id="x")
    # The event's change counter row: at once on SQLite, at COMMIT on PostgreSQL, which
    # this test's rolled-back transaction never reaches.
    ChangeCounter.objects.get_or_create(tenant=tenant)
    WebhookEndpoint.objects.create(tenant=tenant, url="https://example.com/hook", secret="s")
    ApiClient.objects.create(
        tenant=tenant, client_id=f"{tenant.name}-1", secret_hash="x", scopes=MANAGE
    )
    staff = User.objects.create_user(f"staff-{tenant.name}", is_staff=True)
    StaffTenantAccess.objects.create(tenant=tenant, user=staff)


def rows_of(tenant_name: str) -> dict[str, int]:
    """Rows per table that still carry the tenant (one count per table)."""
    return {
        model._meta.label: model._base_manager.filter(tenant_id=tenant_name).count()
        for model in tenant_owned_models()
    }


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("delete_tenant", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def two_tenants(tenant, other_tenant):
    fill(tenant, assignments=3)
    fill(other_tenant)
    return tenant, other_tenant


@pytest.mark.django_db
class TestTheOrder:
    def test_every_reference_into_tenant_rows_comes_from_tenant_rows(self):
        owned = tenant_owned_models()
        for model in apps.get_models(include_auto_created=True):
            for field in model._meta.concrete_fields:
                if field.is_relation and field.related_model in owned:
                    assert model in owned, f"{model._meta.label}.{field.name} has no tenant"

    def test_a_model_is_deleted_before_the_models_it_refers_to(self):
        owned = tenant_owned_models()
        for position, model in enumerate(owned):
            for field in model._meta.concrete_fields:
                target = field.related_model if field.is_relation else None
                if target in owned and target is not model:
                    assert owned.index(target) > position, (model, target)


@pytest.mark.django_db
class TestDeleteTenantCommand:
    def test_deletes_every_row_of_the_tenant_and_nothing_else(self, two_tenants):
        theirs_before = rows_of("globex")
        events_before = Event.objects.filter(tenant_id="globex").count()

        out, _ = run("acme", "--yes", "--no-progress")

        assert re.fullmatch(
            r"Deleted tenant acme in \d+\.\d s: 1 change counter, 4 customer assignments, 1 customer membership, "
            r"1 event, 2 item assignments, 1 product in category, 1 webhook endpoint, "
            r"1 API client, 1 tenant access, 1 product, 2 categories, 4 customers, "
            r"1 segment, 1 legal entity\.\n",
            out,
        ), out
        assert not Tenant.objects.filter(name="acme").exists()
        assert set(rows_of("acme").values()) == {0}
        assert rows_of("globex") == theirs_before
        # No change events: the tenant's own are gone, and none were recorded for it.
        assert Event.objects.count() == events_before
        assert User.objects.filter(username="staff-acme").exists()  # users are not tenant rows

    def test_asks_first_and_keeps_the_tenant_unless_told_yes(self, two_tenants, monkeypatch):
        asked = []
        monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "no")
        before = rows_of("acme")

        with pytest.raises(CommandError, match=re.escape("Nothing deleted: tenant acme is kept.")):
            run("acme", "--no-progress")

        assert asked == ["Delete tenant acme and all of it? Type yes: "]
        assert rows_of("acme") == before

    def test_shows_what_goes_and_deletes_on_yes(self, two_tenants, monkeypatch):
        monkeypatch.setattr("builtins.input", lambda prompt: "yes")
        out, err = run("acme", "--no-progress")
        assert (
            "Tenant acme holds 1 change counter, 4 customer assignments, 1 customer membership,"
            in err
        )
        assert out.startswith("Deleted tenant acme in ")
        assert not Tenant.objects.filter(name="acme").exists()

    def test_no_answer_is_no(self, two_tenants, monkeypatch):
        def closed(prompt):
            raise EOFError

        monkeypatch.setattr("builtins.input", closed)
        with pytest.raises(CommandError, match="Nothing deleted"):
            run("acme", "--no-progress")
        assert Tenant.objects.filter(name="acme").exists()

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("nope", "Tenant 'nope' does not exist."),
            ("No!", "Tenant 'No!' is not a valid tenant name"),
        ],
    )
    def test_an_unknown_tenant_is_refused(self, tenant, name, message):
        with pytest.raises(CommandError, match=re.escape(message)):
            run(name, "--yes")
        assert Tenant.objects.filter(name="acme").exists()

    def test_a_bad_chunk_size_is_refused(self, tenant):
        with pytest.raises(
            CommandError, match=re.escape("The chunk size must be at least 1, not 0.")
        ):
            run("acme", "--yes", "--chunk-size", "0")
        assert Tenant.objects.filter(name="acme").exists()

    def test_an_empty_tenant(self):
        tenant_create(name="empty")
        out, _ = run("empty", "--yes")
        assert re.fullmatch(r"Deleted tenant empty in \d+\.\d s: no rows\.\n", out)


@pytest.mark.django_db
class TestTenantDelete:
    def test_deletes_in_chunks_reporting_each(self, two_tenants):
        reported: list[int] = []
        deletion = tenant_delete(tenant=two_tenants[0], chunk_size=2, progress=reported.append)
        assert max(reported) == 2
        assert sum(reported) == sum(deletion.counts.values()) == 22
        assert deletion.counts["customer assignments"] == 4
        assert set(rows_of("acme").values()) == {0}

    def test_one_statement_per_chunk(self, tenant, django_assert_num_queries):
        fill(tenant, assignments=5)
        counts = tenant_row_counts(tenants=[tenant])
        tables = len(tenant_owned_models())
        # Per table, full chunks plus the last short one (or the empty one); the tree's
        # parents cut once; then in one transaction a sweep per table and the tenant row
        # (with its savepoint statements on top of the SQL).
        chunks = sum(n // 3 + 1 for n in counts.values())
        with CaptureQueriesContext(connection) as queries:
            tenant_delete(tenant=tenant, chunk_size=3)
        deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
        assert len(deletes) == chunks + tables + 1
        assert all("tenant_id" in sql for sql in deletes[:-1])


@pytest.mark.django_db
class TestTenantDeleteInTheAdmin:
    @pytest.fixture
    def su_client(self, db) -> Client:
        client = Client()
        client.force_login(User.objects.create_superuser("root", "root@example.com", None))
        return client

    def test_the_confirmation_shows_counts_per_kind_and_no_rows(self, su_client, two_tenants):
        response = su_client.get(f"{TENANTS}acme/delete/")

        assert response.status_code == 200
        html = response.content.decode()
        summary = re.findall(r"<li>([A-Z][^<:]*): (\d+)</li>", html)
        assert summary == [
            ("Tenants", "1"),
            ("Change counters", "1"),
            ("Customer assignments", "4"),
            ("Customer memberships", "1"),
            ("Events", "1"),
            ("Item assignments", "2"),
            ("Products in categories", "1"),
            ("Webhook endpoints", "1"),
            ("API clients", "1"),
            ("Tenant access", "1"),
            ("Products", "1"),
            ("Categories", "2"),
            ("Customers", "4"),
            ("Segments", "1"),
            # After the groups, which may be bound to a legal entity (none here).
            ("Legal entities", "1"),
        ]
        assert re.findall(r'<ul id="deleted-objects">\s*(.*?)\s*</ul>', html, re.S) == [
            "<li>Tenant: acme</li>"
        ]
        for row in ("c0000", "buyer", "gold", "leaf", "Customer assignment:"):
            assert row not in html
        assert "Yes, I\u2019m sure" in html

    def test_the_confirmation_costs_the_same_queries_for_one_row_and_many(
        self, su_client, tenant, other_tenant
    ):
        fill(tenant, assignments=1)
        fill(other_tenant, assignments=60)
        with CaptureQueriesContext(connection) as one:
            assert su_client.get(f"{TENANTS}acme/delete/").status_code == 200
        with CaptureQueriesContext(connection) as many:
            assert su_client.get(f"{TENANTS}globex/delete/").status_code == 200
        assert len(one) == len(many)
        assert len(one) <= len(tenant_owned_models()) + 4

    def test_deleting_takes_every_row_of_the_tenant_and_nothing_else(self, su_client, two_tenants):
        theirs_before = rows_of("globex")
        events_before = Event.objects.filter(tenant_id="globex").count()

        response = su_client.post(f"{TENANTS}acme/delete/", {"post": "yes"})

        assert response.status_code == 302
        assert not Tenant.objects.filter(name="acme").exists()
        assert set(rows_of("acme").values()) == {0}
        assert rows_of("globex") == theirs_before
        assert Event.objects.count() == events_before

    def test_the_delete_selected_action_counts_and_deletes(self, su_client, two_tenants):
        fill(tenant_create(name="initech"))
        theirs_before = rows_of("initech")
        selected = {"action": "delete_selected", "_selected_action": ["acme", "globex"]}

        page = su_client.post(TENANTS, selected)
        assert page.status_code == 200
        html = page.content.decode()
        assert "<li>Tenants: 2</li>" in html
        assert "<li>Customer assignments: 6</li>" in html
        assert "<li>Tenant: acme</li><li>Tenant: globex</li>" in html
        assert "c0000" not in html

        done = su_client.post(TENANTS, {**selected, "post": "yes"})
        assert done.status_code == 302
        assert list(Tenant.objects.values_list("name", flat=True)) == ["initech"]
        assert rows_of("initech") == theirs_before

    def test_a_tenant_above_the_limit_is_left_to_the_command(
        self, su_client, two_tenants, settings
    ):
        settings.ADMIN_TENANT_DELETE_MAX_ROWS = 21
        before = rows_of("acme")

        page = su_client.get(f"{TENANTS}acme/delete/")
        refused = su_client.post(f"{TENANTS}acme/delete/", {"post": "yes"})

        html = page.content.decode()
        assert page.status_code == 200
        assert (
            '<p class="tenant-delete-refused">This tenant holds 22 rows, more than the admin '
            "deletes within one request (21). Delete it with manage.py delete_tenant acme.</p>"
        ) in html
        assert "<li>Customer assignments: 4</li>" in html
        assert "Yes, I\u2019m sure" not in html
        assert refused.status_code == 200
        assert rows_of("acme") == before

    def test_tenants_at_the_limit_are_deleted_here(self, su_client, two_tenants, settings):
        settings.ADMIN_TENANT_DELETE_MAX_ROWS = 22
        assert su_client.post(f"{TENANTS}acme/delete/", {"post": "yes"}).status_code == 302
        assert not Tenant.objects.filter(name="acme").exists()

    def test_several_tenants_above_the_limit_name_each_command(
        self, su_client, two_tenants, settings
    ):
        settings.ADMIN_TENANT_DELETE_MAX_ROWS = 10
        selected = {"action": "delete_selected", "_selected_action": ["acme", "globex"]}
        html = su_client.post(TENANTS, {**selected, "post": "yes"}).content.decode()
        assert (
            "These tenants hold 40 rows, more than the admin deletes within one request (10). "
            "Delete them with manage.py delete_tenant acme and manage.py delete_tenant globex."
        ) in html
        assert Tenant.objects.count() == 2

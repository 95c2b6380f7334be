"""Each change event names its actor: the API client, the admin user, the command, or "system"."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from segments.choices import EventType
from segments.models import Event
from segments.services.segments import segments_set_status
from segments.services.webhooks import event_body
from tenants.services import api_client_create
from tests.conftest import MANAGE
from tests.factories import make_segment

User = get_user_model()


def actors(tenant) -> list[str]:
    return list(Event.objects.filter(tenant=tenant).order_by("id").values_list("actor", flat=True))


@pytest.mark.django_db
class TestActors:
    def test_an_api_request_names_the_api_client_whose_token_it_carries(self, tenant):
        issued = api_client_create(tenant=tenant, scopes=MANAGE, name="storefront")
        client = APIClient()
        grant = client.post(
            "/oauth/token",
            urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": issued.client.client_id,
                    "client_secret": issued.client_secret,
                }
            ),
            content_type="application/x-www-form-urlencoded",
        )
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {grant.json()['access_token']}")

        response = client.post(
            "/customer-segment/acme/segments",
            {"id": "gold", "name": {"en": "Gold"}, "siteCode": "main"},
            format="json",
        )

        assert response.status_code == 201
        event = Event.objects.get(tenant=tenant)
        assert event.actor == f"api-client:{issued.client.client_id}"
        assert json.loads(event_body(event))["actor"] == f"api-client:{issued.client.client_id}"

    def test_an_admin_request_names_the_admin_user(self, tenant):
        gold = make_segment(tenant, "gold", status="INACTIVE")
        browser = Client()
        browser.force_login(User.objects.create_superuser("merchandiser", "m@example.com", None))

        response = browser.post(
            "/admin/segments/segment/", {"action": "activate", "_selected_action": [gold.pk]}
        )

        assert response.status_code == 302
        assert actors(tenant) == ["admin:merchandiser"]

    def test_a_command_names_itself(self, tenant, tmp_path):
        path = tmp_path / "segments.json"
        path.write_text(json.dumps([{"id": "a", "name": {"en": "A"}, "siteCode": "main"}]))

        call_command(
            "import_segments", "--tenant", "acme", str(path), "--no-progress", stdout=io.StringIO()
        )

        assert actors(tenant) == ["command:import_segments"]

    def test_anything_else_is_the_system(self, tenant):
        make_segment(tenant, "gold", status="INACTIVE")
        segments_set_status(tenant=tenant, segment_ids=["gold"], status="ACTIVE")
        assert actors(tenant) == ["system"]

    def test_a_requests_actor_ends_with_the_request(self, tenant, make_client):
        make_client(tenant, MANAGE).post(
            "/customer-segment/acme/segments",
            {"id": "gold", "name": {"en": "Gold"}, "siteCode": "main"},
            format="json",
        )
        segments_set_status(tenant=tenant, segment_ids=["gold"], status="ACTIVE")
        events = Event.objects.filter(tenant=tenant).order_by("id")
        assert [(e.type, e.actor) for e in events] == [
            (
                EventType.SEGMENT_CREATED,
                "api-client:acme",
            ),  # a token without a client names its tenant
            (EventType.SEGMENT_UPDATED, "system"),
        ]

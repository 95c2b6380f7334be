"""The primary/replica router and read-your-writes, without a replica (tests/test_replica.py
runs them against a real streaming standby).

Here a "replica" is the test database itself under another name: the tests watch where the
router sends each read (`RequestRouting` of each request) rather than what it reads.
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from segments.models import Segment
from segmentservice import routers
from segmentservice.routers import PrimaryReplicaRouter, RequestRouting, is_test_mirror, is_write
from tenants.models import ApiClient, Tenant
from tenants.tokens import token_issue
from tests.conftest import MANAGE, READ
from tests.factories import make_product, make_segment

SEGMENTS = "/customer-segment/acme/segments"


@pytest.fixture
def one_replica(settings, monkeypatch):
    """Settings with one replica, whose reads land on the test database."""
    settings.DATABASE_REPLICA_ALIASES = ["replica1"]
    settings.DATABASE_READ_YOUR_WRITES_SECONDS = 5
    monkeypatch.setattr(routers, "replica_aliases", lambda: ("default",))
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def requests_seen(monkeypatch) -> list[RequestRouting]:
    """Every request's routing state, in order."""
    seen: list[RequestRouting] = []

    @dataclass
    class Recorded(RequestRouting):
        def __post_init__(self) -> None:
            seen.append(self)

    monkeypatch.setattr(routers, "RequestRouting", Recorded)
    return seen


def api_client_for(tenant: Tenant, client_id: str) -> APIClient:
    """A client holding the token the client-credentials grant gives `client_id` (its `sub`)."""
    token, _ = token_issue(tenant=tenant.name, scopes=[MANAGE, READ], subject=client_id)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


class TestRouterRules:
    router = PrimaryReplicaRouter()

    def test_no_replicas_leaves_every_choice_to_django(self, settings):
        settings.DATABASE_REPLICA_ALIASES = []
        token = routers._routing.set(RequestRouting())
        try:
            assert self.router.db_for_read(Segment) is None
        finally:
            routers._routing.reset(token)

    def test_reads_outside_a_web_request_use_the_primary(self, one_replica):
        assert self.router.db_for_read(Segment) == "default"

    def test_a_web_requests_reads_go_to_one_replica(self, settings, monkeypatch):
        settings.DATABASE_REPLICA_ALIASES = ["replica1", "replica2"]
        monkeypatch.setattr(routers, "replica_aliases", lambda: ("replica1", "replica2"))
        chosen = set()
        for _ in range(20):
            token = routers._routing.set(RequestRouting())
            try:
                per_request = {self.router.db_for_read(Segment) for _ in range(10)}
            finally:
                routers._routing.reset(token)
            assert len(per_request) == 1
            chosen |= per_request
        assert chosen == {"replica1", "replica2"}

    @pytest.mark.parametrize(
        "state", [RequestRouting(pinned=True), RequestRouting(wrote=True)], ids=["pinned", "wrote"]
    )
    def test_a_pinned_or_writing_request_reads_the_primary(self, one_replica, state):
        token = routers._routing.set(state)
        try:
            assert self.router.db_for_read(Segment) == "default"
        finally:
            routers._routing.reset(token)

    @pytest.mark.parametrize("model", [Tenant, ApiClient, get_user_model()])
    def test_the_control_plane_is_read_from_the_primary(self, one_replica, model):
        token = routers._routing.set(RequestRouting())
        try:
            assert self.router.db_for_read(model) == "default"
        finally:
            routers._routing.reset(token)

    @pytest.mark.django_db(transaction=True)  # not inside the test case's own transaction
    def test_reads_inside_a_transaction_use_the_primary(self, one_replica, monkeypatch):
        monkeypatch.setattr(routers, "replica_aliases", lambda: ("replica1",))
        token = routers._routing.set(RequestRouting())
        try:
            with transaction.atomic():
                assert self.router.db_for_read(Segment) == "default"
            assert self.router.db_for_read(Segment) == "replica1"
        finally:
            routers._routing.reset(token)

    def test_writes_and_migrations_go_to_the_primary_only(self, one_replica):
        assert self.router.db_for_write(Segment) == "default"
        assert self.router.allow_migrate("replica1", "segments") is False
        assert self.router.allow_migrate("default", "segments") is None

    def test_a_test_mirror_is_no_replica(self):
        assert is_test_mirror({"NAME": "test_segments_gw0", "REPLICA_NAME": "segments"})
        assert not is_test_mirror({"NAME": "segments", "REPLICA_NAME": "segments"})

    @pytest.mark.parametrize(
        ("sql", "writes"),
        [
            ('SELECT "id" FROM "segments_segment"', False),
            ('  SELECT "id" FROM "t" FOR UPDATE', False),
            ('SAVEPOINT "s1"', False),
            ('INSERT INTO "segments_event" ("type") VALUES (%s)', True),
            ('UPDATE "segments_segment" SET "version" = 2', True),
            ('\n DELETE FROM "segments_segment"', True),
            ("WITH RECURSIVE below(id) AS (SELECT 1) SELECT id FROM below", False),
            ("WITH gone AS (DELETE FROM t RETURNING id) SELECT count(*) FROM gone", True),
            ("COPY t (a) FROM STDIN", True),
            ("", False),
        ],
    )
    def test_which_statements_write(self, sql, writes):
        assert is_write(sql) is writes


# Committing for real: inside the test case's transaction every read goes to the primary.
@pytest.mark.django_db(transaction=True)
class TestReadYourWrites:
    def test_reads_of_a_client_that_did_not_write_go_to_the_replica(
        self, tenant, one_replica, requests_seen
    ):
        make_segment(tenant, "gold")
        response = api_client_for(tenant, "storefront").get(f"{SEGMENTS}/gold")
        assert response.status_code == 200
        [routing] = requests_seen
        assert (routing.pinned, routing.wrote, routing.replica) == (False, False, "default")

    def test_a_writer_reads_the_primary_for_the_configured_seconds(
        self, tenant, one_replica, requests_seen, monkeypatch
    ):
        pins = []
        cache = caches["default"]
        set_many = cache.set_many
        monkeypatch.setattr(
            cache, "set_many", lambda data, timeout: pins.append(timeout) or set_many(data, timeout)
        )
        writer = api_client_for(tenant, "writer")
        reader = api_client_for(tenant, "reader")
        body = {"name": {"en": "Gold"}, "siteCode": "main", "status": "ACTIVE"}

        assert writer.put(f"{SEGMENTS}/gold", body, format="json").status_code == 201
        assert writer.get(f"{SEGMENTS}/gold").status_code == 200
        assert reader.get(f"{SEGMENTS}/gold").status_code == 200

        put, writer_get, reader_get = requests_seen
        assert (put.wrote, put.replica) == (True, None)
        assert (writer_get.pinned, writer_get.replica) == (True, None)
        assert (reader_get.pinned, reader_get.replica) == (False, "default")
        assert pins == [5]

    def test_the_pin_runs_out(self, tenant, one_replica, requests_seen):
        writer = api_client_for(tenant, "writer")
        body = {"name": {"en": "Gold"}, "siteCode": "main"}
        assert writer.put(f"{SEGMENTS}/gold", body, format="json").status_code == 201
        caches["default"].clear()  # what the timeout does after DATABASE_READ_YOUR_WRITES_SECONDS
        assert writer.get(f"{SEGMENTS}/gold").status_code == 200
        assert (requests_seen[-1].pinned, requests_seen[-1].replica) == (False, "default")

    def test_a_write_pins_nothing_when_read_your_writes_is_off(
        self, tenant, one_replica, requests_seen, settings
    ):
        settings.DATABASE_READ_YOUR_WRITES_SECONDS = 0
        writer = api_client_for(tenant, "writer")
        body = {"name": {"en": "Gold"}, "siteCode": "main"}
        assert writer.put(f"{SEGMENTS}/gold", body, format="json").status_code == 201
        assert writer.get(f"{SEGMENTS}/gold").status_code == 200
        assert requests_seen[-1].pinned is False

    def test_a_read_by_post_pins_nothing(self, tenant, one_replica, requests_seen):
        segment = make_segment(tenant, "gold")
        product = make_product(tenant, "p1")
        segment.item_assignments.create(tenant=tenant, type="PRODUCT", product=product)
        client = api_client_for(tenant, "storefront")
        body = {"siteCode": "main", "items": [{"id": "p1"}], "segmentIds": ["gold"]}

        first = client.post(f"{SEGMENTS}/match", body, format="json")
        second = client.post(f"{SEGMENTS}/match", body, format="json")

        assert (first.status_code, first.json()) == (200, [{"id": "p1"}])
        assert second.status_code == 200
        assert [(r.wrote, r.pinned, r.replica) for r in requests_seen] == [
            (False, False, "default"),
            (False, False, "default"),
        ]

    def test_an_admin_session_that_wrote_reads_the_primary(
        self, tenant, one_replica, requests_seen
    ):
        make_segment(tenant, "gold")
        editor, viewer = Client(), Client()
        editor.force_login(get_user_model().objects.create_superuser("ed", "e@example.com", None))
        viewer.force_login(get_user_model().objects.create_superuser("vi", "v@example.com", None))
        pk = Segment.objects.get().pk

        activated = editor.post(
            "/admin/segments/segment/",
            {"action": "deactivate", "_selected_action": [pk]},
        )
        assert activated.status_code == 302
        assert editor.get(f"/admin/segments/segment/{pk}/change/").status_code == 200
        assert viewer.get(f"/admin/segments/segment/{pk}/change/").status_code == 200

        action, editor_view, viewer_view = requests_seen
        assert action.wrote is True
        assert (editor_view.pinned, editor_view.replica) == (True, None)
        assert (viewer_view.pinned, viewer_view.replica) == (False, "default")

    def test_a_login_pins_the_new_session(self, tenant, one_replica, requests_seen):
        user = get_user_model().objects.create_superuser("ed", "e@example.com", "pw-for-test-1")
        browser = Client()
        response = browser.post(
            "/admin/login/", {"username": user.username, "password": "pw-for-test-1"}
        )
        assert response.status_code == 302
        assert browser.get("/admin/").status_code == 200
        login, index = requests_seen
        assert login.wrote is True
        assert index.pinned is True

    def test_a_cache_outage_reads_the_primary_and_answers(
        self, tenant, one_replica, requests_seen, monkeypatch
    ):
        make_segment(tenant, "gold")

        def down(*args, **kwargs):
            raise ConnectionError("cache down")

        monkeypatch.setattr(caches["default"], "get_many", down)
        monkeypatch.setattr(caches["default"], "set_many", down)
        client = api_client_for(tenant, "storefront")
        assert client.get(f"{SEGMENTS}/gold").status_code == 200
        assert client.put(f"{SEGMENTS}/gold", {"name": "G", "siteCode": "main"}).status_code == 204
        assert [r.pinned for r in requests_seen] == [True, True]

    def test_without_replicas_the_middleware_is_not_used(self, tenant, requests_seen, settings):
        settings.DATABASE_REPLICA_ALIASES = []
        make_segment(tenant, "gold")
        assert api_client_for(tenant, "storefront").get(f"{SEGMENTS}/gold").status_code == 200
        assert requests_seen == []


class TestSettings:
    def settings_with(self, monkeypatch, **env) -> dict:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(Path(settings.BASE_DIR) / "segmentservice" / "settings.py"))

    def test_each_replica_url_is_a_test_mirror_with_the_primarys_timeouts(self, monkeypatch):
        loaded = self.settings_with(
            monkeypatch,
            DATABASE_URL="postgres://app@primary:5432/segments",
            DATABASE_REPLICA_URLS="postgres://app@standby1:5432/segments,"
            "postgres://app@standby2:5433/segments?connect_timeout=3",
        )
        assert loaded["DATABASE_REPLICA_ALIASES"] == ["replica1", "replica2"]
        first, second = loaded["DATABASES"]["replica1"], loaded["DATABASES"]["replica2"]
        assert (first["HOST"], first["PORT"], first["NAME"]) == ("standby1", 5432, "segments")
        assert (second["HOST"], second["PORT"]) == ("standby2", 5433)
        assert first["TEST"] == {"MIRROR": "default"}
        assert first["REPLICA_NAME"] == "segments"
        assert first["OPTIONS"] == loaded["DATABASES"]["default"]["OPTIONS"]
        assert second["OPTIONS"]["connect_timeout"] == 3
        assert "statement_timeout" in second["OPTIONS"]["options"]

    def test_no_replica_urls_no_replicas(self, monkeypatch):
        monkeypatch.delenv("DATABASE_REPLICA_URLS", raising=False)
        loaded = self.settings_with(monkeypatch, DATABASE_URL="sqlite:///unused.sqlite3")
        assert loaded["DATABASE_REPLICA_ALIASES"] == []
        assert set(loaded["DATABASES"]) == {"default"}

    def test_replicas_of_sqlite_are_refused(self, monkeypatch):
        from django.core.exceptions import ImproperlyConfigured

        with pytest.raises(ImproperlyConfigured, match="PostgreSQL streaming replicas"):
            self.settings_with(
                monkeypatch,
                DATABASE_URL="sqlite:///unused.sqlite3",
                DATABASE_REPLICA_URLS="postgres://app@standby1:5432/segments",
            )

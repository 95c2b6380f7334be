"""Conditional GETs: ETags from the tenant's change counter, If-None-Match, 304.

These tests commit for real (`transaction=True`): on PostgreSQL the counter moves when a
writing transaction commits (a deferred trigger), which a test wrapped in one rolled-back
transaction never reaches.
"""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from segments.choices import EventType
from segments.models import ChangeCounter, Segment
from segments.selectors.changes import tenant_version
from segments.services.events import event_record
from tests.conftest import READ_OWN
from tests.segments.api.test_route_table import PREFIX, registered_operations

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/customer-segment/acme"
OWN = f"{BASE}/segments"
READS = [
    f"{BASE}/segments",
    f"{BASE}/segments/items",
    f"{BASE}/segments/items/category-trees",
    f"{BASE}/segments/gold",
]


DIRECTORY = {
    "legalEntities": [{"id": "le1", "name": "Company"}],
    "customers": [
        {"id": cid, "legalEntities": ["le1"] if cid in ("me", "c3") else []}
        for cid in ("me", "other", "c1", "c2", "c3")
    ],
    "categories": [{"id": "cat1", "name": {"en": "One"}}, {"id": "cat2", "name": "Two"}],
    "products": [{"id": "p1", "name": "P1"}, {"id": "p2", "name": "P2"}],
    "groups": [{"id": "g1", "name": {"en": "Club"}, "userType": "CUSTOMER", "members": ["c1"]}],
}


def import_directory(tmp_path, document) -> None:
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(document))
    call_command("import_directory", str(path), tenant="acme", stdout=io.StringIO())


@pytest.fixture
def world(tenant, manage_client, tmp_path):
    """A directory, then through the API: segment gold (the customer's) and silver, a
    product and a category of gold's."""
    import_directory(tmp_path, DIRECTORY)
    for segment_id in ("gold", "silver"):
        body = {"id": segment_id, "name": {"en": segment_id.title(), "de": "Gold"}}
        body |= {"siteCode": "main", "status": "ACTIVE"}
        assert manage_client.post(OWN, body, format="json").status_code == 201
    for path in ("customers/me", "items/PRODUCT/p1", "items/CATEGORY/cat1"):
        assert manage_client.put(f"{OWN}/gold/{path}").status_code == 201, path
    return tenant


@pytest.fixture
def customer(world, make_client):
    return make_client(world, READ_OWN, customer="me")


def etag_of(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return response["ETag"]


class TestHeaders:
    @pytest.mark.parametrize("url", READS)
    def test_a_customer_read_carries_an_etag_and_caching_headers(self, customer, url):
        response = customer.get(url)
        assert response.status_code == 200
        assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
        assert response["Cache-Control"] == "private, no-cache"
        vary = {v.strip() for v in response["Vary"].split(",")}
        assert {"Authorization", "Accept-Language"} <= vary

    @pytest.mark.parametrize("url", READS)
    def test_the_same_etag_back_is_a_304_without_a_body(self, customer, url):
        etag = etag_of(customer, url)
        response = customer.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == "private, no-cache"
        assert "Authorization" in response["Vary"]

    def test_weak_and_listed_etags_match_and_others_do_not(self, customer):
        etag = etag_of(customer, OWN)
        assert customer.get(OWN, HTTP_IF_NONE_MATCH=f'"x", W/{etag}').status_code == 304
        assert customer.get(OWN, HTTP_IF_NONE_MATCH="*").status_code == 304
        assert customer.get(OWN, HTTP_IF_NONE_MATCH='"other"').status_code == 200

    def test_one_segment_has_an_etag_for_a_reader_too(self, world, read_client):
        etag = etag_of(read_client, f"{OWN}/gold")
        assert read_client.get(f"{OWN}/gold", HTTP_IF_NONE_MATCH=etag).status_code == 304

    def test_reader_lists_and_writes_carry_no_etag(self, world, read_client, manage_client):
        assert "ETag" not in read_client.get(OWN)
        response = manage_client.put(f"{OWN}/gold/customers/c9", {}, format="json")
        assert "ETag" not in response

    def test_a_404_carries_no_etag(self, customer):
        response = customer.get(f"{OWN}/silver")
        assert response.status_code == 404
        assert "ETag" not in response


class TestWhatTheEtagVariesWith:
    def test_customer_legal_entity_query_and_languages(self, world, make_client):
        me = make_client(world, READ_OWN, customer="me")
        tags = {
            etag_of(me, OWN),
            etag_of(make_client(world, READ_OWN, customer="other"), OWN),
            etag_of(make_client(world, READ_OWN, customer="me", legal_entity="le1"), OWN),
            etag_of(me, OWN + "?pageSize=1"),
            etag_of(me, OWN, HTTP_ACCEPT_LANGUAGE="de"),
            etag_of(me, f"{BASE}/segments/items"),
        }
        assert len(tags) == 6
        # The same request asked again, however its query string is ordered, is the same.
        assert etag_of(me, OWN + "?pageSize=1&pageNumber=1") == etag_of(
            me, OWN + "?pageNumber=1&pageSize=1"
        )

    def test_a_validity_boundary_passing_changes_the_version(self, world, manage_client):
        soon = datetime.now(UTC) + timedelta(hours=1)
        body = {"name": {"en": "Later"}, "siteCode": "main", "status": "ACTIVE"}
        body |= {"validity": {"from": soon.isoformat()}, "metadata": {"version": 1}}
        assert manage_client.put(f"{OWN}/silver", body, format="json").status_code == 204
        before = tenant_version(tenant=world, at=soon - timedelta(seconds=1))
        after = tenant_version(tenant=world, at=soon + timedelta(seconds=1))
        assert before is not None and after is not None and before != after
        # The boundary is the only thing between them: the generation is the same.
        assert before.split(".")[0] == after.split(".")[0]


class TestQueries:
    def test_a_304_reads_the_tenant_and_its_counter_row_in_one_statement(self, customer):
        url = f"{BASE}/segments/items/category-trees"
        etag = etag_of(customer, url)
        with CaptureQueriesContext(connection) as queries:
            assert customer.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
        statements = [q["sql"] for q in queries.captured_queries]
        assert len(statements) == 1, statements
        assert "FROM tenants_tenant t LEFT JOIN " in statements[0]
        assert '"segments_changecounter" r ON r."tenant_id" = t.name' in statements[0]
        assert "WHERE t.name = " in statements[0]

    def test_the_customer_read_starts_from_the_customers_segments(self, customer, world):
        gold_id = Segment.objects.get(tenant=world, external_id="gold").pk
        with CaptureQueriesContext(connection) as queries:
            assert customer.get(f"{BASE}/segments/items").status_code == 200
        statements = [q["sql"] for q in queries.captured_queries]
        # tenant and counter, the customer's segment ids, then the items of those ids.
        ids, items = statements[1], statements[2]
        assert "segments_customerassignment" in ids and "segments_itemassignment" not in ids
        assert f'"segments_itemassignment"."segment_id" IN ({gold_id})' in items
        assert "segments_customerassignment" not in items


def changes_of(customer):
    return etag_of(customer, OWN)


# Every write route, with a request that succeeds on `world`.
WRITES = [
    ("post", "segments", {"id": "bronze", "name": "Bronze", "siteCode": "main"}),
    ("post", "segments/bulk", [{"id": "b1", "name": "B1", "siteCode": "main"}]),
    ("put", "segments/bulk", [{"id": "b2", "name": "B2", "siteCode": "main"}]),
    ("delete", "segments/bulk", ["b1"]),
    ("put", "segments/bronze", {"name": "Bronze 2", "siteCode": "main"}),
    ("patch", "segments/bronze", {"mixins": {"a": 1}}),
    ("delete", "segments/b2", None),
    ("put", "segments/silver/customers/bulk", [{"customerId": "c1"}]),
    ("delete", "segments/silver/customers/bulk", [{"customerId": "c1"}]),
    ("put", "segments/silver/customers/c2", {}),
    ("delete", "segments/silver/customers/c2", None),
    ("put", "segments/silver/customers/c3/le1", {}),
    ("delete", "segments/silver/customers/c3/le1", None),
    ("put", "segments/silver/items/PRODUCT/bulk", [{"id": "p2"}]),
    ("delete", "segments/silver/items/PRODUCT/bulk", ["p2"]),
    ("put", "segments/silver/items/CATEGORY/cat2", {}),
    ("delete", "segments/silver/items/CATEGORY/cat2", None),
    ("put", "segments/silver/groups/g1", {}),
    ("delete", "segments/silver/groups/g1", None),
    ("put", "segments/silver/rule", {"q": "id:c2", "assign": "B2C", "enabled": True}),
    ("delete", "segments/silver/rule", None),
]
READS_BY_POST = ("/match", "/search", "/match/explain", "/rule/preview")  # POSTs that read


def test_every_write_route_moves_the_etag(customer, manage_client):
    covered = set()
    for method, path, body in WRITES:
        before = changes_of(customer)
        url = f"{OWN}/{path.removeprefix('segments').lstrip('/')}".rstrip("/")
        kwargs = {} if body is None else {"data": json.dumps(body)}
        response = getattr(manage_client, method)(url, content_type="application/json", **kwargs)
        assert response.status_code < 300 or response.status_code == 207, (method, url)
        if response.status_code == 207:
            assert all(r["code"] < 300 for r in response.json()), response.json()
        assert changes_of(customer) != before, f"{method.upper()} {path} left the ETag"
        covered.add((PREFIX + resolve(url).route.removeprefix(PREFIX), method))
    writes = {
        (route, method)
        for route, method in registered_operations()
        if method != "get" and not route.endswith(READS_BY_POST)
    }
    assert covered == writes


def test_directory_imports_and_admin_style_writes_move_the_etag(customer, tmp_path):
    before = changes_of(customer)
    import_directory(tmp_path, {"categories": [{"id": "cat1", "name": {"en": "Renamed"}}]})
    assert changes_of(customer) != before


def test_a_write_in_progress_does_not_move_it_and_its_commit_does(customer, world):
    before = changes_of(customer)
    with transaction.atomic():
        event_record(tenant=world, type=EventType.SEGMENT_UPDATED, resource_id="x", payload={})
        if connection.vendor == "postgresql":  # bumped at commit; SQLite writers take turns
            done = []
            reader = threading.Thread(target=lambda: done.append(changes_of(customer)))
            reader.start()
            reader.join(10)
            assert done == [before]
    assert changes_of(customer) != before


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs concurrent PostgreSQL connections",
)
def test_writers_of_one_tenant_do_not_wait_for_each_others_transactions(world):
    """Two open transactions record events of one tenant at once: neither waits for the
    other until it commits (an UPDATE of the counter row inside each would)."""
    first_recorded, second_done = threading.Event(), threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                event_record(
                    tenant=world, type=EventType.SEGMENT_UPDATED, resource_id="a", payload={}
                )
                first_recorded.set()
                assert second_done.wait(10), "the second writer waited for the first"
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_recorded.wait(10)
    generation = ChangeCounter.objects.get(tenant=world).generation
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '2s'")
    try:
        with transaction.atomic():
            event_record(tenant=world, type=EventType.SEGMENT_UPDATED, resource_id="b", payload={})
        second_done.set()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    thread.join(10)
    assert ChangeCounter.objects.get(tenant=world).generation == generation + 2

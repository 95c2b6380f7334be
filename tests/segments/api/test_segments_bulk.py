"""POST, PUT and DELETE /segments/bulk: 207 bodies, partial failure, fixed query counts."""

from __future__ import annotations

import re

import pytest

from segments.choices import EventType
from segments.models import CustomerAssignment, Event, ItemAssignment, Segment
from tests.conftest import MANAGE, READ
from tests.factories import (
    assign_customer,
    assign_product,
    make_customer,
    make_product,
    make_segment,
)
from tests.querycounts import assert_same_queries
from tests.schema import assert_matches

URL = "/customer-segment/acme/segments/bulk"
# A bulk request costs the same queries for 1 element or 200 (exact counts in
# tests/query_counts.json). On PostgreSQL: POST 5 (tenant, savepoint, INSERT, events INSERT,
# release); PUT 5 when every element is new and 7 when any exists (its INSERT skips the
# existing rows, then one SELECT and one UPDATE for them); forced DELETE 8. SQLite splits a
# statement past 999 bound parameters, so there the count depends on the size (the cases).


@pytest.fixture
def client(tenant, make_client):
    """A client that may write and read."""
    return make_client(tenant, MANAGE, READ)


def segment(segment_id: str | None = None, **fields):
    body = {"name": {"en": f"Segment {segment_id}"}, "siteCode": "main", **fields}
    if segment_id is not None:
        body["id"] = segment_id
    return body


@pytest.mark.django_db
class TestBulkCreate:
    def test_one_bad_element_does_not_block_the_others(self, client):
        response = client.post(
            URL,
            [
                segment("gold", status="ACTIVE"),
                {"id": "broken", "name": {"en": "x"}},
                segment(None),
                "not an object",
            ],
            format="json",
        )
        assert response.status_code == 207
        body = response.json()
        assert_matches(body, "BulkResponse", array=True)
        generated = body[2]["id"]
        assert re.fullmatch(r"[0-9a-f]{24}", generated)
        assert body == [
            {"index": 1, "id": "gold", "code": 201, "status": "Created"},
            {
                "index": 2,
                "id": "broken",
                "code": 400,
                "status": "Bad Request",
                "message": "siteCode: This field is required.",
            },
            {"index": 3, "id": generated, "code": 201, "status": "Created"},
            {
                "index": 4,
                "code": 400,
                "status": "Bad Request",
                "message": "Invalid data. Expected a dictionary, but got str.",
            },
        ]
        assert set(Segment.objects.values_list("external_id", flat=True)) == {"gold", generated}
        assert Segment.objects.get(external_id="gold").status == "ACTIVE"

    def test_a_null_element_is_a_400_entry(self, client):
        response = client.post(URL, [None, segment("gold")], format="json")
        assert response.status_code == 207
        assert response.json() == [
            {"index": 1, "code": 400, "status": "Bad Request", "message": "No data provided"},
            {"index": 2, "id": "gold", "code": 201, "status": "Created"},
        ]

    def test_existing_and_repeated_ids_are_409_for_their_element(self, client, tenant):
        make_segment(tenant, "taken")
        response = client.post(
            URL, [segment("taken"), segment("new"), segment("new")], format="json"
        )
        assert response.status_code == 207
        assert response.json() == [
            {
                "index": 1,
                "id": "taken",
                "code": 409,
                "status": "Conflict",
                "message": "The resource already exists.",
            },
            {"index": 2, "id": "new", "code": 201, "status": "Created"},
            {
                "index": 3,
                "id": "new",
                "code": 409,
                "status": "Conflict",
                "message": "The id new appears more than once in this request; "
                "only its first element is processed.",
            },
        ]
        assert Segment.objects.get(external_id="new").name == {"en": "Segment new"}

    def test_plain_strings_follow_content_language(self, client):
        response = client.post(
            URL,
            [{"id": "a", "name": "Gold", "description": "Beste", "siteCode": "main"}],
            format="json",
            HTTP_CONTENT_LANGUAGE="de",
        )
        assert response.json()[0]["code"] == 201
        stored = Segment.objects.get()
        assert (stored.name, stored.description) == ({"de": "Gold"}, {"de": "Beste"})

    def test_records_one_event_per_created_segment(self, client):
        client.post(URL, [segment("a"), segment("b"), {"id": "c"}], format="json")
        assert sorted(Event.objects.values_list("type", "resource_id")) == [
            (EventType.SEGMENT_CREATED, "a"),
            (EventType.SEGMENT_CREATED, "b"),
        ]

    @pytest.mark.parametrize("size", [1, 200])
    def test_a_fixed_number_of_queries_whatever_the_size(self, client, size):
        elements = [segment(f"s{n:03d}") for n in range(size)]
        response = assert_same_queries("segments.bulk.post", status=207)(
            lambda: client.post(URL, elements, format="json"), case=size
        )
        assert {r["code"] for r in response.json()} == {201}
        assert Segment.objects.count() == size


@pytest.mark.django_db
class TestBulkLimits:
    @pytest.mark.parametrize("method", ["post", "put", "delete"])
    def test_more_than_200_elements_is_400_for_the_whole_request(self, client, method):
        elements = (
            [f"s{n}" for n in range(201)]
            if method == "delete"
            else [segment(f"s{n}") for n in range(201)]
        )
        response = getattr(client, method)(URL, elements, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "code": 400,
            "status": "Bad Request",
            "message": "The request has 201 elements; at most 200 are allowed.",
        }
        assert not Segment.objects.exists()

    @pytest.mark.parametrize("method", ["post", "put", "delete"])
    @pytest.mark.parametrize("body", [{}, {"id": "a"}, [], "x"])
    def test_a_body_that_is_no_array_of_elements_is_400(self, client, method, body):
        response = getattr(client, method)(URL, body, format="json")
        assert response.status_code == 400

    @pytest.mark.parametrize("method", ["post", "put", "delete"])
    def test_needs_the_manage_scope(self, tenant, make_client, method):
        make_segment(tenant, "a")
        body = ["a"] if method == "delete" else [segment("a")]
        response = getattr(make_client(tenant, READ), method)(URL, body, format="json")
        assert response.status_code == 403
        assert Segment.objects.get().version == 1


@pytest.mark.django_db
class TestBulkUpsert:
    def test_creates_updates_and_refuses_element_by_element(self, client, tenant):
        make_segment(tenant, "kept", version=2)
        make_segment(tenant, "stale", name={"en": "Stale"}, version=5)
        response = client.put(
            URL,
            [
                segment("kept", metadata={"version": 2}),
                segment("fresh"),
                segment("stale", metadata={"version": 4}),
                segment(None),
                segment("bad", status="MAYBE"),
                segment("fresh"),
            ],
            format="json",
        )
        assert response.status_code == 207
        body = response.json()
        assert_matches(body, "BulkResponse", array=True)
        assert body == [
            {"index": 1, "id": "kept", "code": 204, "status": "OK"},
            {"index": 2, "id": "fresh", "code": 201, "status": "Created"},
            {
                "index": 3,
                "id": "stale",
                "code": 409,
                "status": "Conflict",
                "message": "The resource you are attempting to access has changed.",
            },
            {
                "index": 4,
                "code": 400,
                "status": "Bad Request",
                "message": "id: This field is required.",
            },
            {
                "index": 5,
                "id": "bad",
                "code": 400,
                "status": "Bad Request",
                "message": 'status: "MAYBE" is not a valid choice.',
            },
            {
                "index": 6,
                "id": "fresh",
                "code": 409,
                "status": "Conflict",
                "message": "The id fresh appears more than once in this request; "
                "only its first element is processed.",
            },
        ]
        kept = Segment.objects.get(external_id="kept")
        assert (kept.name, kept.version) == ({"en": "Segment kept"}, 3)
        assert kept.modified_at > kept.created_at
        stale = Segment.objects.get(external_id="stale")
        assert (stale.name, stale.version) == ({"en": "Stale"}, 5)
        assert Segment.objects.get(external_id="fresh").version == 1
        assert sorted(Event.objects.values_list("type", "resource_id")) == [
            (EventType.SEGMENT_CREATED, "fresh"),
            (EventType.SEGMENT_UPDATED, "kept"),
        ]

    def test_single_language_strings_update_that_language_only(self, client, tenant):
        make_segment(tenant, "a", name={"en": "Gold", "de": "Gold"})
        response = client.put(
            URL,
            [{"id": "a", "name": "Or", "siteCode": "main"}],
            HTTP_CONTENT_LANGUAGE="fr",
            format="json",
        )
        assert response.json()[0]["code"] == 204
        assert Segment.objects.get().name == {"en": "Gold", "de": "Gold", "fr": "Or"}

    def test_another_tenants_segment_of_the_same_id_is_untouched(self, client, other_tenant):
        theirs = make_segment(other_tenant, "a", name={"en": "Theirs"})
        response = client.put(URL, [segment("a")], format="json")
        assert response.json()[0]["code"] == 201
        theirs.refresh_from_db()
        assert (theirs.name, theirs.version) == ({"en": "Theirs"}, 1)

    @pytest.mark.parametrize(
        ("size", "existing"), [(1, 0), (200, 0), (1, 1), (2, 1), (200, 100), (200, 200)]
    )
    def test_a_fixed_number_of_queries_whatever_the_mix(self, client, tenant, size, existing):
        for n in range(existing):
            make_segment(tenant, f"s{n:03d}")
        elements = [segment(f"s{n:03d}", status="INACTIVE") for n in range(size)]
        # Only creates, or some updates: each costs the same whatever the size.
        key = "segments.bulk.put.updates" if existing else "segments.bulk.put.creates"
        response = assert_same_queries(key, status=207)(
            lambda: client.put(URL, elements, format="json"), case=f"{size}-{existing}"
        )
        codes = [r["code"] for r in response.json()]
        assert codes == [204] * existing + [201] * (size - existing)
        assert set(Segment.objects.values_list("status", flat=True)) == {"INACTIVE"}


@pytest.mark.django_db
class TestBulkDelete:
    def test_deletes_element_by_element(self, client, tenant):
        make_segment(tenant, "a")
        assigned = make_segment(tenant, "assigned")
        assign_customer(assigned, make_customer(tenant))
        make_segment(tenant, "b")
        response = client.delete(URL, ["a", "missing", "assigned", 7, "a", "b"], format="json")
        assert response.status_code == 207
        body = response.json()
        assert_matches(body, "BulkResponse", array=True)
        assert body == [
            {"index": 1, "id": "a", "code": 204, "status": "OK"},
            {
                "index": 2,
                "id": "missing",
                "code": 404,
                "status": "Not Found",
                "message": "The segment with id missing has not been found.",
            },
            {
                "index": 3,
                "id": "assigned",
                "code": 400,
                "status": "Bad Request",
                "message": "The segment assigned has customers assigned; "
                "delete it with forceDelete=true to remove them too.",
            },
            {
                "index": 4,
                "code": 400,
                "status": "Bad Request",
                "message": "Each element must be a segment id (a non-empty string).",
            },
            {
                "index": 5,
                "id": "a",
                "code": 409,
                "status": "Conflict",
                "message": "The id a appears more than once in this request; "
                "only its first element is processed.",
            },
            {"index": 6, "id": "b", "code": 204, "status": "OK"},
        ]
        assert list(Segment.objects.values_list("external_id", flat=True)) == ["assigned"]
        assert sorted(Event.objects.values_list("type", "resource_id")) == [
            (EventType.SEGMENT_DELETED, "a"),
            (EventType.SEGMENT_DELETED, "b"),
        ]

    def test_the_sdk_form_ids_answers_as_the_array(self, client, tenant):
        # The platform's TypeScript SDK types bulk deletes as {"ids": [...]}.
        make_segment(tenant, "a")
        assigned = make_segment(tenant, "assigned")
        assign_customer(assigned, make_customer(tenant))
        body = {"ids": ["a", "missing", "assigned"]}
        response = client.delete(f"{URL}?forceDelete=true", body, format="json")
        assert response.status_code == 207
        assert response.json() == [
            {"index": 1, "id": "a", "code": 204, "status": "OK"},
            {
                "index": 2,
                "id": "missing",
                "code": 404,
                "status": "Not Found",
                "message": "The segment with id missing has not been found.",
            },
            {"index": 3, "id": "assigned", "code": 204, "status": "OK"},
        ]
        assert not Segment.objects.exists()

    def test_force_delete_takes_the_assignments_along(self, client, tenant):
        kept = make_segment(tenant, "kept")
        customer = make_customer(tenant)
        assign_customer(kept, customer)
        for segment_id in ("a", "b"):
            doomed = make_segment(tenant, segment_id)
            assign_customer(doomed, customer)
            assign_product(doomed, make_product(tenant))
        response = client.delete(URL + "?forceDelete=true", ["a", "b"], format="json")
        assert [r["code"] for r in response.json()] == [204, 204]
        assert list(Segment.objects.values_list("external_id", flat=True)) == ["kept"]
        assert CustomerAssignment.objects.get().segment == kept
        assert not ItemAssignment.objects.exists()

    def test_another_tenants_segments_are_not_found(self, client, other_tenant):
        make_segment(other_tenant, "a")
        response = client.delete(URL + "?forceDelete=true", ["a"], format="json")
        assert response.json()[0]["code"] == 404
        assert Segment.objects.filter(tenant=other_tenant).exists()

    @pytest.mark.parametrize("size", [1, 200])
    def test_a_fixed_number_of_queries_whatever_the_size(self, client, tenant, size):
        customer = make_customer(tenant)
        for n in range(size):
            assign_customer(make_segment(tenant, f"s{n:03d}"), customer)
        ids = [f"s{n:03d}" for n in range(size)]
        response = assert_same_queries("segments.bulk.delete.force", status=207)(
            lambda: client.delete(URL + "?forceDelete=true", ids, format="json"), case=size
        )
        assert {r["code"] for r in response.json()} == {204}
        assert not Segment.objects.exists()
        assert not CustomerAssignment.objects.exists()

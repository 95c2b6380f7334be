"""Create, read, upsert and delete of single segments, through HTTP."""

from __future__ import annotations

import json
import re

import pytest

from segments.choices import EventType
from segments.models import CustomerAssignment, Event, ItemAssignment, Segment
from tests.conftest import MANAGE, READ
from tests.factories import (
    assign_category,
    assign_customer,
    assign_product,
    make_category,
    make_customer,
    make_product,
    make_segment,
)
from tests.schema import assert_matches

URL = "/customer-segment/acme/segments"
GOLDEN = {
    "id": "628cd20c6e8b2432b6346ca6",
    "name": {"en": "Golden Segment"},
    "description": {"en": "Golden Segment"},
    "validity": {"from": "2024-04-17T08:00:00.000Z", "to": "2025-04-17T08:00:00.000Z"},
    "status": "ACTIVE",
    "siteCode": "main",
}


@pytest.fixture
def client(tenant, make_client):
    """A client that may write and read."""
    return make_client(tenant, MANAGE, READ)


def detail(segment_id: str) -> str:
    return f"{URL}/{segment_id}"


@pytest.mark.django_db
class TestCreate:
    def test_created_segment_reads_back_as_sent_with_metadata(self, client):
        response = client.post(URL, GOLDEN, format="json")
        assert response.status_code == 201
        assert response.json() == {"id": GOLDEN["id"]}
        body = client.get(detail(GOLDEN["id"])).json()
        metadata = body.pop("metadata")
        assert body == GOLDEN
        assert metadata["version"] == 1
        assert metadata["createdAt"] == metadata["modifiedAt"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", metadata["createdAt"])
        assert_matches(client.get(detail(GOLDEN["id"])).json(), "SegmentResponse")

    def test_id_is_generated_as_24_hex_characters(self, client):
        response = client.post(URL, {"name": {"en": "x"}, "siteCode": "main"}, format="json")
        assert response.status_code == 201
        assert re.fullmatch(r"[0-9a-f]{24}", response.json()["id"])

    def test_status_defaults_to_inactive_and_optional_parts_are_absent(self, client):
        created = client.post(URL, {"name": {"en": "x"}, "siteCode": "main"}, format="json")
        body = client.get(detail(created.json()["id"])).json()
        assert body["status"] == "INACTIVE"
        assert set(body) == {"id", "name", "status", "siteCode", "metadata"}

    def test_mixins_and_their_schema_links_are_stored_as_given(self, client):
        payload = {
            **GOLDEN,
            "mixins": {"segmentAttributes": {"membershipStatus": "PREMIUM", "n": [1, 2]}},
            "metadata": {"mixins": {"segmentAttributes": "https://example.com/s.json"}},
        }
        assert client.post(URL, payload, format="json").status_code == 201
        body = client.get(detail(GOLDEN["id"])).json()
        assert body["mixins"] == payload["mixins"]
        assert body["metadata"]["mixins"] == {"segmentAttributes": "https://example.com/s.json"}

    def test_mixin_values_come_back_exactly_whatever_decodes_them(self, client):
        # Integers past 64 bits are read back by Django's decoder (orjson refuses them),
        # the rest by orjson: the client sees the same values either way.
        mixins = {
            "segmentAttributes": {
                "big": 2**70,
                "small": -(2**63),
                "ratio": 1 / 3,
                "text": "Gold ü 金 \u2028",
                "deep": [[{"x": None, "y": True}]],
            }
        }
        assert client.post(URL, {**GOLDEN, "mixins": mixins}, format="json").status_code == 201
        body = client.get(detail(GOLDEN["id"])).content.decode()
        assert '"big":1180591620717411303424,' in body  # not 1.1805916207174113e+21
        assert json.loads(body)["mixins"] == mixins

    def test_existing_id_is_409_and_changes_nothing(self, client, tenant):
        make_segment(tenant, GOLDEN["id"], name={"en": "Old"})
        response = client.post(URL, GOLDEN, format="json")
        assert response.status_code == 409
        assert response.json() == {
            "code": 409,
            "status": "Conflict",
            "message": "The resource already exists.",
            "resourceId": GOLDEN["id"],
        }
        assert Segment.objects.get(external_id=GOLDEN["id"]).name == {"en": "Old"}

    def test_same_id_in_another_tenant_is_no_conflict(self, client, other_tenant):
        make_segment(other_tenant, GOLDEN["id"])
        assert client.post(URL, GOLDEN, format="json").status_code == 201

    def test_missing_name_and_site_code_are_named(self, client):
        response = client.post(URL, {"status": "ACTIVE"}, format="json")
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == 400 and body["status"] == "Bad Request"
        assert "name: This field is required." in body["message"]
        assert "siteCode: This field is required." in body["message"]
        assert "details" not in body

    def test_a_single_field_problem_comes_with_details(self, client):
        response = client.post(URL, {"name": {"en": "Gold"}}, format="json")
        assert response.status_code == 400
        assert response.json()["details"] == {
            "field": "siteCode",
            "type": "required",
            "message": "This field is required.",
        }
        assert_matches(response.json(), "Error")

    def test_unknown_fields_are_refused_by_name(self, client):
        response = client.post(URL, {**GOLDEN, "colour": "gold", "tier": 1}, format="json")
        assert response.status_code == 400
        assert "colour: Unknown field." in response.json()["message"]
        assert "tier: Unknown field." in response.json()["message"]
        assert not Segment.objects.exists()

    @pytest.mark.parametrize(
        ("change", "problem"),
        [
            ({"validity": {"from": "2025-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}}, "from"),
            ({"validity": {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}}, "from"),
            ({"validity": {"from": "yesterday"}}, "validity.from"),
            ({"validity": {"start": "2025-01-01T00:00:00Z"}}, "validity.start"),
            ({"status": "active"}, "status"),
            ({"status": None}, "status"),
            ({"siteCode": 5}, "siteCode"),
            ({"siteCode": ""}, "siteCode"),
            ({"siteCode": "   "}, "siteCode"),
            ({"name": {}}, "name"),
            ({"name": {"en": 5}}, "name"),
            ({"name": ["Gold"]}, "name"),
            ({"name": {"xx": "Gold"}}, "name"),
            ({"description": 7}, "description"),
            ({"mixins": ["a"]}, "mixins"),
            ({"metadata": {"mixins": {"a": 1}}}, "metadata.mixins.a"),
            ({"metadata": {"owner": "me"}}, "metadata.owner"),
            ({"id": ""}, "id"),
            ({"id": 12}, "id"),
            ({"id": "x" * 65}, "id"),
            ({"id": "a/b"}, "id"),
            ({"id": "a b"}, "id"),
            ({"id": "search"}, "id"),
            ({"id": "bulk"}, "id"),
        ],
    )
    def test_invalid_values_are_400_naming_the_field(self, client, change, problem):
        response = client.post(URL, {**GOLDEN, **change}, format="json")
        assert response.status_code == 400, response.json()
        assert f"{problem}:" in response.json()["message"]
        assert not Segment.objects.exists()

    def test_open_ended_validity_and_null_parts_are_accepted(self, client):
        payload = {**GOLDEN, "validity": {"from": "2024-04-17T10:00:00+02:00", "to": None}}
        payload["description"] = None
        assert client.post(URL, payload, format="json").status_code == 201
        body = client.get(detail(GOLDEN["id"])).json()
        assert body["validity"] == {"from": "2024-04-17T08:00:00.000Z"}
        assert "description" not in body

    @pytest.mark.parametrize("body", ["[]", "null", '"text"', "{", ""])
    def test_a_body_that_is_no_object_is_400(self, client, body):
        response = client.post(URL, body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == 400

    def test_records_a_created_event_with_the_document(self, client):
        client.post(URL, GOLDEN, format="json")
        event = Event.objects.get()
        assert event.type == EventType.SEGMENT_CREATED
        assert event.resource_id == GOLDEN["id"]
        assert event.payload["name"] == GOLDEN["name"]
        assert event.payload["metadata"]["version"] == 1

    def test_needs_the_manage_scope(self, tenant, make_client):
        response = make_client(tenant, READ).post(URL, GOLDEN, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == 403
        assert not Segment.objects.exists()

    def test_without_token_is_401(self, tenant, anon_client):
        assert anon_client.post(URL, GOLDEN, format="json").status_code == 401

    def test_another_tenants_token_is_403(self, tenant, other_tenant, make_client):
        response = make_client(other_tenant, MANAGE).post(URL, GOLDEN, format="json")
        assert response.status_code == 403
        assert not Segment.objects.exists()


@pytest.mark.django_db
class TestRetrieve:
    def test_unknown_id_is_404_naming_it(self, client, tenant):
        response = client.get(detail("nope"))
        assert response.status_code == 404
        assert response.json() == {
            "code": 404,
            "status": "Not Found",
            "message": "The segment with id nope has not been found.",
            "resourceId": "nope",
        }

    def test_another_tenants_segment_is_not_found(self, client, other_tenant):
        make_segment(other_tenant, "theirs")
        assert client.get(detail("theirs")).status_code == 404

    def test_fields_projects_the_document(self, client, tenant):
        make_segment(tenant, "gold")
        response = client.get(detail("gold"), {"fields": "id,metadata.version"})
        assert response.json() == {"id": "gold", "metadata": {"version": 1}}


@pytest.mark.django_db
class TestUpsert:
    def test_unknown_id_is_created_with_201_and_its_id(self, client):
        payload = {k: v for k, v in GOLDEN.items() if k != "id"}
        response = client.put(detail("gold"), payload, format="json")
        assert response.status_code == 201
        assert response.json() == {"id": "gold"}
        assert client.get(detail("gold")).json()["name"] == GOLDEN["name"]

    def test_existing_id_is_replaced_with_204_version_up_and_modified_at_moved(self, client):
        client.post(URL, GOLDEN, format="json")
        before = client.get(detail(GOLDEN["id"])).json()
        payload = {"name": {"en": "Silver"}, "siteCode": "outlet", "metadata": {"version": 1}}
        response = client.put(detail(GOLDEN["id"]), payload, format="json")
        assert response.status_code == 204
        assert response.content == b""
        after = client.get(detail(GOLDEN["id"])).json()
        # The body replaces the resource: what it leaves out is gone.
        assert {k: after[k] for k in ("name", "siteCode", "status")} == {
            "name": {"en": "Silver"},
            "siteCode": "outlet",
            "status": "INACTIVE",
        }
        assert "description" not in after and "validity" not in after
        assert after["metadata"]["version"] == 2
        assert after["metadata"]["createdAt"] == before["metadata"]["createdAt"]
        assert after["metadata"]["modifiedAt"] >= before["metadata"]["modifiedAt"]
        assert Segment.objects.get().modified_at > Segment.objects.get().created_at

    def test_without_a_version_the_write_goes_through(self, client, tenant):
        make_segment(tenant, "gold", version=7)
        response = client.put(detail("gold"), {"name": {"en": "x"}, "siteCode": "m"}, format="json")
        assert response.status_code == 204
        assert Segment.objects.get().version == 8

    def test_stale_version_is_409_and_writes_nothing(self, client, tenant):
        make_segment(tenant, "gold", name={"en": "Gold"}, version=3)
        payload = {"name": {"en": "Silver"}, "siteCode": "main", "metadata": {"version": 2}}
        response = client.put(detail("gold"), payload, format="json")
        assert response.status_code == 409
        assert response.json() == {
            "code": 409,
            "status": "Conflict",
            "message": "The resource you are attempting to access has changed.",
            "resourceId": "gold",
        }
        segment = Segment.objects.get()
        assert (segment.name, segment.version) == ({"en": "Gold"}, 3)
        assert not Event.objects.exists()

    def test_get_modify_put_round_trip_is_accepted(self, client, tenant):
        client.post(URL, {**GOLDEN, "mixins": {"a": {"b": 1}}}, format="json")
        document = client.get(detail(GOLDEN["id"])).json()
        document["status"] = "INACTIVE"
        response = client.put(detail(GOLDEN["id"]), document, format="json")
        assert response.status_code == 204
        again = client.get(detail(GOLDEN["id"])).json()
        assert again["status"] == "INACTIVE"
        assert again["mixins"] == {"a": {"b": 1}}
        assert again["metadata"]["version"] == 2
        # Replaying the same (now stale) document is a conflict.
        assert client.put(detail(GOLDEN["id"]), document, format="json").status_code == 409

    def test_body_id_other_than_the_path_is_400(self, client):
        response = client.put(
            detail("gold"), {"id": "silver", "name": {"en": "x"}, "siteCode": "m"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["message"] == "id: must be the id in the path (gold)."
        assert not Segment.objects.exists()

    def test_path_id_that_cannot_be_an_id_is_400(self, client):
        response = client.put(
            detail("x" * 65), {"name": {"en": "x"}, "siteCode": "m"}, format="json"
        )
        assert response.status_code == 400

    def test_validation_errors_are_400(self, client, tenant):
        make_segment(tenant, "gold")
        response = client.put(detail("gold"), {"siteCode": "m"}, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == "name: This field is required."

    def test_records_created_then_updated_events(self, client):
        payload = {"name": {"en": "x"}, "siteCode": "m"}
        client.put(detail("gold"), payload, format="json")
        client.put(detail("gold"), payload, format="json")
        assert list(Event.objects.order_by("id").values_list("type", "resource_id")) == [
            (EventType.SEGMENT_CREATED, "gold"),
            (EventType.SEGMENT_UPDATED, "gold"),
        ]
        assert Event.objects.order_by("id").last().payload["metadata"]["version"] == 2

    def test_another_tenants_segment_of_the_same_id_is_untouched(self, client, other_tenant):
        theirs = make_segment(other_tenant, "gold", name={"en": "Theirs"})
        response = client.put(
            detail("gold"), {"name": {"en": "Ours"}, "siteCode": "m"}, format="json"
        )
        assert response.status_code == 201
        theirs.refresh_from_db()
        assert theirs.name == {"en": "Theirs"} and theirs.version == 1

    def test_needs_the_manage_scope(self, tenant, make_client):
        response = make_client(tenant, READ).put(
            detail("gold"), {"name": {"en": "x"}, "siteCode": "m"}, format="json"
        )
        assert response.status_code == 403


@pytest.mark.django_db
class TestDelete:
    def test_deletes_with_204_and_records_an_event(self, client, tenant):
        make_segment(tenant, "gold")
        response = client.delete(detail("gold"))
        assert response.status_code == 204
        assert not Segment.objects.exists()
        event = Event.objects.get()
        assert (event.type, event.resource_id) == (EventType.SEGMENT_DELETED, "gold")

    def test_unknown_id_is_404(self, client, tenant):
        response = client.delete(detail("nope"))
        assert response.status_code == 404
        assert response.json()["message"] == "The segment with id nope has not been found."

    def test_another_tenants_segment_is_404_and_stays(self, client, other_tenant):
        make_segment(other_tenant, "gold")
        assert client.delete(detail("gold")).status_code == 404
        assert Segment.objects.filter(tenant=other_tenant).count() == 1

    @pytest.mark.parametrize("what", ["customers", "items"])
    def test_segment_with_assignments_is_400_without_force(self, client, tenant, what):
        segment = make_segment(tenant, "gold")
        if what == "customers":
            assign_customer(segment, make_customer(tenant))
        else:
            assign_product(segment, make_product(tenant))
        response = client.delete(detail("gold"))
        assert response.status_code == 400
        assert response.json()["message"] == (
            f"The segment gold has {what} assigned; "
            "delete it with forceDelete=true to remove them too."
        )
        assert Segment.objects.filter(external_id="gold").exists()

    def test_force_delete_removes_the_segment_with_its_assignments(self, client, tenant):
        segment = make_segment(tenant, "gold")
        other = make_segment(tenant, "silver")
        customer = make_customer(tenant)
        assign_customer(segment, customer)
        assign_customer(other, customer)
        assign_product(segment, make_product(tenant))
        assign_category(segment, make_category(tenant))
        response = client.delete(
            detail("gold"), {"forceDelete": "true"}, QUERY_STRING="forceDelete=true"
        )
        assert response.status_code == 204
        assert list(Segment.objects.values_list("external_id", flat=True)) == ["silver"]
        assert CustomerAssignment.objects.get().segment == other
        assert not ItemAssignment.objects.exists()

    def test_force_delete_false_is_like_none(self, client, tenant):
        segment = make_segment(tenant, "gold")
        assign_product(segment, make_product(tenant))
        response = client.delete(detail("gold") + "?forceDelete=false")
        assert response.status_code == 400

    def test_force_delete_that_is_no_boolean_is_400(self, client, tenant):
        make_segment(tenant, "gold")
        response = client.delete(detail("gold") + "?forceDelete=maybe")
        assert response.status_code == 400
        assert response.json()["message"] == "forceDelete must be true or false, not 'maybe'."
        assert Segment.objects.exists()

    def test_needs_the_manage_scope(self, tenant, make_client):
        make_segment(tenant, "gold")
        assert make_client(tenant, READ).delete(detail("gold")).status_code == 403
        assert Segment.objects.exists()


@pytest.mark.django_db
class TestTextNoDatabaseCanHold:
    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            ('{"name": {"en": "a\\u0000b"}, "siteCode": "m"}', "a NUL character"),
            (
                '{"name": {"en": "a"}, "siteCode": "m", "mixins": {"k\\u0000": 1}}',
                "a NUL character",
            ),
            ('{"name": {"en": "a\\ud800"}, "siteCode": "m"}', "a lone UTF-16 surrogate"),
        ],
    )
    def test_a_body_with_nul_or_lone_surrogates_is_400(self, client, body, problem):
        response = client.post(URL, body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["message"].startswith(f"The request body contains {problem}")
        assert not Segment.objects.exists()

    def test_a_raw_nul_in_a_string_is_malformed_json(self, client):
        # Only an escape can spell a NUL in a document the decoder accepts.
        body = '{"name": {"en": "a\x00b"}, "siteCode": "m"}'
        response = client.post(URL, body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["message"].startswith("Malformed JSON in the request body: ")
        assert not Segment.objects.exists()

    def test_an_escaped_backslash_before_u0000_is_plain_text(self, client):
        body = '{"id": "s", "name": {"en": "a\\\\u0000"}, "siteCode": "m"}'
        assert client.post(URL, body, content_type="application/json").status_code == 201
        assert Segment.objects.get().name == {"en": "a\\u0000"}

    @pytest.mark.parametrize(
        "url", [f"{URL}/a%00b", f"{URL}?customerId=a%00b", f"{URL}/gold?fields=id%00"]
    )
    def test_a_nul_in_the_path_or_query_is_400(self, client, url):
        response = client.get(url)
        assert response.status_code == 400
        assert response.json()["message"] == (
            "The path or a query parameter contains a NUL character."
        )

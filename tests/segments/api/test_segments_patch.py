"""PATCH /segments/{segmentId}: RFC 6902 JSON Patch and RFC 7396 JSON Merge Patch."""

from __future__ import annotations

import json

import pytest

from segments.choices import EventType
from segments.models import Event, Segment
from tests.conftest import MANAGE, READ
from tests.factories import make_segment

URL = "/customer-segment/acme/segments/gold"


@pytest.fixture
def client(tenant, make_client):
    """A client that may write and read."""
    return make_client(tenant, MANAGE, READ)


@pytest.fixture
def gold(tenant):
    """A segment with every part set."""
    return make_segment(
        tenant,
        "gold",
        name={"en": "Gold", "de": "Gold"},
        description={"en": "Best"},
        mixins={"productCustomAttributes": {"pricingMeasurePrice": 10}},
        metadata_mixins={"productCustomAttributes": "https://example.com/p.json"},
    )


def patch(client, body, content_type="application/json", **headers):
    return client.patch(URL, json.dumps(body), content_type=content_type, **headers)


def stored() -> Segment:
    return Segment.objects.get(external_id="gold")


@pytest.mark.django_db
class TestJsonPatch:
    @pytest.mark.parametrize("content_type", ["application/json", "application/json-patch+json"])
    def test_replace_status_is_204_and_bumps_the_version(self, client, gold, content_type):
        response = patch(
            client, [{"op": "replace", "path": "/status", "value": "INACTIVE"}], content_type
        )
        assert response.status_code == 204
        assert response.content == b""
        segment = stored()
        assert (segment.status, segment.version) == ("INACTIVE", 2)
        assert segment.modified_at > segment.created_at
        assert segment.name == {"en": "Gold", "de": "Gold"}

    def test_the_yaml_examples_work(self, client, gold):
        response = patch(
            client,
            [
                {"op": "replace", "path": "/name", "value": {"en": "New name"}},
                {"op": "remove", "path": "/description"},
                {
                    "op": "replace",
                    "path": "/mixins/productCustomAttributes/pricingMeasurePrice",
                    "value": 15,
                },
            ],
        )
        assert response.status_code == 204
        segment = stored()
        assert segment.name == {"en": "New name"}
        assert segment.description == {}
        assert segment.mixins == {"productCustomAttributes": {"pricingMeasurePrice": 15}}
        assert segment.metadata_mixins == {"productCustomAttributes": "https://example.com/p.json"}

    def test_add_one_translation_and_a_validity(self, client, gold):
        response = patch(
            client,
            [
                {"op": "add", "path": "/name/fr", "value": "Or"},
                {"op": "add", "path": "/validity", "value": {"from": "2024-01-01T00:00:00Z"}},
            ],
        )
        assert response.status_code == 204
        assert stored().name == {"en": "Gold", "de": "Gold", "fr": "Or"}
        body = client.get(URL).json()
        assert body["validity"] == {"from": "2024-01-01T00:00:00.000Z"}

    def test_plain_string_with_content_language_sets_that_language_only(self, client, gold):
        response = patch(
            client,
            [{"op": "replace", "path": "/name", "value": "Gülden"}],
            HTTP_CONTENT_LANGUAGE="de",
        )
        assert response.status_code == 204
        assert stored().name == {"en": "Gold", "de": "Gülden"}

    def test_the_result_is_validated_like_a_put(self, client, gold):
        response = patch(
            client,
            [
                {"op": "remove", "path": "/siteCode"},
                {"op": "replace", "path": "/status", "value": "ON"},
                {"op": "add", "path": "/colour", "value": "gold"},
            ],
        )
        assert response.status_code == 400
        message = response.json()["message"]
        assert "siteCode: This field is required." in message
        assert 'status: "ON" is not a valid choice.' in message
        assert "colour: Unknown field." in message
        assert stored().version == 1

    def test_validity_order_is_checked(self, client, gold):
        response = patch(
            client,
            [
                {
                    "op": "add",
                    "path": "/validity",
                    "value": {"from": "2025-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"},
                }
            ],
        )
        assert response.status_code == 400
        assert response.json()["message"] == "validity.from: must be before validity.to."

    @pytest.mark.parametrize(
        ("operation", "problem"),
        [
            ({"op": "replace", "path": "/id", "value": "silver"}, "id cannot be patched."),
            ({"op": "remove", "path": "/id"}, "id cannot be patched."),
            (
                {"op": "replace", "path": "/metadata/createdAt", "value": "2020-01-01T00:00:00Z"},
                "metadata.createdAt cannot be patched.",
            ),
            (
                {"op": "remove", "path": "/metadata/modifiedAt"},
                "metadata.modifiedAt cannot be patched.",
            ),
        ],
    )
    def test_id_and_metadata_timestamps_cannot_be_patched(self, client, gold, operation, problem):
        response = patch(client, [operation])
        assert response.status_code == 400
        assert response.json()["message"] == problem
        assert stored().version == 1

    @pytest.mark.parametrize(
        "body",
        [
            [],
            [{"op": "rename", "path": "/name"}],
            [{"op": "replace", "value": 1}],
            [{"op": "replace", "path": "/status"}],
            [{"op": "move", "path": "/a"}],
            ["replace"],
            [{"op": "replace", "path": "/nothing/here", "value": 1}],
            [{"op": "remove", "path": "/mixins/absent"}],
            [{"op": "replace", "path": "status", "value": "ACTIVE"}],
            [{"op": "add", "path": "/name/-", "value": "x"}],
        ],
    )
    def test_malformed_or_inapplicable_patches_are_400(self, client, gold, body):
        response = patch(client, body)
        assert response.status_code == 400, response.json()
        assert response.json()["code"] == 400
        assert stored().version == 1

    def test_version_in_the_patch_is_checked(self, client, gold):
        stale = [
            {"op": "replace", "path": "/metadata/version", "value": 5},
            {"op": "replace", "path": "/status", "value": "INACTIVE"},
        ]
        response = patch(client, stale)
        assert response.status_code == 409
        assert response.json()["message"] == (
            "The resource you are attempting to access has changed."
        )
        current = [
            {"op": "test", "path": "/metadata/version", "value": 1},
            {"op": "replace", "path": "/status", "value": "INACTIVE"},
        ]
        assert patch(client, current).status_code == 204
        # The same test now fails: the version moved on.
        response = patch(client, current)
        assert response.status_code == 409
        assert stored().version == 2

    def test_unknown_segment_is_404(self, client, tenant):
        response = patch(client, [{"op": "replace", "path": "/status", "value": "ACTIVE"}])
        assert response.status_code == 404
        assert response.json()["message"] == "The segment with id gold has not been found."

    def test_another_tenants_segment_is_404(self, client, other_tenant):
        make_segment(other_tenant, "gold", status="ACTIVE")
        response = patch(client, [{"op": "replace", "path": "/status", "value": "INACTIVE"}])
        assert response.status_code == 404
        assert Segment.objects.get(tenant=other_tenant).status == "ACTIVE"

    def test_records_an_updated_event(self, client, gold):
        patch(client, [{"op": "replace", "path": "/status", "value": "INACTIVE"}])
        event = Event.objects.get()
        assert (event.type, event.resource_id) == (EventType.SEGMENT_UPDATED, "gold")
        assert event.payload["status"] == "INACTIVE"

    def test_needs_the_manage_scope(self, tenant, make_client, gold):
        response = patch(
            make_client(tenant, READ), [{"op": "replace", "path": "/status", "value": "ACTIVE"}]
        )
        assert response.status_code == 403


@pytest.mark.django_db
class TestMergePatch:
    @pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json"])
    def test_an_object_merges_and_null_removes(self, client, gold, content_type):
        body = {
            "name": {"fr": "Or", "de": None},
            "description": None,
            "mixins": {"productCustomAttributes": {"colour": "gold"}},
            "status": "INACTIVE",
        }
        response = patch(client, body, content_type)
        assert response.status_code == 204
        segment = stored()
        assert segment.name == {"en": "Gold", "fr": "Or"}
        assert segment.description == {}
        assert segment.mixins == {
            "productCustomAttributes": {"pricingMeasurePrice": 10, "colour": "gold"}
        }
        assert (segment.status, segment.version) == ("INACTIVE", 2)

    def test_version_states_the_expected_version(self, client, gold):
        response = patch(client, {"status": "INACTIVE", "metadata": {"version": 4}})
        assert response.status_code == 409
        assert patch(client, {"status": "INACTIVE", "metadata": {"version": 1}}).status_code == 204

    def test_removing_required_fields_is_400(self, client, gold):
        response = patch(client, {"name": None}, "application/merge-patch+json")
        assert response.status_code == 400
        assert response.json()["message"] == "name: This field is required."

    def test_array_with_merge_patch_type_and_object_with_json_patch_type_are_400(
        self, client, gold
    ):
        assert patch(client, [{"status": "x"}], "application/merge-patch+json").status_code == 400
        response = patch(client, {"status": "ACTIVE"}, "application/json-patch+json")
        assert response.status_code == 400
        assert response.json()["message"] == "A JSON Patch body must be an array of operations."

    @pytest.mark.parametrize("body", ["text", 5, None])
    def test_a_scalar_body_is_400(self, client, gold, body):
        assert patch(client, body).status_code == 400

    def test_other_media_types_are_415(self, client, gold):
        response = client.patch(URL, "status=ACTIVE", content_type="text/plain")
        assert response.status_code == 415
        assert response.json()["code"] == 415


@pytest.fixture
def bare(tenant):
    """A segment with no mixins, no description and no validity."""
    return make_segment(tenant, "gold", name={"en": "Gold"}, mixins={"list": [1], "text": "x"})


@pytest.mark.django_db
class TestJsonPatchInWords:
    @pytest.mark.parametrize(
        ("operation", "problem"),
        [
            # The YAML's own example, on a segment without that mixin.
            (
                {
                    "op": "replace",
                    "path": "/mixins/productCustomAttributes/pricingMeasurePrice",
                    "value": 15,
                },
                '"replace" at /mixins/productCustomAttributes/pricingMeasurePrice: '
                'the segment has no mixin "productCustomAttributes".',
            ),
            (
                {"op": "remove", "path": "/mixins/absent"},
                '"remove" at /mixins/absent: the segment has no mixin "absent".',
            ),
            (
                {"op": "replace", "path": "/nothing/here", "value": 1},
                '"replace" at /nothing/here: the segment has no "nothing".',
            ),
            (
                {"op": "remove", "path": "/description"},
                '"remove" at /description: the segment has no "description".',
            ),
            (
                {"op": "replace", "path": "/name/de", "value": "x"},
                '"replace" at /name/de: /name has no "de".',
            ),
            (
                {"op": "add", "path": "/name/en/x", "value": 1},
                '"add" at /name/en/x: /name/en is a string, not an object or an array.',
            ),
            (
                {"op": "add", "path": "/mixins/list/5", "value": 1},
                '"add" at /mixins/list/5: /mixins/list has 1 element, no index 5.',
            ),
            (
                {"op": "add", "path": "/mixins/list/x", "value": 1},
                '"add" at /mixins/list/x: /mixins/list is an array, "x" is no index.',
            ),
            (
                {"op": "add", "path": "/mixins/text/a", "value": 1},
                '"add" at /mixins/text/a: /mixins/text is a string, not an object or an array.',
            ),
            (
                {"op": "replace", "path": "status", "value": "ACTIVE"},
                '"replace" at status: a path is a JSON pointer, empty or starting with "/".',
            ),
            (
                {"op": "move", "from": "/mixins/gone", "path": "/mixins/b"},
                '"move" from /mixins/gone: the segment has no mixin "gone".',
            ),
        ],
    )
    def test_an_inapplicable_operation_names_its_path_in_words(
        self, client, bare, operation, problem
    ):
        response = patch(
            client, [{"op": "replace", "path": "/status", "value": "ACTIVE"}, operation]
        )
        assert response.status_code == 400
        assert response.json()["message"] == problem
        assert stored().version == 1

    def test_add_under_mixins_creates_the_objects_on_the_way(self, client, tenant):
        make_segment(tenant, "gold", name={"en": "Gold"})
        operations = [
            {
                "op": "add",
                "path": "/mixins/productCustomAttributes/pricingMeasurePrice",
                "value": 15,
            },
            {"op": "add", "path": "/mixins/productCustomAttributes/unit", "value": "kg"},
            {
                "op": "add",
                "path": "/metadata/mixins/productCustomAttributes",
                "value": "https://x/p.json",
            },
        ]
        response = patch(client, operations)
        assert response.status_code == 204, response.json()
        segment = stored()
        assert segment.mixins == {
            "productCustomAttributes": {"pricingMeasurePrice": 15, "unit": "kg"}
        }
        assert segment.metadata_mixins == {"productCustomAttributes": "https://x/p.json"}
        # And now the YAML's example applies.
        replace = {
            "op": "replace",
            "path": "/mixins/productCustomAttributes/pricingMeasurePrice",
            "value": 16,
        }
        assert patch(client, [replace]).status_code == 204
        assert stored().mixins["productCustomAttributes"]["pricingMeasurePrice"] == 16

    @pytest.mark.parametrize(
        ("operation", "problem"),
        [
            (
                {"op": "add", "path": "/mixins/text/a", "value": 1},
                '"add" at /mixins/text/a: /mixins/text is a string, not an object or an array.',
            ),
            (
                {"op": "add", "path": "/description/en/x", "value": 1},
                '"add" at /description/en/x: the segment has no "description".',
            ),
        ],
    )
    def test_add_creates_missing_objects_under_mixins_only(self, client, bare, operation, problem):
        response = patch(client, [operation])
        assert response.status_code == 400
        assert response.json()["message"] == problem

    def test_a_failed_test_names_the_path_and_the_values(self, client, bare):
        response = patch(client, [{"op": "test", "path": "/status", "value": "INACTIVE"}])
        assert response.status_code == 409
        assert response.json()["message"] == (
            "The resource you are attempting to access has changed "
            '("test" at /status: the value is "ACTIVE", not "INACTIVE").'
        )

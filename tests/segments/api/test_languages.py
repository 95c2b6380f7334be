"""Localized segment fields through HTTP: Content-Language on writes, Accept-Language on reads."""

from __future__ import annotations

import pytest

from segments.models import Segment
from tests.conftest import MANAGE, READ
from tests.factories import make_segment

URL = "/customer-segment/acme/segments"


@pytest.fixture
def client(tenant, make_client):
    """A client that may write and read (tenant acme: en default, de and fr allowed)."""
    return make_client(tenant, MANAGE, READ)


def create(client, body, **headers):
    return client.post(URL, {"siteCode": "main", **body}, format="json", **headers)


def stored(segment_id="s") -> Segment:
    return Segment.objects.get(external_id=segment_id)


@pytest.mark.django_db
class TestWrites:
    def test_plain_strings_are_stored_in_the_content_language(self, client):
        response = create(
            client,
            {"id": "s", "name": "Gold", "description": "Die Besten"},
            HTTP_CONTENT_LANGUAGE="de",
        )
        assert response.status_code == 201
        assert (stored().name, stored().description) == ({"de": "Gold"}, {"de": "Die Besten"})

    def test_plain_strings_without_the_header_go_to_the_default_language(self, client):
        create(client, {"id": "s", "name": "Gold"})
        assert stored().name == {"en": "Gold"}

    @pytest.mark.parametrize("header", [{}, {"HTTP_CONTENT_LANGUAGE": "*"}])
    def test_maps_are_stored_as_given(self, client, header):
        name = {"en": "Gold", "de": "Gold", "fr": "Or"}
        assert create(client, {"id": "s", "name": name}, **header).status_code == 201
        assert stored().name == name

    def test_a_language_the_tenant_does_not_allow_is_400(self, client):
        response = create(client, {"id": "s", "name": "Oro"}, HTTP_CONTENT_LANGUAGE="it")
        assert response.status_code == 400
        assert response.json()["message"] == (
            "name: language(s) it not allowed for this tenant; allowed: en, de, fr."
        )
        response = create(client, {"id": "s", "name": {"en": "Gold", "it": "Oro"}})
        assert response.status_code == 400
        assert not Segment.objects.exists()

    def test_several_content_languages_are_400(self, client):
        response = create(client, {"id": "s", "name": "Gold"}, HTTP_CONTENT_LANGUAGE="de, en")
        assert response.status_code == 400
        assert "Content-Language" in response.json()["message"]

    def test_a_put_in_one_language_keeps_the_other_translations(self, client, tenant):
        make_segment(tenant, "s", name={"en": "Gold", "de": "Gold"}, description={"en": "Best"})
        response = client.put(
            f"{URL}/s",
            {"name": "Or", "description": "Les meilleurs", "siteCode": "main"},
            format="json",
            HTTP_CONTENT_LANGUAGE="fr",
        )
        assert response.status_code == 204
        assert stored().name == {"en": "Gold", "de": "Gold", "fr": "Or"}
        assert stored().description == {"en": "Best", "fr": "Les meilleurs"}

    def test_a_put_with_maps_replaces_the_translations(self, client, tenant):
        make_segment(tenant, "s", name={"en": "Gold", "de": "Gold"})
        client.put(f"{URL}/s", {"name": {"fr": "Or"}, "siteCode": "main"}, format="json")
        assert stored().name == {"fr": "Or"}


@pytest.mark.django_db
class TestReads:
    @pytest.fixture(autouse=True)
    def segment(self, tenant):
        return make_segment(
            tenant,
            "s",
            name={"en": "Gold", "de": "Gold DE", "fr": "Or"},
            description={"en": "Best", "de": "Die Besten"},
        )

    @pytest.mark.parametrize("header", [None, "*", ""])
    def test_without_a_preference_fields_are_maps(self, client, header):
        headers = {} if header is None else {"HTTP_ACCEPT_LANGUAGE": header}
        body = client.get(f"{URL}/s", **headers).json()
        assert body["name"] == {"en": "Gold", "de": "Gold DE", "fr": "Or"}
        assert body["description"] == {"en": "Best", "de": "Die Besten"}

    @pytest.mark.parametrize(
        ("header", "name", "description"),
        [
            ("de", "Gold DE", "Die Besten"),
            ("fr-CH, fr;q=0.9, en;q=0.8", "Or", "Best"),
            ("fr-CH, de;q=0.9, en;q=0.8", "Or", "Die Besten"),
            ("en;q=0.5, de;q=0.9", "Gold DE", "Die Besten"),
            ("it", "Gold", "Best"),
            ("DE", "Gold DE", "Die Besten"),
        ],
    )
    def test_a_preference_list_gives_the_best_available_text(
        self, client, header, name, description
    ):
        body = client.get(f"{URL}/s", HTTP_ACCEPT_LANGUAGE=header).json()
        assert (body["name"], body["description"]) == (name, description)

    def test_lists_follow_accept_language_too(self, client):
        body = client.get(URL, HTTP_ACCEPT_LANGUAGE="fr").json()
        assert [(s["id"], s["name"], s["description"]) for s in body] == [("s", "Or", "Best")]

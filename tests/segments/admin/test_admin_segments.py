"""The segment admin: list, filters, search, actions, exports and the form, through the test client."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from segments.choices import EventType, SegmentStatus
from segments.models import CustomerAssignment, Event, ItemAssignment, Segment
from tenants.services import tenant_create
from tests.conftest import READ
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

LIST = "/admin/segments/segment/"
ADD = "/admin/segments/segment/add/"


def change_url(segment: Segment) -> str:
    return f"/admin/segments/segment/{segment.pk}/change/"


def listed_ids(response) -> list[str]:
    return [row.external_id for row in response.context["cl"].result_list]


def only_message(response) -> str:
    [message] = list(response.wsgi_request._messages)
    return str(message)


def action(client, name: str, *segments: Segment, **extra):
    data = {"action": name, "_selected_action": [s.pk for s in segments], **extra}
    return client.post(LIST, data)


@pytest.mark.django_db
class TestList:
    def test_shows_name_in_the_tenants_default_language_and_counts(self, su_client, tenant):
        german = tenant_create(name="berlin", default_language="de", languages=["de", "en"])
        gold = make_segment(tenant, "gold", name={"de": "Gold DE", "en": "Gold EN"})
        make_segment(german, "gruen", name={"en": "Green", "de": "Grün"})
        for _ in range(3):
            assign_customer(gold, make_customer(tenant))
        assign_product(gold, make_product(tenant))
        assign_category(gold, make_category(tenant))

        response = su_client.get(LIST)

        assert response.status_code == 200
        html = response.content.decode()
        assert "Gold EN" in html and "Gold DE" not in html
        assert "Grün" in html and "Green" not in html
        gold_row = next(r for r in response.context["cl"].result_list if r.pk == gold.pk)
        assert (gold_row.customer_count, gold_row.item_count) == (3, 2)
        assert f'/segment/{gold.pk}/members/">3</a>' in html
        assert f'/segment/{gold.pk}/items/">2</a>' in html

    def test_effective_and_validity_columns(self, su_client, tenant):
        now = timezone.now()
        make_segment(tenant, "now")
        make_segment(tenant, "later", valid_from=now + timedelta(days=2))
        make_segment(tenant, "off", status=SegmentStatus.INACTIVE)

        response = su_client.get(LIST)

        effective = {r.external_id: r.effective_now for r in response.context["cl"].result_list}
        assert effective == {"later": False, "now": True, "off": False}
        assert f"{(now + timedelta(days=2)):%Y-%m-%d} \u2013 …" in response.content.decode()

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("status__exact=ACTIVE", ["later", "now"]),
            ("status__exact=INACTIVE", ["off", "other"]),
            ("site=b2b", ["later"]),
            ("effective=yes", ["now"]),
            ("effective=no", ["later", "off", "other"]),
            ("tenant=acme", ["later", "now", "off"]),
            ("tenant=globex", ["other"]),
        ],
    )
    def test_filters(self, su_client, tenant, other_tenant, query, expected):
        make_segment(tenant, "now")
        make_segment(tenant, "later", site_code="b2b", valid_from=timezone.now() + timedelta(1))
        make_segment(tenant, "off", status=SegmentStatus.INACTIVE)
        make_segment(other_tenant, "other", status=SegmentStatus.INACTIVE, site_code="x")

        response = su_client.get(f"{LIST}?{query}")

        assert sorted(listed_ids(response)) == expected

    def test_site_filter_offers_the_sites_in_use(self, su_client, tenant):
        make_segment(tenant, site_code="main")
        make_segment(tenant, site_code="b2b")

        response = su_client.get(LIST)

        site_filter = next(f for f in response.context["cl"].filter_specs if f.title == "site")
        assert [value for value, _ in site_filter.lookup_choices] == ["b2b", "main"]

    @pytest.mark.parametrize(
        ("term", "expected"),
        [
            ("gold", ["gold-2024"]),
            ("Golden", ["gold-2024"]),
            ("Goldene", ["gold-2024"]),
            ("Silber", ["silver"]),
            ("2024", ["gold-2024"]),
            ("nothing", []),
        ],
    )
    def test_search_by_id_and_by_name_in_any_language(self, su_client, tenant, term, expected):
        make_segment(tenant, "gold-2024", name={"en": "Golden", "de": "Goldene Kunden"})
        make_segment(tenant, "silver", name={"en": "Silver", "de": "Silberkunden"})

        response = su_client.get(LIST, {"q": term})

        assert listed_ids(response) == expected


@pytest.mark.django_db
class TestStatusActions:
    def test_deactivate_goes_through_the_service(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        already = make_segment(tenant, "already", status=SegmentStatus.INACTIVE)

        response = action(su_client, "deactivate", gold, already)

        assert response.status_code == 302
        gold.refresh_from_db()
        already.refresh_from_db()
        assert (gold.status, gold.version) == (SegmentStatus.INACTIVE, 2)
        assert already.version == 1  # unchanged: it was inactive already
        events = Event.objects.filter(tenant=tenant, type=EventType.SEGMENT_UPDATED)
        assert [e.resource_id for e in events] == ["gold"]
        message = only_message(response)
        assert message == (
            f'1 segment(s) set to inactive (of "{already.name["en"]}" (already), '
            f'"{gold.name["en"]}" (gold)).'
        )

    def test_activate(self, su_client, tenant):
        off = make_segment(tenant, "off", status=SegmentStatus.INACTIVE)

        action(su_client, "activate", off)

        off.refresh_from_db()
        assert off.status == SegmentStatus.ACTIVE


@pytest.mark.django_db
class TestForceDelete:
    def test_asks_first_naming_how_many_assignments_go(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        silver = make_segment(tenant, "silver")
        for segment in (gold, silver):
            assign_customer(segment, make_customer(tenant))
        assign_product(gold, make_product(tenant))

        response = action(su_client, "force_delete", gold, silver)

        assert response.status_code == 200
        html = response.content.decode()
        assert "together with <strong>2</strong> customer assignments" in html
        assert "and <strong>1</strong> item assignment." in html
        assert Segment.objects.count() == 2

    def test_confirmed_deletes_segments_and_assignments(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        keep = make_segment(tenant, "keep")
        assign_customer(gold, make_customer(tenant))
        assign_category(gold, make_category(tenant))
        assign_customer(keep, make_customer(tenant))

        response = action(su_client, "force_delete", gold, post="yes")

        assert response.status_code == 302
        assert list(Segment.objects.values_list("external_id", flat=True)) == ["keep"]
        assert CustomerAssignment.objects.count() == 1
        assert ItemAssignment.objects.count() == 0
        assert Event.objects.filter(type=EventType.SEGMENT_DELETED, resource_id="gold").exists()

    def test_plain_delete_action_is_not_offered(self, su_client, tenant):
        make_segment(tenant)

        response = su_client.get(LIST)

        choices = [name for name, _ in response.context["action_form"].fields["action"].choices]
        assert "delete_selected" not in choices
        assert {"activate", "deactivate", "force_delete", "export_json", "export_csv"} <= set(
            choices
        )

    def test_single_delete_page_summarizes_and_force_deletes(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        for _ in range(3):
            assign_customer(gold, make_customer(tenant))

        page = su_client.get(f"/admin/segments/segment/{gold.pk}/delete/")
        response = su_client.post(f"/admin/segments/segment/{gold.pk}/delete/", {"post": "yes"})

        assert page.status_code == 200
        assert dict(page.context["model_count"]) == {
            "segments": 1,
            "customer assignments": 3,
            "item assignments": 0,
        }
        assert response.status_code == 302
        assert not Segment.objects.exists() and not CustomerAssignment.objects.exists()


@pytest.mark.django_db
class TestExports:
    def test_json_is_the_export_document_in_the_apis_shapes(self, su_client, tenant):
        gold = make_segment(tenant, "gold", name={"en": "Gold", "de": "Gold"})
        customer = make_customer(tenant, "c1")
        assign_customer(gold, customer)
        assign_product(gold, make_product(tenant, "p1"))
        make_segment(tenant, "unselected")

        response = action(su_client, "export_json", gold)

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="segments-acme-')
        document = json.loads(b"".join(response.streaming_content))
        assert document["tenant"] == "acme"
        [record] = document["segments"]
        assert_matches(record["segment"], "SegmentResponse")
        assert record["segment"]["id"] == "gold"
        assert [c["customer"]["id"] for c in record["customers"]] == ["c1"]
        assert [i["item"]["id"] for i in record["items"]] == ["p1"]

    def test_json_refuses_a_selection_across_tenants(self, su_client, tenant, other_tenant):
        a, b = make_segment(tenant), make_segment(other_tenant)

        response = action(su_client, "export_json", a, b)

        assert response.status_code == 302
        message = only_message(response)
        assert message == "Export one tenant at a time: filter the list by tenant first."

    def test_csv_has_one_row_per_segment_with_texts_per_language(self, su_client, tenant):
        gold = make_segment(tenant, "gold", name={"en": "Gold", "de": "Gold DE"})
        assign_customer(gold, make_customer(tenant))

        response = action(su_client, "export_csv", gold)

        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert len(rows) == 1
        row = rows[0]
        assert (row["id"], row["name.en"], row["name.de"], row["name.fr"]) == (
            "gold",
            "Gold",
            "Gold DE",
            "",
        )
        assert (row["status"], row["customers"], row["items"], row["version"]) == (
            "ACTIVE",
            "1",
            "0",
            "1",
        )


def form_data(**overrides) -> dict:
    data = {
        "external_id": "",
        "site_code": "main",
        "status": "ACTIVE",
        "name_en": "Gold customers",
        "name_de": "Goldkunden",
        "name_fr": "",
        "description_en": "",
        "description_de": "",
        "description_fr": "",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_to_0": "",
        "valid_to_1": "",
        "mixins": "",
        "metadata_mixins": "",
        "version": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
class TestAddForm:
    def test_asks_for_the_tenant_when_the_user_has_several(self, su_client, tenant, other_tenant):
        response = su_client.get(ADD)

        assert response.status_code == 200
        assert response.templates[0].name == "admin/tenants/choose_tenant.html"
        html = response.content.decode()
        assert 'href="?tenant=acme"' in html and 'href="?tenant=globex"' in html

    def test_offers_name_and_description_per_allowed_language(self, su_client, tenant):
        response = su_client.get(ADD, {"tenant": "acme"})

        form = response.context["adminform"].form
        localized = [name for name in form.fields if name.startswith(("name_", "description_"))]
        assert localized == [
            "name_en",
            "name_de",
            "name_fr",
            "description_en",
            "description_de",
            "description_fr",
        ]
        assert "Tenant <strong>acme</strong>" in response.content.decode()

    def test_creates_through_the_service_like_the_api(self, su_client, tenant, make_client):
        response = su_client.post(
            f"{ADD}?tenant=acme",
            form_data(
                external_id="gold",
                description_en="Best",
                valid_from_0="2024-01-01",
                valid_from_1="08:00:00",
                mixins='{"tier": {"level": 3}}',
                metadata_mixins='{"tier": "https://example.com/tier.json"}',
            ),
        )

        assert response.status_code == 302, response.context["adminform"].form.errors
        assert Event.objects.filter(type=EventType.SEGMENT_CREATED, resource_id="gold").exists()
        body = make_client(tenant, READ).get("/customer-segment/acme/segments/gold").json()
        assert body["name"] == {"en": "Gold customers", "de": "Goldkunden"}
        assert body["description"] == {"en": "Best"}
        assert body["validity"] == {"from": "2024-01-01T08:00:00.000Z"}
        assert body["mixins"] == {"tier": {"level": 3}}
        assert body["metadata"]["version"] == 1
        assert body["metadata"]["mixins"] == {"tier": "https://example.com/tier.json"}

    def test_generates_an_id_when_none_is_given(self, su_client, tenant):
        su_client.post(f"{ADD}?tenant=acme", form_data())

        segment = Segment.objects.get()
        assert len(segment.external_id) == 24
        assert segment.tenant_id == "acme"

    def test_posted_tenant_is_ignored(self, su_client, tenant, other_tenant):
        su_client.post(f"{ADD}?tenant=acme", form_data(tenant="globex"))

        assert Segment.objects.get().tenant_id == "acme"

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            (
                {"name_en": "", "name_de": ""},
                "name_en",
                "Name is required in at least one language.",
            ),
            (
                {
                    "valid_from_0": "2025-01-01",
                    "valid_from_1": "00:00",
                    "valid_to_0": "2024-01-01",
                    "valid_to_1": "00:00",
                },
                "valid_to",
                "The end of validity must come after its start.",
            ),
            ({"mixins": "[1, 2]"}, "mixins", 'Enter a JSON object, like {"key": "value"}.'),
            ({"mixins": "{nope"}, "mixins", "Enter a valid JSON."),
            ({"site_code": ""}, "site_code", "This field is required."),
            # The service's rules (segment_problems), on the field they concern.
            (
                {"external_id": "a/b"},
                "external_id",
                "'a/b' must not contain whitespace, control characters, /, ?, #, % or \\.",
            ),
        ],
    )
    def test_invalid_input_is_shown_on_the_form(self, su_client, tenant, overrides, field, message):
        response = su_client.post(f"{ADD}?tenant=acme", form_data(**overrides))

        assert response.status_code == 200
        assert response.context["adminform"].form.errors[field] == [message]
        assert not Segment.objects.exists()

    def test_service_refusals_are_form_errors(self, su_client, tenant):
        make_segment(tenant, "gold")

        taken = su_client.post(f"{ADD}?tenant=acme", form_data(external_id="gold"))
        reserved = su_client.post(f"{ADD}?tenant=acme", form_data(external_id="search"))

        assert taken.context["adminform"].form.non_field_errors() == [
            "The resource already exists."
        ]
        assert reserved.context["adminform"].form.errors["external_id"] == [
            "'search' is reserved: /segments/search is another operation."
        ]
        assert Segment.objects.count() == 1


@pytest.mark.django_db
class TestChangeForm:
    def test_shows_stored_texts_and_assignment_links(self, su_client, tenant):
        gold = make_segment(tenant, "gold", name={"en": "Gold", "fr": "Or"})
        assign_customer(gold, make_customer(tenant))
        assign_product(gold, make_product(tenant))

        response = su_client.get(change_url(gold))

        form = response.context["adminform"].form
        assert (form["name_en"].value(), form["name_de"].value(), form["name_fr"].value()) == (
            "Gold",
            "",
            "Or",
        )
        assert form["version"].value() == 1
        html = response.content.decode()
        assert "<strong>1</strong> customer &middot;" in html
        assert f'/admin/segments/customerassignment/add/?segment={gold.pk}"' in html
        assert f'/admin/segments/itemassignment/add/?segment={gold.pk}&amp;type=CATEGORY"' in html

    def test_saves_a_new_version_through_upsert(self, su_client, tenant):
        gold = make_segment(tenant, "gold", name={"en": "Gold"}, mixins={"a": 1})
        before = gold.modified_at

        response = su_client.post(
            change_url(gold),
            form_data(name_en="Gold 2", name_de="", version="1", mixins='{"a": 2}'),
        )

        assert response.status_code == 302
        gold.refresh_from_db()
        assert (gold.name, gold.version, gold.mixins) == ({"en": "Gold 2"}, 2, {"a": 2})
        assert gold.modified_at > before
        assert gold.external_id == "gold"
        assert Event.objects.filter(type=EventType.SEGMENT_UPDATED, resource_id="gold").exists()

    def test_a_stale_version_is_refused_and_nothing_is_written(self, su_client, tenant):
        gold = make_segment(tenant, "gold", name={"en": "Gold"}, version=3)

        response = su_client.post(change_url(gold), form_data(name_en="Mine", version="2"))

        assert response.status_code == 200
        assert (
            "Someone else saved &quot;Gold&quot; (gold) while you were editing it (it is now at version 3)"
            in str(response.context["adminform"].form.non_field_errors())
        )
        gold.refresh_from_db()
        assert (gold.name, gold.version) == ({"en": "Gold"}, 3)

    def test_the_id_cannot_be_changed(self, su_client, tenant):
        gold = make_segment(tenant, "gold")

        su_client.post(change_url(gold), form_data(external_id="silver", version="1"))

        assert list(Segment.objects.values_list("external_id", flat=True)) == ["gold"]

    def test_texts_in_languages_the_tenant_no_longer_allows_are_shown_until_cleared(
        self, su_client, tenant
    ):
        gold = make_segment(tenant, "gold", name={"en": "Gold", "it": "Oro"})

        page = su_client.get(change_url(gold))
        kept = su_client.post(change_url(gold), form_data(name_it="Oro", version="1"))
        cleared = su_client.post(change_url(gold), form_data(name_it="", version="1"))

        assert page.context["adminform"].form["name_it"].value() == "Oro"
        assert "not allowed for this tenant" in str(
            kept.context["adminform"].form.non_field_errors()
        )
        assert cleared.status_code == 302
        gold.refresh_from_db()
        assert gold.name == {"en": "Gold customers", "de": "Goldkunden"}


@pytest.mark.django_db
def test_a_segment_with_100000_customers_opens_in_under_a_second(su_client, tenant):
    segment = make_segment(tenant, "huge")
    insert_customers_and_assignments(segment, 100_000)
    assert CustomerAssignment.objects.filter(segment=segment).count() == 100_000

    su_client.get(change_url(segment))  # warm up templates and caches
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = su_client.get(change_url(segment))
        elapsed = time.perf_counter() - started

    print(f"segment form with 100,000 customers: {elapsed * 1000:.0f} ms, {len(queries)} queries")
    assert response.status_code == 200
    assert "<strong>100,000</strong> customers" in response.content.decode()
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert len(queries) <= 12


def insert_customers_and_assignments(segment: Segment, count: int) -> None:
    """Insert `count` customers and their assignments to `segment` with two statements."""
    numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
    with connection.cursor() as cursor:
        cursor.execute(
            numbers + "INSERT INTO segments_customer "
            "(tenant_id, external_id, first_name, last_name, email, attributes) "
            "SELECT %s, 'bulk' || i, 'First', 'Last', '', '{}' FROM n",
            [count, segment.tenant_id],
        )
        cursor.execute(
            "INSERT INTO segments_customerassignment (tenant_id, segment_id, customer_id, "
            "assignment_type, mixins, metadata_mixins, version, created_at, modified_at) "
            "SELECT tenant_id, %s, id, 'MANUAL', '{}', '{}', 1, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP FROM segments_customer WHERE tenant_id = %s",
            [segment.pk, segment.tenant_id],
        )

"""Reads compiled once per shape and run with each request's values: a customer's page of a
list, one segment by its id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from segments.api.views import compiled as compiled_reads
from tenants.services import tenant_create
from tests.conftest import READ, READ_OWN
from tests.factories import (
    assign_customer,
    assign_product,
    make_customer,
    make_legal_entity,
    make_product,
    make_segment,
)

URL = "/customer-segment/acme/segments"


@pytest.fixture
def compiled(monkeypatch, settings):
    """The shapes compiled during the test, from an empty store, without the verification
    (which compiles every page afresh)."""
    settings.COMPILED_READS_VERIFY = False
    monkeypatch.setattr(compiled_reads, "_compiled", {})
    monkeypatch.setattr(compiled_reads, "_seen", {})
    calls = []
    compile_read = compiled_reads._compile
    monkeypatch.setattr(
        compiled_reads,
        "_compile",
        lambda view, *args: calls.append(view.action) or compile_read(view, *args),
    )
    return calls


@pytest.fixture
def shop(tenant):
    """Three customers: ann in gold and silver, bob in bronze, cy in gold for a legal entity."""
    now = timezone.now()
    segments = {
        name: make_segment(tenant, name, name={"en": name.title()})
        for name in ("gold", "silver", "bronze")
    }
    segments["old"] = make_segment(tenant, "old", valid_to=now - timedelta(days=1))
    for name, segment in segments.items():
        assign_product(segment, make_product(tenant, f"p-{name}"))
    acme_corp = make_legal_entity(tenant, "corp")
    ann, bob = make_customer(tenant, "ann"), make_customer(tenant, "bob")
    cy = make_customer(tenant, "cy", legal_entities=[acme_corp])
    for customer, names in ((ann, ["gold", "silver", "old"]), (bob, ["bronze", "old"])):
        for name in names:
            assign_customer(segments[name], customer)
    assign_customer(segments["gold"], cy, legal_entity=acme_corp)
    return segments


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()]


def items(response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.content
    return [(row["segmentId"], row["item"]["id"]) for row in response.json()]


@pytest.mark.django_db
class TestOneShapeManyCustomers:
    def test_each_customer_reads_its_own_rows_through_one_compiled_page(
        self, shop, make_client, compiled
    ):
        ann = make_client("acme", READ_OWN, customer="ann")
        bob = make_client("acme", READ_OWN, customer="bob")
        assert items(ann.get(f"{URL}/items")) == [("gold", "p-gold"), ("silver", "p-silver")]
        assert items(bob.get(f"{URL}/items")) == [("bronze", "p-bronze")]
        # bob has one segment, ann two: a shape each; a second ann-like customer none.
        assert compiled == ["list", "list"]
        assert ids(ann.get(URL)) == ["gold", "silver"]
        assert ids(ann.get(URL)) == ["gold", "silver"]
        assert ids(make_client("acme", READ_OWN, customer="bob").get(URL)) == ["bronze"]
        assert compiled == ["list", "list", "list", "list"]

    def test_another_tenant_of_the_same_shape_reads_its_own_rows(self, shop, make_client, compiled):
        # The same languages as acme's: the languages are part of the shape.
        other = tenant_create(name="initech", default_language="en", languages=["en", "de", "fr"])
        theirs = make_segment(other, "theirs")
        assign_product(theirs, make_product(other, "p-theirs"))
        assign_customer(theirs, make_customer(other, "bob"))
        assert items(make_client("acme", READ_OWN, customer="bob").get(f"{URL}/items")) == [
            ("bronze", "p-bronze")
        ]
        bob = make_client("initech", READ_OWN, customer="bob")
        assert items(bob.get("/customer-segment/initech/segments/items")) == [
            ("theirs", "p-theirs")
        ]
        assert compiled == ["list"]

    def test_a_legal_entity_is_a_shape_of_its_own(self, shop, make_client, compiled):
        cy = make_client("acme", READ_OWN, customer="cy", legal_entity="corp")
        assert ids(cy.get(URL)) == ["gold"]
        assert ids(make_client("acme", READ_OWN, customer="bob").get(URL)) == ["bronze"]
        assert compiled == ["list", "list"]

    def test_paging_and_sorting_are_part_of_the_shape(self, shop, make_client, compiled):
        ann = make_client("acme", READ_OWN, customer="ann")
        assert ids(ann.get(URL, {"sort": "id:DESC"})) == ["silver", "gold"]
        assert ids(ann.get(URL, {"pageSize": 1, "pageNumber": 2})) == ["silver"]
        assert ids(ann.get(URL, {"pageSize": 1})) == ["gold"]
        assert ids(ann.get(URL)) == ["gold", "silver"]
        assert len(compiled) == 4


@pytest.mark.django_db
class TestBuiltTheUsualWay:
    def test_a_page_whose_sql_holds_the_time_is_never_compiled(self, shop, make_client, compiled):
        ann = make_client("acme", READ_OWN, customer="ann")
        for _ in range(2):
            response = ann.get(f"{URL}/items", {"onlyActive": "true"})
            assert items(response) == [("gold", "p-gold"), ("silver", "p-silver")]
        assert compiled_reads.REFUSED in compiled_reads._compiled.values()
        assert compiled == ["list"]  # refused once, then built the usual way each time

    def test_a_counted_page_is_built_the_usual_way(self, shop, read_client, make_client, compiled):
        counted = make_client("acme", READ_OWN, customer="ann").get(URL, HTTP_X_TOTAL_COUNT="true")
        assert (ids(counted), counted["X-Total-Count"]) == (["gold", "silver"], "2")
        by_id = read_client.get(URL, {"customerId": "ann"}, HTTP_X_TOTAL_COUNT="true")
        assert (ids(by_id), by_id["X-Total-Count"]) == (["gold", "old", "silver"], "3")
        assert compiled == []

    def test_a_customer_without_segments_reads_nothing(self, shop, make_client, compiled):
        assert ids(make_client("acme", READ_OWN, customer="nobody").get(URL)) == []
        assert compiled == ["list"]


@pytest.mark.django_db
class TestAReadersList:
    """A reader's list (its shape holds the query string) is compiled on its second request."""

    def test_the_second_request_of_a_shape_compiles_it_and_the_third_runs_it(
        self, shop, read_client, compiled
    ):
        for _ in range(3):
            assert ids(read_client.get(URL, {"q": "id:gold"})) == ["gold"]
        assert compiled == ["list"]
        assert ids(read_client.get(URL, {"q": "id:silver"})) == ["silver"]
        assert compiled == ["list"]
        assert ids(read_client.get(URL, {"q": "id:silver"})) == ["silver"]
        assert ids(read_client.get(URL)) == ["bronze", "gold", "old", "silver"]
        assert compiled == ["list", "list"]

    def test_another_tenant_reads_its_own_rows_through_the_same_shape(
        self, shop, read_client, make_client, compiled
    ):
        other = tenant_create(name="initech", default_language="en", languages=["en", "de", "fr"])
        make_segment(other, "gold")
        theirs = make_client("initech", READ)
        for _ in range(2):
            assert ids(read_client.get(URL)) == ["bronze", "gold", "old", "silver"]
        assert ids(theirs.get("/customer-segment/initech/segments")) == ["gold"]
        assert compiled == ["list"]


@pytest.mark.django_db
class TestAReaderAboutACustomer:
    """`?customerId=`: the customer's segment ids are read first and are the read's values;
    the customer's id and legal entity are not part of its shape."""

    def test_customers_with_as_many_segments_share_one_compiled_page(
        self, shop, read_client, tenant, compiled
    ):
        assert ids(read_client.get(URL, {"customerId": "ann"})) == ["gold", "old", "silver"]
        assert ids(read_client.get(URL, {"customerId": "bob"})) == ["bronze", "old"]
        # dee has as many segments as ann: ann's shape, not a new one.
        dee = make_customer(tenant, "dee")
        for name in ("bronze", "silver", "gold"):
            assign_customer(shop[name], dee)
        assert ids(read_client.get(URL, {"customerId": "dee"})) == ["bronze", "gold", "silver"]
        assert ids(read_client.get(URL, {"customerId": "ann"})) == ["gold", "old", "silver"]
        assert compiled == ["list", "list"]

    def test_a_legal_entity_and_another_query_read_their_own_rows(
        self, shop, read_client, compiled
    ):
        by_entity = {"customerId": "cy", "legalEntityId": "corp"}
        assert ids(read_client.get(URL, by_entity)) == ["gold"]
        assert ids(read_client.get(URL, {"customerId": "cy"})) == ["gold"]
        assert ids(read_client.get(URL, {"customerId": "bob", "sort": "id:DESC"})) == [
            "old",
            "bronze",
        ]
        assert ids(read_client.get(URL, {"customerId": "bob", "q": "id:old"})) == ["old"]

    def test_a_bad_customer_id_is_the_same_400(self, shop, read_client, compiled):
        response = read_client.get(URL, {"customerId": " "})
        assert (response.status_code, response.json()["message"]) == (
            400,
            "customerId must not be empty.",
        )
        assert compiled == []


@pytest.mark.django_db
class TestOneSegment:
    def test_every_segment_and_tenant_through_one_compiled_read(
        self, shop, read_client, make_client, compiled
    ):
        for segment_id in ("gold", "silver", "old"):
            response = read_client.get(f"{URL}/{segment_id}")
            assert (response.status_code, response.json()["id"]) == (200, segment_id)
        other = tenant_create(name="initech", default_language="en", languages=["en", "de", "fr"])
        make_segment(other, "theirs")
        reader = make_client("initech", READ)
        assert reader.get("/customer-segment/initech/segments/theirs").json()["id"] == "theirs"
        assert reader.get("/customer-segment/initech/segments/gold").status_code == 404
        assert compiled == ["retrieve"]

    def test_a_missing_segment_is_the_same_404(self, shop, read_client, compiled):
        response = read_client.get(f"{URL}/nope")
        assert (response.status_code, response.json()) == (
            404,
            {
                "code": 404,
                "status": "Not Found",
                "message": "The segment with id nope has not been found.",
                "resourceId": "nope",
            },
        )

    def test_a_customer_sees_only_its_own_effective_segments(self, shop, make_client, compiled):
        ann = make_client("acme", READ_OWN, customer="ann")
        bob = make_client("acme", READ_OWN, customer="bob")
        assert ann.get(f"{URL}/gold").status_code == 200
        assert ann.get(f"{URL}/old").status_code == 404  # assigned, but expired
        assert ann.get(f"{URL}/bronze").status_code == 404
        assert bob.get(f"{URL}/bronze").status_code == 200
        assert bob.get(f"{URL}/gold").status_code == 404
        assert compiled == ["retrieve", "retrieve"]  # two segments for ann, one for bob

    def test_a_reader_s_filters_are_part_of_the_shape(self, shop, read_client, compiled):
        assert read_client.get(f"{URL}/gold", {"customerId": "ann"}).status_code == 200
        assert read_client.get(f"{URL}/gold", {"customerId": "bob"}).status_code == 404
        assert read_client.get(f"{URL}/gold").status_code == 200


@pytest.mark.django_db
def test_verification_fails_a_read_whose_shape_misses_a_value(shop, make_client, monkeypatch):
    """With the shape blind to the query string, `siteCode` would reach the SQL unseen."""
    monkeypatch.setattr(compiled_reads, "_compiled", {})
    shape = compiled_reads._shape
    monkeypatch.setattr(
        compiled_reads,
        "_shape",
        lambda view, build: shape(view, build)[:3] + shape(view, build)[4:],
    )
    make_segment(shop["gold"].tenant, "de-gold", site_code="de")
    ann = make_client("acme", READ_OWN, customer="ann")
    assert items(ann.get(f"{URL}/items", {"siteCode": "main"})) == [
        ("gold", "p-gold"),
        ("silver", "p-silver"),
    ]
    with pytest.raises(ImproperlyConfigured, match="is not this request's"):
        ann.get(f"{URL}/items", {"siteCode": "de"})

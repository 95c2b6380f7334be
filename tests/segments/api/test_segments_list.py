"""GET /segments and POST /segments/search: q, paging, sort, fields, counts, who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from segments.models import Customer, Segment
from tests.conftest import MANAGE, READ_OWN
from tests.factories import assign_customer, make_customer, make_legal_entity, make_segment
from tests.querycounts import assert_same_queries
from tests.schema import assert_matches

URL = "/customer-segment/acme/segments"
SEARCH = f"{URL}/search"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [segment["id"] for segment in response.json()]


@pytest.fixture
def catalogue(tenant):
    """Five segments with names, statuses, sites, validities and mixins to filter on."""
    t = datetime(2024, 5, 18, 7, 27, 27, 455000, tzinfo=UTC)
    rows = [
        ("gold", {"en": "Golden Segment", "de": "Goldsegment"}, "ACTIVE", "main", 3, t, {"tier": {"level": 3}, "vip": True}),
        ("silver", {"en": "Silver Segment"}, "ACTIVE", "main", 1, t + timedelta(days=1), {"tier": {"level": 2}}),
        ("bronze", {"en": "Bronze"}, "INACTIVE", "main", 2, t + timedelta(days=2), {"tier": {"level": "1"}}),
        ("outlet", {"en": "Outlet deals"}, "ACTIVE", "outlet", 1, t + timedelta(days=3), {}),
        ("b b", {"en": "Spaced"}, "INACTIVE", "main", 5, t + timedelta(days=4), {"note": None}),
    ]  # fmt: skip
    for external_id, name, status, site, version, created, mixins in rows:
        make_segment(
            tenant,
            external_id,
            name=name,
            status=status,
            site_code=site,
            version=version,
            created_at=created,
            modified_at=created,
            mixins=mixins,
        )


@pytest.mark.django_db
class TestPlainList:
    def test_lists_in_id_order_matching_the_schema(self, read_client, catalogue):
        response = read_client.get(URL)
        assert ids(response) == ["b b", "bronze", "gold", "outlet", "silver"]
        assert_matches(response.json(), "SegmentResponse", array=True)
        assert "X-Total-Count" not in response

    def test_an_empty_tenant_lists_nothing(self, read_client):
        assert read_client.get(URL).json() == []

    def test_pages(self, read_client, catalogue):
        params = {"pageSize": 2, "pageNumber": 2}
        assert ids(read_client.get(URL, params)) == ["gold", "outlet"]
        assert ids(read_client.get(URL, {"pageSize": 2, "pageNumber": 4})) == []

    def test_the_default_page_size_is_60(self, read_client, tenant):
        for n in range(61):
            make_segment(tenant, f"s{n:02d}")
        assert len(read_client.get(URL).json()) == 60

    @pytest.mark.parametrize(
        "params",
        [
            {"pageSize": 0},
            {"pageSize": 1001},
            {"pageSize": "ten"},
            {"pageNumber": 0},
            {"pageNumber": "-1"},
        ],
    )
    def test_bad_paging_is_400_naming_the_parameter(self, read_client, params):
        response = read_client.get(URL, params)
        assert response.status_code == 400
        assert next(iter(params)) in response.json()["message"]

    def test_bad_page_size_and_number_are_one_400_naming_both(self, read_client):
        response = read_client.get(URL, {"pageSize": "string", "pageNumber": "string"})

        assert response.status_code == 400
        assert response.json() == {
            "code": 400,
            "status": "Bad Request",
            "message": "pageSize must be a whole number, not 'string'. "
            "pageNumber must be a whole number, not 'string'.",
        }

    def test_total_count_on_request(self, read_client, catalogue):
        response = read_client.get(URL, {"pageSize": 2}, HTTP_X_TOTAL_COUNT="true")
        assert response["X-Total-Count"] == "5"
        assert len(response.json()) == 2
        response = read_client.get(URL, {"q": "status:ACTIVE"}, HTTP_X_TOTAL_COUNT="true")
        assert response["X-Total-Count"] == "3"

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("name.en:DESC", ["b b", "silver", "outlet", "gold", "bronze"]),
            ("name:asc", ["bronze", "gold", "outlet", "silver", "b b"]),
            ("metadata.version:DESC", ["b b", "gold", "bronze", "outlet", "silver"]),
            ("status,metadata.createdAt:desc", ["outlet", "silver", "gold", "b b", "bronze"]),
            ("siteCode:DESC", ["outlet", "b b", "bronze", "gold", "silver"]),
        ],
    )
    def test_sort_with_ties_broken_by_id(self, read_client, catalogue, sort, expected):
        assert ids(read_client.get(URL, {"sort": sort})) == expected

    def test_sort_on_a_json_path_puts_absent_values_last_in_id_order(self, read_client, catalogue):
        # Mixed JSON types (3, 2, "1") order differently per database; absent ones do not.
        observed = ids(read_client.get(URL, {"sort": "mixins.tier.level"}))
        assert observed[-2:] == ["b b", "outlet"]
        assert observed.index("gold") > observed.index("silver")

    @pytest.mark.parametrize("sort", ["colour", "name.en:SIDEWAYS", ",", "id:"])
    def test_bad_sort_is_400(self, read_client, catalogue, sort):
        response = read_client.get(URL, {"sort": sort})
        assert response.status_code == 400
        assert response.json()["message"].startswith("Invalid query:")

    def test_fields_projects_every_element(self, read_client, catalogue):
        response = read_client.get(URL, {"fields": "id,name.en,metadata.version", "pageSize": 2})
        assert response.json() == [
            {"id": "b b", "name": {"en": "Spaced"}, "metadata": {"version": 5}},
            {"id": "bronze", "name": {"en": "Bronze"}, "metadata": {"version": 2}},
        ]

    def test_another_tenants_segments_are_not_listed(self, read_client, other_tenant, catalogue):
        make_segment(other_tenant, "theirs")
        assert "theirs" not in ids(read_client.get(URL))
        assert ids(read_client.post(SEARCH, {"q": "id:theirs"}, format="json")) == []

    def test_needs_a_read_scope(self, tenant, make_client):
        assert make_client(tenant, MANAGE).get(URL).status_code == 403
        assert make_client(tenant, MANAGE).post(SEARCH, {}, format="json").status_code == 403

    @pytest.mark.parametrize("rows", [1, 100])
    def test_a_fixed_number_of_queries_whatever_the_page_size(self, read_client, tenant, rows):
        for n in range(rows):
            make_segment(tenant, f"s{n:03d}", description={"en": "d"}, mixins={"a": n})
        # The tenant lookup, the page and the count. The page is full either way: a page
        # shorter than its size proves the total without the COUNT (one query fewer).
        page_size = min(rows, 50)
        response = assert_same_queries("segments.list", status=200)(
            lambda: read_client.get(
                URL, {"pageSize": page_size, "q": "siteCode:main"}, HTTP_X_TOTAL_COUNT="true"
            )
        )
        assert len(response.json()) == page_size
        assert response["X-Total-Count"] == str(rows)
        response = assert_same_queries("segments.search", status=200)(
            lambda: read_client.post(
                f"{SEARCH}?pageSize={page_size}",
                {"q": "status:ACTIVE"},
                format="json",
                HTTP_X_TOTAL_COUNT="true",
            )
        )
        assert len(response.json()) == page_size
        assert response["X-Total-Count"] == str(rows)


# The q grammar, through both endpoints: the same text filters the same way.
Q_CASES = [
    ("id:gold", ["gold"]),
    ("siteCode:main status:ACTIVE", ["gold", "silver"]),
    ("name.en:Bronze", ["bronze"]),
    ("name.de:Goldsegment", ["gold"]),
    ('name.en:"Golden Segment"', ["gold"]),
    ('id:"b b"', ["b b"]),
    ("id:(gold,silver,nope)", ["gold", "silver"]),
    ("name.en:~Segment", ["gold", "silver"]),
    ("name.en:~(Golden Seg)", ["gold"]),
    ("metadata.version:>2", ["b b", "gold"]),
    ("metadata.version:<=1", ["outlet", "silver"]),
    ("metadata.version:(>=2 AND <5)", ["bronze", "gold"]),
    ('metadata.createdAt:(>="2024-05-18T07:27:27.455Z" AND <"2024-05-20T00:00:00Z")', ["gold", "silver"]),
    ('metadata.createdAt:>"2024-05-21T00:00:00Z"', ["b b", "outlet"]),
    ("mixins.tier.level:3", ["gold"]),
    ("mixins.tier.level:>=2", ["gold", "silver"]),
    ('mixins.tier.level:"1"', ["bronze"]),
    ("mixins.vip:true", ["gold"]),
    ("mixins.tier:exists", ["bronze", "gold", "silver"]),
    ("mixins.tier:missing", ["b b", "outlet"]),
    ("mixins.note:null", ["b b", "bronze", "gold", "outlet", "silver"]),
    ("description:null", ["b b", "bronze", "gold", "outlet", "silver"]),
    ("validity.from:missing status:INACTIVE", ["b b", "bronze"]),
    ("", ["b b", "bronze", "gold", "outlet", "silver"]),
]  # fmt: skip
Q_ERRORS = [
    ("colour:red", "Unknown field 'colour'"),
    ("metadata.version:>abc", "Invalid number 'abc' at position 18"),
    ('metadata.createdAt:>"yesterday"', "Invalid date 'yesterday'"),
    ("status:(ACTIVE", "position"),
    ("status:SLEEPING", "status"),
    ("name.en:~(?=a)b", "lookarounds are not allowed"),
    ("id:~{0", "Unescaped '{' before a digit that does not begin a repetition count"),
]


@pytest.mark.django_db
class TestQuery:
    @pytest.mark.parametrize(("q", "expected"), Q_CASES)
    def test_q_on_the_list(self, read_client, catalogue, q, expected):
        assert ids(read_client.get(URL, {"q": q})) == expected

    @pytest.mark.parametrize(("q", "expected"), Q_CASES)
    def test_q_on_search(self, read_client, catalogue, q, expected):
        assert ids(read_client.post(SEARCH, {"q": q}, format="json")) == expected

    @pytest.mark.parametrize(("q", "problem"), Q_ERRORS)
    def test_bad_q_is_400_naming_the_problem(self, read_client, catalogue, q, problem):
        for response in (
            read_client.get(URL, {"q": q}),
            read_client.post(SEARCH, {"q": q}, format="json"),
        ):
            assert response.status_code == 400
            message = response.json()["message"]
            assert message.startswith("Invalid query:")
            assert problem.lower() in message.lower()

    def test_a_middle_json_key_named_like_a_lookup_is_a_key(self, read_client, tenant):
        make_segment(tenant, "hit", mixins={"a": {"exact": True}})
        make_segment(tenant, "miss", mixins={"a": {}})
        assert ids(read_client.get(URL, {"q": "mixins.a.exact:exists"})) == ["hit"]
        assert ids(
            read_client.get(URL, {"q": "mixins.a.exact:true", "sort": "mixins.a.exact"})
        ) == ["hit"]

    def test_search_takes_paging_sort_and_fields_from_the_query_string(
        self, read_client, catalogue
    ):
        response = read_client.post(
            f"{SEARCH}?pageSize=1&sort=metadata.version:DESC&fields=id",
            {"q": "siteCode:main"},
            format="json",
            HTTP_X_TOTAL_COUNT="true",
        )
        assert response.json() == [{"id": "b b"}]
        assert response["X-Total-Count"] == "4"

    def test_search_without_a_body_lists_everything(self, read_client, catalogue):
        assert len(ids(read_client.post(SEARCH))) == 5

    @pytest.mark.parametrize(
        ("body", "problem"),
        [({"q": 5}, "q must be a string"), ({"query": "x"}, "query"), (["q"], "JSON object")],
    )
    def test_a_malformed_search_body_is_400(self, read_client, body, problem):
        response = read_client.post(SEARCH, body, format="json")
        assert response.status_code == 400
        assert problem in response.json()["message"]

    def test_search_results_follow_accept_language(self, read_client, catalogue):
        response = read_client.post(
            SEARCH, {"q": "id:gold"}, format="json", HTTP_ACCEPT_LANGUAGE="de"
        )
        assert response.json()[0]["name"] == "Goldsegment"


@pytest.mark.django_db
class TestWhoSeesWhat:
    @pytest.fixture
    def people(self, tenant):
        """Ada in gold (B2C) and, for Acme, in silver; Alan in bronze."""
        acme, globex = make_legal_entity(tenant, "acme-co"), make_legal_entity(tenant, "globex-co")
        ada = make_customer(tenant, "ada", legal_entities=[acme, globex])
        alan = make_customer(tenant, "alan")
        gold, silver = make_segment(tenant, "gold"), make_segment(tenant, "silver")
        inactive = make_segment(tenant, "inactive", status="INACTIVE")
        expired = make_segment(tenant, "expired", valid_to=timezone.now() - timedelta(days=1))
        other = make_segment(tenant, "other-site", site_code="outlet")
        assign_customer(gold, ada)
        assign_customer(silver, ada, acme)
        assign_customer(other, ada, globex)
        assign_customer(inactive, ada)
        assign_customer(expired, ada)
        assign_customer(make_segment(tenant, "bronze"), alan)
        return {"acme": acme, "globex": globex}

    def test_customer_id_lists_that_customers_segments(self, read_client, people):
        assert ids(read_client.get(URL, {"customerId": "ada"})) == [
            "expired",
            "gold",
            "inactive",
            "other-site",
            "silver",
        ]
        assert ids(read_client.get(URL, {"customerId": "nobody"})) == []

    def test_legal_entity_id_narrows_to_that_company(self, read_client, people):
        params = {"customerId": "ada", "legalEntityId": "acme-co"}
        assert ids(read_client.get(URL, params)) == ["silver"]
        assert ids(read_client.post(f"{SEARCH}?customerId=ada&legalEntityId=globex-co")) == [
            "other-site"
        ]

    def test_a_customer_token_sees_its_effective_segments_whatever_q_says(
        self, tenant, make_client, people
    ):
        ada = make_client(tenant, READ_OWN, customer="ada")
        assert ids(ada.get(URL)) == ["gold", "other-site", "silver"]
        assert ids(ada.get(URL, {"q": "status:INACTIVE"})) == []
        assert ids(ada.get(URL, {"customerId": "alan"})) == ["gold", "other-site", "silver"]
        assert ids(ada.post(SEARCH, {"q": "id:(bronze,gold)"}, format="json")) == ["gold"]
        assert ada.get(f"{URL}/bronze").status_code == 404
        assert ada.get(f"{URL}/inactive").status_code == 404
        assert ada.get(f"{URL}/gold").json()["id"] == "gold"

    def test_a_customer_token_for_a_legal_entity_sees_that_companys_segments(
        self, tenant, make_client, people
    ):
        ada_at_acme = make_client(tenant, READ_OWN, customer="ada", legal_entity="acme-co")
        assert ids(ada_at_acme.get(URL)) == ["silver"]
        ada = make_client(tenant, READ_OWN, customer="ada")
        assert ids(ada.get(URL, {"legalEntityId": "globex-co"})) == ["other-site"]

    def test_a_read_own_token_without_a_customer_is_403(self, tenant, make_client, people):
        response = make_client(tenant, READ_OWN).get(URL)
        assert response.status_code == 403

    def test_customer_order_is_stable_with_sort(self, tenant, make_client, people):
        ada = make_client(tenant, READ_OWN, customer="ada")
        Segment.objects.filter(external_id__in=["gold", "silver"]).update(version=7)
        assert ids(ada.get(URL, {"sort": "metadata.version:DESC"})) == [
            "gold",
            "silver",
            "other-site",
        ]

    def test_customer_lists_cost_a_fixed_number_of_queries(self, tenant, make_client, people):
        ada = make_client(tenant, READ_OWN, customer="ada")
        response = assert_same_queries("segments.list.customer", status=200)(
            lambda: ada.get(URL, HTTP_X_TOTAL_COUNT="true")
        )
        assert ids(response) == ["gold", "other-site", "silver"]
        assert response["X-Total-Count"] == "3"
        ada_row = Customer.objects.get(tenant=tenant, external_id="ada")
        for n in range(30):
            assign_customer(
                make_segment(tenant, f"more{n:02d}"), ada_row, people["acme"] if n % 2 else None
            )
        response = assert_same_queries("segments.list.customer", status=200)(
            lambda: ada.get(URL, HTTP_X_TOTAL_COUNT="true")
        )
        assert response["X-Total-Count"] == "33"

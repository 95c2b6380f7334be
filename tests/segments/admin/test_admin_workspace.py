"""The segment workspace: members, paste with preview, export, items, history, overlap,
duplicate, a customer's segments, the Merchandiser group, edit conflicts, names not ids."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from segments.choices import AssignmentType, EventType, ItemType
from segments.models import CustomerAssignment, Event, ItemAssignment, Segment
from segments.services.segment_workspace import segment_customers_add, segment_items_add
from segments.services.segments import SegmentFields, segment_create, segment_upsert
from segmentservice.actor import acting_as
from tenants.models import StaffTenantAccess
from tenants.roles import MERCHANDISER
from tests.factories import (
    assign_category,
    assign_customer,
    assign_group,
    assign_product,
    make_category,
    make_customer,
    make_group,
    make_legal_entity,
    make_product,
    make_segment,
)
from tests.querycounts import assert_same_queries

BASE = "/admin/segments/segment"


def url(segment: Segment, page: str) -> str:
    return f"{BASE}/{segment.pk}/{page}/"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.fixture
def spring(tenant) -> Segment:
    return make_segment(tenant, "spring", name={"en": "Spring VIP", "de": "Frühling VIP"})


# --- their words ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_are_named_by_name_and_id_never_by_database_id(tenant, spring):
    anna = make_customer(tenant, "nc-cust-1", first_name="Anna", last_name="Schmidt")
    company = make_legal_entity(tenant, "le-1", name="Schmidt GmbH")
    hammer = make_product(tenant, "p-1", code="HAMMER", name={"en": "Hammer"})
    tools = make_category(tenant, "cat-1", code="TOOLS", name={"en": "Tools"})
    segment = Segment.objects.get(pk=spring.pk)  # the tenant not loaded: still its name

    assert str(segment) == "Spring VIP (spring)"
    assert str(assign_customer(spring, anna)) == 'Anna Schmidt (nc-cust-1) in "Spring VIP" (spring)'
    assert str(company) == "Schmidt GmbH (le-1)"
    assert str(hammer) == "Hammer (HAMMER)"
    assert str(assign_category(spring, tools)) == 'Category Tools (TOOLS) in "Spring VIP" (spring)'


@pytest.mark.django_db
def test_the_assignment_list_of_a_segment_is_titled_by_it(su_client, spring, tenant):
    assign_customer(spring, make_customer(tenant))
    response = su_client.get("/admin/segments/customerassignment/", {"segment": spring.pk})
    assert response.context["title"] == 'Customers in "Spring VIP" (spring)'


@pytest.mark.django_db
def test_save_of_an_assignment_returns_to_the_segment(su_client, spring, tenant):
    anna = make_customer(tenant, "anna", first_name="Anna", last_name="Schmidt")
    response = su_client.post(
        f"/admin/segments/customerassignment/add/?segment={spring.pk}&tenant=acme",
        {
            "segment": spring.pk,
            "customer": anna.pk,
            "mixins": "",
            "metadata_mixins": "",
            "_save": 1,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url(spring, "members")
    assert messages_of(response) == ['Anna Schmidt (anna) in "Spring VIP" (spring) added.']


@pytest.mark.django_db
def test_a_stale_save_is_explained_and_keeps_the_input(su_client, spring, tenant):
    form = su_client.get(f"{BASE}/{spring.pk}/change/").context["adminform"].form
    data = {
        "tenant": "acme",
        "site_code": "main",
        "status": "ACTIVE",
        "name_en": "Spring VIP, edited here",
        "version": form["version"].value(),
        "mixins": "",
        "metadata_mixins": "",
    }
    segment_upsert(  # someone else saves first
        tenant=tenant,
        segment_id="spring",
        fields=SegmentFields(name={"en": "Spring VIP (theirs)"}, site_code="main"),
    )

    response = su_client.post(f"{BASE}/{spring.pk}/change/", data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved" in html and "it is now at version 2" in html
    assert f'href="{BASE}/{spring.pk}/change/" target="_blank"' in html
    assert 'value="Spring VIP, edited here"' in html
    assert Segment.objects.get(pk=spring.pk).name == {"en": "Spring VIP (theirs)"}

    # Saving again is a deliberate overwrite with the version now shown.
    again = response.context["adminform"].form
    assert again["version"].value() == "2"
    response = su_client.post(f"{BASE}/{spring.pk}/change/", {**data, "version": 2})
    assert response.status_code == 302
    assert Segment.objects.get(pk=spring.pk).name == {"en": "Spring VIP, edited here"}


# --- members ---------------------------------------------------------------------------------


@pytest.mark.django_db
class TestMembers:
    def test_search_by_name_email_and_id_prefix(self, su_client, spring, tenant):
        assign_customer(spring, make_customer(tenant, "nc-1", first_name="Anna", email="a@x.io"))
        assign_customer(spring, make_customer(tenant, "nc-2", first_name="Bert", email="b@y.io"))
        assign_customer(spring, make_customer(tenant, "zz-3", first_name="Cora", email="c@y.io"))

        def found(term: str) -> list[str]:
            response = su_client.get(url(spring, "members"), {"q": term})
            assert response.context["title"] == 'Customers in "Spring VIP" (spring)'
            return [row.customer.external_id for row in response.context["rows"]]

        assert found("") == ["nc-1", "nc-2", "zz-3"]
        assert found("nc-") == ["nc-1", "nc-2"]
        assert found("bert") == ["nc-2"]
        assert found("y.io") == ["nc-2", "zz-3"]
        assert found("-3") == []  # an id matches by its prefix only

    def test_shows_a_page_at_most(self, su_client, spring, tenant):
        for _ in range(55):
            assign_customer(spring, make_customer(tenant))
        first = su_client.get(url(spring, "members"))
        second = su_client.get(url(spring, "members"), {"p": 2})
        assert len(first.context["rows"]) == 50 and len(second.context["rows"]) == 5
        assert "page 1 of 2" in first.content.decode()

    def test_marks_how_each_member_came_in(self, su_client, spring, tenant):
        assign_customer(spring, make_customer(tenant, "m"))
        assign_customer(
            spring, make_customer(tenant, "r"), assignment_type=AssignmentType.AUTOMATIC
        )
        html = su_client.get(url(spring, "members")).content.decode()
        assert 'kind-manual">manual<' in html and 'kind-automatic">rule<' in html

    def test_removes_the_ticked_members_through_the_bulk_service(self, su_client, spring, tenant):
        company = make_legal_entity(tenant, "le")
        anna = make_customer(tenant, "anna", legal_entities=[company])
        assign_customer(spring, anna)
        assign_customer(spring, anna, company)
        assign_customer(spring, make_customer(tenant, "bert"))

        response = su_client.post(url(spring, "members"), {"key": ["anna\t", "anna\tle"]})

        assert response.status_code == 302
        assert messages_of(response) == ['Removed 2 customers from "Spring VIP" (spring).']
        remaining = CustomerAssignment.objects.filter(segment=spring)
        assert [a.customer.external_id for a in remaining] == ["bert"]
        events = Event.objects.filter(type=EventType.CUSTOMER_ASSIGNMENT_DELETED)
        assert sorted(e.resource_id for e in events) == ["spring/anna", "spring/anna/le"]
        assert {e.actor for e in events} == {"admin:root"}

    def test_export_streams_every_member_as_csv(self, su_client, spring, tenant):
        company = make_legal_entity(tenant, "le")
        anna = make_customer(
            tenant,
            "anna",
            first_name="Anna",
            last_name="Schmidt",
            email="anna@x.io",
            legal_entities=[company],
        )
        assign_customer(spring, anna, company)
        bert = make_customer(tenant, "bert", first_name="Bert", last_name="B", email="b@x.io")
        assign_customer(spring, bert)
        cleo = make_customer(tenant, "cleo", first_name="Cleo", last_name="C", email="c@x.io")
        assign_group(spring, make_group(tenant, "club", members=[cleo]))

        response = su_client.get(url(spring, "members/export"))

        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'filename="members-acme-spring-' in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0] == [
            "customerId",
            "firstName",
            "lastName",
            "email",
            "legalEntityId",
            "assignmentType",
            "groupId",
            "createdAt",
        ]
        assert [row[:7] for row in rows[1:]] == [
            ["anna", "Anna", "Schmidt", "anna@x.io", "le", "MANUAL", ""],
            ["bert", "Bert", "B", "b@x.io", "", "MANUAL", ""],
            ["cleo", "Cleo", "C", "c@x.io", "", "GROUP", "club"],
        ]
        assert all(row[7] for row in rows[1:])  # createdAt, an instant

    def test_other_tenants_segments_are_not_found(self, staff_client, other_tenant):
        theirs = make_segment(other_tenant, "theirs")
        for page in ("members", "members/paste", "members/export", "items", "history"):
            assert staff_client.get(url(theirs, page)).status_code == 404


@pytest.mark.django_db
class TestPaste:
    def test_preview_names_the_customers_and_lists_unknown_ids_before_writing(
        self, su_client, spring, tenant
    ):
        for i in range(5):
            make_customer(tenant, f"c{i}", first_name="Anna", last_name=f"S{i}", email=f"a{i}@x.io")
        assign_customer(spring, make_customer(tenant, "member"))

        response = su_client.post(
            url(spring, "members/paste"),
            {"ids": "c0, c1\nA2@X.IO member nope-1 nope-2 c0", "mode": "add", "_preview": 1},
        )

        assert response.status_code == 200
        preview = response.context["preview"]
        assert (preview["targets"], preview["skipped"]) == (3, 1)
        assert preview["unknown"] == ["nope-1", "nope-2"]
        assert [str(c) for c in preview["named"]] == [
            "Anna S0 (c0)",
            "Anna S1 (c1)",
            "Anna S2 (c2)",
        ]
        html = response.content.decode()
        assert "<code>nope-1</code>" in html and 'value="Add 3 customers"' in html
        assert CustomerAssignment.objects.filter(segment=spring).count() == 1  # nothing written

    def test_confirm_adds_the_known_through_the_bulk_pipeline(self, su_client, spring, tenant):
        make_customer(tenant, "c1")
        make_customer(tenant, "c2")
        response = su_client.post(
            url(spring, "members/paste"), {"ids": "c1 c2 ghost", "mode": "add", "_confirm": 1}
        )
        assert response.status_code == 302 and response["Location"] == url(spring, "members")
        assert messages_of(response) == [
            'Added 2 customers to "Spring VIP" (spring). Skipped 1 unknown: ghost.'
        ]
        rows = CustomerAssignment.objects.filter(segment=spring).order_by("customer__external_id")
        assert [(r.customer.external_id, r.assignment_type, r.version) for r in rows] == [
            ("c1", "MANUAL", 1),
            ("c2", "MANUAL", 1),
        ]
        events = Event.objects.filter(type=EventType.CUSTOMER_ASSIGNMENT_CREATED)
        assert sorted((e.resource_id, e.actor) for e in events) == [
            ("spring/c1", "admin:root"),
            ("spring/c2", "admin:root"),
        ]

    def test_a_csv_upload_reads_its_id_column_and_becomes_editable_text(
        self, su_client, spring, tenant
    ):
        make_customer(tenant, "c1")
        upload = SimpleUploadedFile(
            "members.csv", b"name,customerId\nAnna,c1\nGhost,ghost\n", content_type="text/csv"
        )
        response = su_client.post(
            url(spring, "members/paste"), {"file": upload, "mode": "add", "_preview": 1}
        )
        assert response.context["preview"]["unknown"] == ["ghost"]
        assert response.context["form"]["ids"].value() == "c1\nghost"

    def test_remove_mode_removes_the_pasted_members(self, su_client, spring, tenant):
        assign_customer(spring, make_customer(tenant, "c1"))
        assign_customer(spring, make_customer(tenant, "c2"))
        make_customer(tenant, "outsider")
        preview = su_client.post(
            url(spring, "members/paste"),
            {"ids": "c1 outsider", "mode": "remove", "_preview": 1},
        ).context["preview"]
        assert (preview["targets"], preview["skipped"]) == (1, 1)
        su_client.post(
            url(spring, "members/paste"), {"ids": "c1 outsider", "mode": "remove", "_confirm": 1}
        )
        remaining = CustomerAssignment.objects.filter(segment=spring)
        assert [a.customer.external_id for a in remaining] == ["c2"]

    def test_too_many_ids_are_refused_before_any_lookup(self, su_client, spring, monkeypatch):
        from segments.admin import workspace

        monkeypatch.setattr(workspace, "PASTE_MAX", 3)
        response = su_client.post(url(spring, "members/paste"), {"ids": "a b c d", "mode": "add"})
        assert response.context["form"].errors == {
            "ids": ["That is 4 ids; paste at most 3 at a time."]
        }

    def test_nothing_pasted_is_an_error_not_a_write(self, su_client, spring):
        response = su_client.post(url(spring, "members/paste"), {"ids": " ", "mode": "add"})
        assert response.status_code == 200
        assert response.context["form"].errors == {
            "ids": ["Paste at least one id, or choose a file."]
        }


@pytest.mark.django_db
class TestItems:
    def test_paste_codes_of_products_and_remove_ticked(self, su_client, spring, tenant):
        make_product(tenant, "p1", code="HAMMER", name={"en": "Hammer"})
        make_product(tenant, "p2", code="SAW", name={"en": "Saw"})
        tools = make_category(tenant, "tools", code="TOOLS", name={"en": "Tools"})
        assign_category(spring, tools)

        preview = su_client.post(
            url(spring, "items/paste"),
            {"ids": "HAMMER p2 NAIL", "mode": "add", "type": "PRODUCT", "_preview": 1},
        ).context["preview"]
        assert [str(p) for p in preview["named"]] == ["Hammer (HAMMER)", "Saw (SAW)"]
        assert preview["unknown"] == ["NAIL"]
        response = su_client.post(
            url(spring, "items/paste"),
            {"ids": "HAMMER p2 NAIL", "mode": "add", "type": "PRODUCT", "_confirm": 1},
        )
        assert messages_of(response) == [
            'Added 2 products to "Spring VIP" (spring). Skipped 1 unknown: NAIL.'
        ]

        listed = su_client.get(url(spring, "items"))
        assert [(e["row"].type, e["name"], e["item"].code) for e in listed.context["rows"]] == [
            ("CATEGORY", "Tools", "TOOLS"),
            ("PRODUCT", "Hammer", "HAMMER"),
            ("PRODUCT", "Saw", "SAW"),
        ]
        su_client.post(url(spring, "items"), {"key": ["CATEGORY\ttools", "PRODUCT\tp1"]})
        remaining = ItemAssignment.objects.filter(segment=spring)
        assert [(r.type, r.product.code) for r in remaining] == [(ItemType.PRODUCT, "SAW")]


@pytest.mark.django_db
def test_items_export_streams_products_and_categories(su_client, spring, tenant):
    assign_product(spring, make_product(tenant, "p1", code="HAMMER", name={"de": "Hammer"}))
    assign_category(spring, make_category(tenant, "c1", code="TOOLS", name={"en": "Tools"}))
    response = su_client.get(url(spring, "items/export"))
    assert response.streaming and 'filename="items-acme-spring-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[:4] for row in rows] == [
        ["type", "itemId", "code", "name"],
        ["CATEGORY", "c1", "TOOLS", "Tools"],
        ["PRODUCT", "p1", "HAMMER", "Hammer"],
    ]


@pytest.mark.django_db
def test_a_viewer_reads_the_workspace_but_changes_nothing(tenant, spring):
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("vera", "vera@example.com", None, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_segment"))
    StaffTenantAccess.objects.create(user=user, tenant=tenant)
    client = Client()
    client.force_login(user)
    assign_customer(spring, make_customer(tenant, "anna"))

    assert client.get(url(spring, "members")).status_code == 200
    assert "Remove ticked" not in client.get(url(spring, "members")).content.decode()
    assert client.post(url(spring, "members"), {"key": ["anna\t"]}).status_code == 403
    assert client.get(url(spring, "members/paste")).status_code == 403
    assert client.get(url(spring, "duplicate")).status_code == 403
    assert CustomerAssignment.objects.filter(segment=spring).count() == 1


@pytest.mark.django_db
def test_the_forms_history_button_opens_the_segments_history(su_client, spring):
    response = su_client.get(f"{BASE}/{spring.pk}/history/")
    assert response.status_code == 200  # our history page: the URL is the same as Django's
    assert response.context["title"] == 'History of "Spring VIP" (spring)'


# --- history, overlap, duplicate, customer ----------------------------------------------------


@pytest.mark.django_db
def test_history_shows_every_change_with_actor_and_before_after(su_client, tenant):
    with acting_as("command:import_segments"):
        spring = segment_create(
            tenant=tenant,
            segment_id="spring",
            fields=SegmentFields(name={"en": "Spring VIP", "de": "Frühling VIP"}, site_code="main"),
        )
    anna = make_customer(tenant, "anna", first_name="Anna", last_name="Schmidt")
    with acting_as("api-client:shop-sync"):
        segment_upsert(
            tenant=tenant,
            segment_id="spring",
            fields=SegmentFields(name={"en": "Spring VIP 2"}, site_code="main", status="ACTIVE"),
        )
    su_client.post(url(spring, "members/paste"), {"ids": "anna", "mode": "add", "_confirm": 1})

    response = su_client.get(url(spring, "history"))

    assert response.context["title"] == 'History of "Spring VIP 2" (spring)'
    added, changed, created = response.context["entries"]
    assert (added["what"], added["subject"], added["actor"]) == (
        "Customer added",
        str(anna),
        "root (admin)",
    )
    assert (changed["what"], changed["actor"]) == ("Segment changed", "API client shop-sync")
    assert changed["changes"] == [
        ("name", "de: Frühling VIP; en: Spring VIP", "en: Spring VIP 2"),
        ("status", "INACTIVE", "ACTIVE"),
    ]
    assert (created["what"], created["actor"]) == ("Segment created", "command import_segments")


@pytest.mark.django_db
def test_overlap_counts_sizes_pairs_and_all_in_one_query(
    su_client, tenant, django_assert_num_queries
):
    from segments.selectors.workspace import segments_overlap

    a, b, c = (make_segment(tenant, x) for x in ("a", "b", "c"))
    people = [make_customer(tenant) for _ in range(6)]
    company = make_legal_entity(tenant)
    for person in people[:4]:
        assign_customer(a, person)
    for person in people[2:6]:
        assign_customer(b, person)
    assign_customer(b, people[2], company)  # B2B too: still one customer
    for person in people[3:5]:
        assign_customer(c, person)

    with django_assert_num_queries(1):
        overlap = segments_overlap(tenant=tenant, segments=[a, b, c])

    assert overlap.sizes == [4, 4, 2]
    assert overlap.pairs == {(0, 1): 2, (0, 2): 1, (1, 2): 2}
    assert (overlap.all, overlap.union) == (1, 6)

    response = su_client.post(
        f"{BASE}/", {"action": "compare_overlap", "_selected_action": [a.pk, b.pk, c.pk]}
    )
    assert response.status_code == 302
    page = su_client.get(response["Location"])
    assert [cells for _, _, cells in page.context["matrix"]] == [[4, 2, 1], [2, 4, 2], [1, 2, 2]]
    assert 'id="overlap-all">1<' in page.content.decode()


@pytest.mark.django_db
def test_overlap_wants_two_to_five_segments(su_client, tenant):
    make_segment(tenant, "a")
    response = su_client.get(f"{BASE}/overlap/", {"segments": "a"})
    assert response.context["error"] == "Choose two to five segments."


@pytest.mark.django_db
@pytest.mark.parametrize("with_assignments", [True, False])
def test_duplicate_with_or_without_assignments(su_client, spring, tenant, with_assignments):
    assign_customer(spring, make_customer(tenant, "anna"))
    assign_product(spring, make_product(tenant, "p1"))
    response = su_client.post(
        url(spring, "duplicate"),
        {
            "external_id": "spring-copy",
            "name_en": "Spring VIP copy",
            "with_assignments": "on" if with_assignments else "",
        },
    )
    assert response.status_code == 302
    copy = Segment.objects.get(external_id="spring-copy")
    assert (copy.name, copy.status, copy.site_code) == (
        {"en": "Spring VIP copy"},
        "INACTIVE",
        "main",
    )
    expected = 1 if with_assignments else 0
    assert CustomerAssignment.objects.filter(segment=copy).count() == expected
    assert ItemAssignment.objects.filter(segment=copy).count() == expected


@pytest.mark.django_db
def test_a_customers_page_lists_their_segments_and_how(su_client, tenant, spring):
    anna = make_customer(tenant, "anna")
    rules = make_segment(tenant, "rules", name={"en": "Big spenders"})
    assign_customer(spring, anna)
    assign_customer(rules, anna, assignment_type=AssignmentType.AUTOMATIC)
    html = su_client.get(f"/admin/segments/customer/{anna.pk}/change/").content.decode()
    assert (
        '&quot;Spring VIP&quot; (spring)</a> <span class="assignment-kind kind-manual">manual'
        in html
    )
    assert (
        '&quot;Big spenders&quot; (rules)</a> <span class="assignment-kind kind-automatic">rule'
        in html
    )


@pytest.mark.django_db
def test_the_segment_form_offers_the_tenants_site_codes(su_client, tenant, spring):
    make_segment(tenant, site_code="b2b")
    html = su_client.get(f"{BASE}/{spring.pk}/change/").content.decode()
    assert '<datalist id="site-codes"><option value="b2b"><option value="main"></datalist>' in html


@pytest.mark.django_db
def test_the_list_sorts_by_name(su_client, tenant):
    for external_id, name in (("x", "beta"), ("y", "Alpha"), ("z", "gamma")):
        make_segment(tenant, external_id, name={"en": name})
    response = su_client.get(f"{BASE}/", {"o": "2"})  # the name column
    assert [s.external_id for s in response.context["cl"].result_list] == ["y", "x", "z"]


# --- the Merchandiser group ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_merchandiser_group_is_shipped_and_grants_the_workspace_only(tenant, spring):
    call_command("create_merchandiser_group", stdout=io.StringIO())
    group = Group.objects.get(name=MERCHANDISER)
    codes = set(group.permissions.values_list("codename", flat=True))
    assert {"change_segment", "delete_customerassignment", "change_customer", "view_event"} <= codes
    assert not {c for c in codes if c.endswith(("apiclient", "tenant", "webhookendpoint"))}
    assert "delete_customer" not in codes and "change_event" not in codes

    user = get_user_model().objects.create_user("mia", "mia@example.com", None, is_staff=True)
    user.groups.add(group)  # the one click
    StaffTenantAccess.objects.create(user=user, tenant=tenant)
    client = Client()
    client.force_login(user)
    assert client.get(url(spring, "members")).status_code == 200
    assert client.get(f"{BASE}/{spring.pk}/change/").status_code == 200
    assert client.get("/admin/tenants/apiclient/").status_code == 403


# --- query counts: the same for one row and for many -----------------------------------------


def _grow(spring: Segment, tenant, n: int) -> None:
    for _ in range(n):
        customer = make_customer(tenant, legal_entities=[make_legal_entity(tenant)])
        segment_customers_add(  # with its event, for the history
            tenant=tenant, segment_id=spring.external_id, customer_ids=[customer.external_id]
        )
        product = make_product(tenant)
        segment_items_add(
            tenant=tenant,
            segment_id=spring.external_id,
            type=ItemType.PRODUCT,
            item_ids=[product.external_id],
        )
        assign_category(spring, make_category(tenant))
        other = make_segment(tenant)
        assign_customer(other, customer)
        with acting_as("api-client:x"):
            segment_upsert(
                tenant=tenant,
                segment_id=spring.external_id,
                fields=SegmentFields(name={"en": f"n{n}{customer.pk}"}, site_code="main"),
            )


PAGES = [
    ("admin.workspace.members", lambda s, c: url(s, "members")),
    ("admin.workspace.members_searched", lambda s, c: url(s, "members") + "?q=Ada"),
    ("admin.workspace.items", lambda s, c: url(s, "items")),
    ("admin.workspace.history", lambda s, c: url(s, "history")),
    ("admin.workspace.paste_form", lambda s, c: url(s, "members/paste")),
    ("admin.workspace.duplicate_form", lambda s, c: url(s, "duplicate")),
    ("admin.workspace.customer_page", lambda s, c: f"/admin/segments/customer/{c.pk}/change/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "page"), PAGES, ids=[p[0] for p in PAGES])
def test_workspace_pages_cost_the_same_for_one_row_and_many(su_client, tenant, spring, key, page):
    customer = make_customer(tenant, first_name="Ada")
    assign_customer(spring, customer)
    check = assert_same_queries(key, status=200)
    _grow(spring, tenant, 1)
    su_client.get(page(spring, customer))  # session and content types cached from here
    check(lambda: su_client.get(page(spring, customer)))
    _grow(spring, tenant, 12)
    check(lambda: su_client.get(page(spring, customer)))


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 40])
def test_paste_preview_and_overlap_cost_the_same_for_one_id_and_many(
    su_client, tenant, spring, size
):
    customers = [make_customer(tenant) for _ in range(size)]
    ids = [customer.external_id for customer in customers]
    other = make_segment(tenant)
    for customer in customers:
        assign_customer(other, customer)
    su_client.get(url(spring, "members"))
    assert_same_queries("admin.workspace.paste_preview", status=200)(
        lambda: su_client.post(
            url(spring, "members/paste"),
            {"ids": "\n".join([*ids, "unknown"]), "mode": "add", "_preview": 1},
        )
    )
    assert_same_queries("admin.workspace.overlap", status=200)(
        lambda: su_client.get(f"{BASE}/overlap/", {"ids": f"{spring.pk},{other.pk}"})
    )


# --- the legal-entity picker ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_legal_entity_picker_offers_the_chosen_customers_entities(su_client, tenant):
    mine, theirs = make_legal_entity(tenant, "mine"), make_legal_entity(tenant, "theirs")
    anna = make_customer(tenant, "anna", legal_entities=[mine])
    make_customer(tenant, "bert", legal_entities=[theirs])
    params = {
        "app_label": "segments",
        "model_name": "customerassignment",
        "field_name": "legal_entity",
        "tenant": "acme",
        "term": "",
    }
    everyone = su_client.get("/admin/autocomplete/", params).json()["results"]
    annas = su_client.get("/admin/autocomplete/", {**params, "customer": anna.pk}).json()
    assert len(everyone) == 2
    assert [r["text"] for r in annas["results"]] == [str(mine)]


@pytest.mark.django_db
def test_plus_creates_a_legal_entity_the_customer_acts_for(su_client, tenant, spring):
    anna = make_customer(tenant, "anna")
    form = su_client.get(f"/admin/segments/customerassignment/add/?segment={spring.pk}")
    assert 'id="add_id_legal_entity"' in form.content.decode()
    assert "segments/legal_entity_picker.js" in form.content.decode()

    response = su_client.post(
        f"/admin/segments/legalentity/add/?_to_field=id&_popup=1&customer={anna.pk}",
        {"tenant": "acme", "external_id": "anna-gmbh", "name": "Anna GmbH", "_popup": 1},
    )

    assert response.status_code == 200  # the pop-up's closing page
    assert [le.external_id for le in anna.legal_entities.all()] == ["anna-gmbh"]


@pytest.mark.django_db
def test_history_can_show_one_kind_of_change(su_client, tenant):
    spring = segment_create(
        tenant=tenant, segment_id="spring", fields=SegmentFields(name={"en": "S"}, site_code="m")
    )
    make_customer(tenant, "anna")
    segment_customers_add(tenant=tenant, segment_id="spring", customer_ids=["anna"])

    def whats(kind: str) -> list[str]:
        response = su_client.get(url(spring, "history"), {"kind": kind})
        return [entry["what"] for entry in response.context["entries"]]

    assert whats("") == ["Customer added", "Segment created"]
    assert whats("segment") == ["Segment created"]
    assert whats("customers") == ["Customer added"]
    assert whats("items") == []

"""A merchandiser's day in the segment workspace, in headless Chromium, checked through the REST API.

Logged in as a staff user who holds only the shipped Merchandiser group and one tenant:
find the active segments of a site, create a bilingual segment, paste 500 members with 3
unknown ids and see them named before saving, export them, compare three segments' overlap,
read a segment's history after an API change, and open a customer to see their segments.
Screenshots go to `artifacts/` (admin-ws-*.png).
"""

from __future__ import annotations

import csv
import json
import urllib.request
from itertools import combinations

import pytest
from django.contrib.auth import get_user_model

from segments.choices import AssignmentType
from segments.models import Customer, CustomerAssignment, Segment
from tenants.models import StaffTenantAccess
from tenants.roles import merchandiser_group_sync
from tenants.services import tenant_create
from tests.conftest import MANAGE, READ
from tests.e2e.test_admin_browser import (
    ARTIFACTS,
    CHROMEDRIVER,
    CHROMIUM,
    browser,  # noqa: F401 (the fixture)
    downloaded,
    save_and_wait,
    wait,
)
from tests.factories import make_segment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver",
    ),
]

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from tests.e2e.conftest import replaced  # noqa: E402

PASSWORD = "merchandiser-pw-2"
CUSTOMERS = 520


class Api:
    """The REST API of the live server for tenant acme, with a manage + read token."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, headers=None):
        request = urllib.request.Request(
            f"{self.base}/customer-segment/acme{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, json.loads(response.read() or b"null"), response.headers
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null"), error.headers

    def member_ids(self, segment_id: str) -> set[str]:
        ids: set[str] = set()
        page = 1
        while True:
            status, rows, _ = self.call(
                "GET", f"/segments/{segment_id}/customers?pageSize=1000&pageNumber={page}"
            )
            assert status == 200, rows
            ids.update(row["customer"]["id"] for row in rows)
            if len(rows) < 1000:
                return ids
            page += 1


@pytest.fixture
def shop(transactional_db):
    """Tenant acme with 520 customers, segments on two sites, and a merchandiser."""
    tenant = tenant_create(name="acme", default_language="en", languages=["en", "de"])
    Customer.objects.bulk_create(
        Customer(
            tenant=tenant,
            external_id=f"nc-{i:04d}",
            first_name=["Anna", "Ben", "Cleo", "Dev"][i % 4],
            last_name=f"Schmidt{i}",
            email=f"shopper{i}@example.com",
        )
        for i in range(CUSTOMERS)
    )
    customers = list(Customer.objects.filter(tenant=tenant).order_by("external_id"))
    make_segment(tenant, "b2b-gold", name={"en": "B2B gold", "de": "B2B Gold"}, site_code="b2b")
    make_segment(tenant, "b2b-silver", name={"en": "B2B silver"}, site_code="b2b")
    make_segment(tenant, "b2b-old", name={"en": "B2B old"}, site_code="b2b", status="INACTIVE")
    make_segment(tenant, "main-vip", name={"en": "Main VIP"}, site_code="main")
    groups = {
        "north": customers[0:300],
        "south": customers[200:450],
        "east": customers[250:320] + customers[480:500],
    }
    for external_id, members in groups.items():
        segment = make_segment(tenant, external_id, name={"en": external_id.title()})
        CustomerAssignment.objects.bulk_create(
            CustomerAssignment(tenant=tenant, segment=segment, customer=c) for c in members
        )
    rules = make_segment(tenant, "big-spenders", name={"en": "Big spenders"})
    CustomerAssignment.objects.create(
        tenant=tenant,
        segment=rules,
        customer=customers[0],
        assignment_type=AssignmentType.AUTOMATIC,
    )
    group = merchandiser_group_sync()
    user = get_user_model().objects.create_user("mia", "mia@example.com", PASSWORD)
    user.is_staff = True
    user.save()
    user.groups.add(group)
    StaffTenantAccess.objects.create(user=user, tenant=tenant)
    return tenant


@pytest.fixture
def api(live_server, shop, make_token) -> Api:
    return Api(live_server.url, make_token(shop, MANAGE, READ))


def shot(driver, name: str, height: int = 1000) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.set_window_size(1400, height)
    driver.save_screenshot(str(ARTIFACTS / f"admin-ws-{name}.png"))
    driver.set_window_size(1400, 1000)


def click_and_wait(driver, locator: tuple[str, str]) -> None:
    """Click the element `locator` finds once the page is ready, and wait for the next page."""
    for attempt in range(3):
        try:
            old = driver.find_element(By.TAG_NAME, "html")
            wait(driver, EC.element_to_be_clickable(locator)).click()
            break
        except StaleElementReferenceException:  # the page was still being replaced
            if attempt == 2:
                raise
    wait(driver, replaced(old))


def message(driver) -> str:
    return wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".messagelist"))).text


def test_a_merchandisers_day_in_the_workspace(browser, live_server, api):  # noqa: F811
    base = live_server.url

    # Log in as the merchandiser (the shipped group, one tenant).
    browser.get(f"{base}/admin/login/?next=/admin/segments/segment/")
    browser.find_element(By.NAME, "username").send_keys("mia")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(browser, (By.CSS_SELECTOR, "input[type=submit]"))
    wait(browser, EC.title_contains("Select segment to change"))

    # 1. The active segments of site b2b: two sidebar filters.
    click_and_wait(browser, (By.XPATH, "//details[@data-filter-title='site']//a[.='b2b']"))
    click_and_wait(browser, (By.XPATH, "//details[@data-filter-title='status']//a[.='Active']"))
    shown = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody th a")}
    status, everything, _ = api.call("GET", "/segments?pageSize=100")
    expected = {s["id"] for s in everything if s["siteCode"] == "b2b" and s["status"] == "ACTIVE"}
    assert shown == expected == {"b2b-gold", "b2b-silver"}
    shot(browser, "1-active-b2b-segments")

    # 2. A bilingual segment; the site is offered from the tenant's (a datalist).
    browser.get(f"{base}/admin/segments/segment/add/")
    options = browser.find_elements(By.CSS_SELECTOR, "datalist#site-codes option")
    assert [o.get_attribute("value") for o in options] == ["b2b", "main"]
    browser.find_element(By.ID, "id_external_id").send_keys("spring-vip")
    browser.find_element(By.ID, "id_site_code").send_keys("main")
    Select(browser.find_element(By.ID, "id_status")).select_by_value("ACTIVE")
    browser.find_element(By.ID, "id_name_en").send_keys("Spring VIP")
    browser.find_element(By.ID, "id_name_de").send_keys("Frühlings-VIP")
    save_and_wait(browser, "_continue")
    assert "The segment “Spring VIP (spring-vip)” was added successfully" in message(browser)
    status, segment, _ = api.call("GET", "/segments/spring-vip")
    assert status == 200
    assert segment["name"] == {"en": "Spring VIP", "de": "Frühlings-VIP"}
    assert (segment["siteCode"], segment["status"]) == ("main", "ACTIVE")
    shot(browser, "2-segment-form", 1500)

    # 3. Paste 500 ids, 3 of them unknown: the preview names them before anything is written.
    click_and_wait(browser, (By.CSS_SELECTOR, "a.workspace-members_paste"))
    pasted = [f"nc-{i:04d}" for i in range(497)] + ["nc-9990", "typo-17", "ghost@nowhere.example"]
    textarea = browser.find_element(By.ID, "id_ids")
    browser.execute_script("arguments[0].value = arguments[1];", textarea, "\n".join(pasted))
    click_and_wait(browser, (By.ID, "paste-preview-button"))
    unknown = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#unknown-ids li")]
    assert unknown == ["nc-9990", "typo-17", "ghost@nowhere.example"]
    summary = browser.find_element(By.CSS_SELECTOR, ".preview-summary").text
    assert "500 pasted: 497 to add" in summary and "3 unknown" in summary
    named = browser.find_elements(By.CSS_SELECTOR, "#preview-named li")
    assert named[0].text == "Anna Schmidt0 (nc-0000) <shopper0@example.com>"
    assert api.member_ids("spring-vip") == set()  # nothing written yet
    shot(browser, "3-paste-preview", 1400)
    confirm = browser.find_element(By.ID, "paste-confirm")
    assert confirm.get_attribute("value") == "Add 497 customers"
    click_and_wait(browser, (By.ID, "paste-confirm"))
    assert (
        'Added 497 customers to "Spring VIP" (spring-vip). Skipped 3 unknown: nc-9990, '
        "typo-17, ghost@nowhere.example." in message(browser)
    )
    assert api.member_ids("spring-vip") == set(pasted[:497])

    # The members page: a page of rows, searchable by name.
    assert len(browser.find_elements(By.CSS_SELECTOR, "#members tbody tr")) == 50
    search = browser.find_element(By.ID, "member-search")
    search.send_keys("Schmidt49")
    click_and_wait(browser, (By.CSS_SELECTOR, ".workspace-search input[type=submit]"))
    rows = [
        r.text for r in browser.find_elements(By.CSS_SELECTOR, "#members tbody tr td:nth-child(2)")
    ]
    assert rows == ["nc-0049"] + [f"nc-{i:04d}" for i in range(490, 497)]
    shot(browser, "4-members")

    # Remove two of them with the tick boxes.
    for box in browser.find_elements(By.CSS_SELECTOR, "#members input[name=key]")[:2]:
        box.click()
    click_and_wait(browser, (By.ID, "remove-members"))
    assert 'Removed 2 customers from "Spring VIP" (spring-vip).' in message(browser)
    assert api.member_ids("spring-vip") == set(pasted[:497]) - {"nc-0049", "nc-0490"}

    # 4. Export them: the file lists exactly the API's members.
    browser.find_element(By.ID, "export-members").click()
    exported = downloaded(browser.downloads, "members-acme-spring-vip-*.csv")
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert {row["customerId"] for row in rows} == api.member_ids("spring-vip")
    assert rows[0]["email"] == "shopper0@example.com"

    # 5. Compare three segments' overlap with the list action.
    browser.get(f"{base}/admin/segments/segment/")
    for segment_id in ("north", "south", "east"):
        row = browser.find_element(By.XPATH, f"//tr[.//a[normalize-space()='{segment_id}']]")
        row.find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("compare_overlap")
    click_and_wait(browser, (By.CSS_SELECTOR, "button[name=index]"))
    members = {s: api.member_ids(s) for s in ("east", "north", "south")}  # the action's order
    table = browser.find_elements(By.CSS_SELECTOR, "#overlap-table tbody tr")
    cells = [
        [int(td.text.replace(",", "")) for td in r.find_elements(By.TAG_NAME, "td")] for r in table
    ]
    names = list(members)
    for i, j in combinations(range(3), 2):
        assert cells[i][j] == cells[j][i] == len(members[names[i]] & members[names[j]])
    assert [cells[i][i] for i in range(3)] == [len(members[n]) for n in names]
    everyone = members["east"] & members["north"] & members["south"]
    assert int(browser.find_element(By.ID, "overlap-all").text) == len(everyone) == 50
    assert len(browser.find_elements(By.CSS_SELECTOR, "#overlap-chart .bar")) == 7
    shot(browser, "5-overlap", 1100)

    # 6. Someone changes the segment through the API; its history says who and what.
    status, body, _ = api.call(
        "PUT",
        "/segments/spring-vip",
        {
            "name": {"en": "Spring VIP", "de": "Frühjahrs-VIP"},
            "siteCode": "main",
            "status": "ACTIVE",
            "metadata": {"version": 1},
        },
    )
    assert status in (200, 204), body
    spring = Segment.objects.get(external_id="spring-vip")
    browser.get(f"{base}/admin/segments/segment/{spring.pk}/history/")
    first = browser.find_element(By.CSS_SELECTOR, "#history tbody tr")
    assert first.find_element(By.CSS_SELECTOR, ".history-actor").text.startswith("API client ")
    assert "Segment changed" in first.find_element(By.CSS_SELECTOR, ".history-what").text
    change = [td.text for td in first.find_elements(By.CSS_SELECTOR, ".history-changes td")]
    assert change == [
        "name",
        "de: Frühlings-VIP; en: Spring VIP",
        "de: Frühjahrs-VIP; en: Spring VIP",
    ]
    whats = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#history .history-what")]
    # The two removals (one write), then the 497 additions (one paste): one entry each.
    assert whats[1:4] == [
        "Customers removed (2) in one write",
        "Customers added (497) in one write",
        "Segment created (version 1)",
    ]
    assert any(
        a.text == "mia (admin)" for a in browser.find_elements(By.CSS_SELECTOR, ".history-actor")
    )
    shot(browser, "6-history", 1200)

    # 7. A customer's page lists their segments and how they came in.
    browser.get(f"{base}/admin/segments/segment/{spring.pk}/members/?q=nc-0000")
    click_and_wait(browser, (By.LINK_TEXT, "nc-0000"))
    listed = browser.find_element(By.CSS_SELECTOR, "ul.customer-segments").text.splitlines()
    status, theirs, _ = api.call("GET", "/segments?customerId=nc-0000&pageSize=100")
    assert status == 200
    assert len(listed) == len(theirs) == 3
    assert {s["id"] for s in theirs} == {"spring-vip", "north", "big-spenders"}
    assert '"Big spenders" (big-spenders) rule why?' in listed
    assert '"Spring VIP" (spring-vip) manual why?' in listed
    shot(browser, "7-customer", 1300)

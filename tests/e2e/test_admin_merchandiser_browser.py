"""A merchandiser's second day, in headless Chromium, checked through the REST API.

Logged in as a staff user holding only the shipped Merchandiser group and one tenant:
write a rule on the segment's own page and watch its live preview before saving, save it
and evaluate it now; see members inherited through a group, marked, and ask why one is
in; on a customer's page, follow "why?" and ask why they are not in another segment;
create a legal entity with "+" from the customer's page; read a bulk paste as one entry
of the segment's history; assign a group made on the spot with "+". Screenshots go to
`artifacts/` (admin-m-*.png).
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from segments.models import Customer, Group, GroupMember, Segment
from tests.e2e.test_admin_browser import (
    ARTIFACTS,
    CHROMEDRIVER,
    CHROMIUM,
    WAIT_SECONDS,
    browser,  # noqa: F401 (the fixture)
    wait,
)
from tests.e2e.test_admin_workspace_browser import (  # noqa: F401 (the fixtures)
    PASSWORD,
    api,
    click_and_wait,
    message,
    shop,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver",
    ),
]


def shot(driver, name: str, height: int = 1000) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.set_window_size(1400, height)
    driver.save_screenshot(str(ARTIFACTS / f"admin-m-{name}.png"))
    driver.set_window_size(1400, 1000)


def text_is(locator: tuple[str, str], expected: str):
    return lambda d: d.find_element(*locator).text == expected


def pick(driver, select_id: str, term: str, expected: str) -> None:
    """Open the select2 autocomplete of the select `select_id`, type, pick `expected`."""
    driver.find_element(By.CSS_SELECTOR, f"#{select_id} + .select2 .select2-selection").click()
    search = wait(
        driver, EC.visibility_of_element_located((By.CSS_SELECTOR, ".select2-search__field"))
    )
    search.send_keys(term)
    option = (
        By.XPATH,
        f"//li[contains(@class,'select2-results__option') and contains(., '{expected}')]",
    )
    WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: EC.element_to_be_clickable(option)(d)
        and (d.find_element(*option).click() or True)
    )
    wait(driver, lambda d: expected in d.find_element(By.ID, f"select2-{select_id}-container").text)


def test_a_merchandisers_rules_groups_explanations_and_history(browser, live_server, api):  # noqa: F811
    base = live_server.url
    browser.get(f"{base}/admin/login/?next=/admin/segments/segment/")
    browser.find_element(By.NAME, "username").send_keys("mia")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(browser, (By.CSS_SELECTOR, "input[type=submit]"))

    # 1. The rule editor on the segment's page: the live preview before anything is saved.
    spenders = Segment.objects.get(external_id="big-spenders")
    browser.get(f"{base}/admin/segments/segment/{spenders.pk}/change/")
    assert "No rule yet" in browser.find_element(By.ID, "rule-status").text
    browser.find_element(By.ID, "id_rule_q").send_keys("firstName:Anna")
    count = (By.ID, "rule-preview-count")
    wait(browser, text_is(count, "130"))  # every fourth of the 520 customers
    assert browser.find_element(By.ID, "rule-preview-added").text == "129"  # one is in already
    assert browser.find_element(By.ID, "rule-preview-removed").text == "0"
    diff = browser.find_elements(By.CSS_SELECTOR, "#rule-preview-diff tbody tr")
    browser.execute_script("document.getElementById('segment-rule').scrollIntoView()")
    shot(browser, "1-rule-editor-preview", 1300)
    table = browser.find_element(By.ID, "rule-preview-diff").text
    assert diff and "+ add nc-0004 Anna Schmidt4" in table, table
    status, _, _ = api.call("GET", "/segments/big-spenders/rule")
    assert status == 404  # nothing saved yet
    browser.execute_script("document.getElementById('segment-rule').scrollIntoView()")
    shot(browser, "1-rule-editor-preview", 1300)
    click_and_wait(browser, (By.ID, "rule-save"))
    assert (
        'Created the rule of "Big spenders" (big-spenders) and evaluated it: '
        "129 customers added, 0 removed." in message(browser)
    )
    status, rule, _ = api.call("GET", "/segments/big-spenders/rule")
    assert status == 200 and rule["q"] == "firstName:Anna" and rule["enabled"] is True
    assert len(api.member_ids("big-spenders")) == 130
    assert browser.find_element(By.ID, "rule-member-count").text == "130"
    assert "UTC" in browser.find_element(By.ID, "rule-last-evaluated").text
    click_and_wait(browser, (By.ID, "rule-evaluate"))
    assert "0 customers added, 0 removed." in message(browser)
    browser.execute_script("document.getElementById('segment-rule').scrollIntoView()")
    shot(browser, "2-rule-saved", 1300)

    # 2. Members inherited through a group: marked, searched, explained.
    wholesale = Group.objects.create(
        tenant_id="acme", external_id="wholesale", name={"en": "Wholesale"}
    )
    GroupMember.objects.bulk_create(
        GroupMember(tenant_id="acme", group=wholesale, customer=c)
        for c in Customer.objects.filter(external_id__in=["nc-0301", "nc-0302", "nc-0303"])
    )
    status, body, _ = api.call("PUT", "/segments/main-vip/groups/wholesale", {})
    assert status == 201, body
    vip = Segment.objects.get(external_id="main-vip")
    browser.get(f"{base}/admin/segments/segment/{vip.pk}/members/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#members tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "td:nth-child(2)").text for r in rows] == [
        "nc-0301",
        "nc-0302",
        "nc-0303",
    ]
    assert {r.find_element(By.CSS_SELECTOR, ".assignment-kind").text for r in rows} == {
        "inherited (group Wholesale)"
    }
    browser.find_element(By.ID, "member-search").send_keys("Schmidt302")
    click_and_wait(browser, (By.CSS_SELECTOR, ".workspace-search input[type=submit]"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#members tbody tr")) == 1
    status, theirs, _ = api.call("GET", "/segments?customerId=nc-0302&pageSize=100")
    assert "main-vip" in {s["id"] for s in theirs}
    shot(browser, "3-inherited-members")
    click_and_wait(browser, (By.CSS_SELECTOR, "#members a.member-why"))
    assert "Member" in browser.find_element(By.ID, "explain-verdict").text
    reasons = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#explain-reasons td")]
    status, explained, _ = api.call("GET", "/segments/main-vip/explain?customerId=nc-0302")
    assert status == 200 and explained["member"] is True
    assert [r["type"] for r in explained["reasons"]] == ["GROUP"] and "GROUP" in reasons
    assert "member of group Wholesale (wholesale), which is assigned to the segment" in reasons
    shot(browser, "4-why-inherited", 800)

    # 3. A customer's page: "why?" for each segment, and "why not in …" for any other.
    anna = Customer.objects.get(external_id="nc-0004")
    browser.get(f"{base}/admin/segments/customer/{anna.pk}/change/")
    listed = browser.find_element(By.CSS_SELECTOR, "ul.customer-segments").text.splitlines()
    status, theirs, _ = api.call("GET", "/segments?customerId=nc-0004&pageSize=100")
    assert len(listed) == len(theirs) and '"Big spenders" (big-spenders) rule why?' in listed
    pick(browser, "why-segment", "gold", "B2B gold")
    browser.execute_script("document.getElementById('customer-why').scrollIntoView()")
    shot(browser, "5-customer-why-not", 1200)
    click_and_wait(browser, (By.ID, "customer-why-submit"))
    assert "Not a member" in browser.find_element(By.ID, "explain-verdict").text
    status, explained, _ = api.call("GET", "/segments/b2b-gold/explain?customerId=nc-0004")
    assert status == 200 and explained["member"] is False

    # 4. "+" next to the legal-entity picker: a pop-up makes one, picked at once.
    browser.get(f"{base}/admin/segments/customer/{anna.pk}/change/")
    main = browser.current_window_handle
    browser.find_element(By.ID, "add_id_customerlegalentity_set-2-0-legal_entity").click()
    wait(browser, lambda d: len(d.window_handles) == 2)
    popup = next(h for h in browser.window_handles if h != main)
    browser.switch_to.window(popup)
    wait(browser, EC.presence_of_element_located((By.ID, "id_external_id"))).send_keys("anna-gmbh")
    browser.find_element(By.ID, "id_name").send_keys("Anna GmbH")
    shot(browser, "6-plus-legal-entity-popup", 700)
    browser.find_element(By.NAME, "_save").click()
    browser.switch_to.window(main)
    wait(browser, lambda d: len(d.window_handles) == 1)
    chosen = (By.ID, "select2-id_customerlegalentity_set-2-0-legal_entity-container")
    wait(browser, lambda d: "anna-gmbh" in d.find_element(*chosen).text)
    click_and_wait(browser, (By.NAME, "_continue"))
    status, body, _ = api.call("PUT", "/segments/b2b-gold/customers/nc-0004/anna-gmbh", {})
    assert status == 201, body  # she acts for it now: a B2B assignment is accepted

    # 5. History: a paste of 40 is one entry, opened to see whom it added.
    gold = Segment.objects.get(external_id="b2b-gold")
    browser.get(f"{base}/admin/segments/segment/{gold.pk}/members/paste/")
    browser.find_element(By.ID, "id_ids").send_keys(
        "\n".join(f"nc-{i:04d}" for i in range(100, 140))
    )
    click_and_wait(browser, (By.ID, "paste-preview-button"))
    click_and_wait(browser, (By.ID, "paste-confirm"))
    browser.get(f"{base}/admin/segments/segment/{gold.pk}/history/")
    whats = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#history .history-what")]
    assert whats[0] == "Customers added (40) in one write"
    assert whats[1].startswith("Customer added: ") and "for Anna GmbH (anna-gmbh)" in whats[1]
    browser.find_element(By.CSS_SELECTOR, "details.history-items summary").click()
    items = browser.find_elements(By.CSS_SELECTOR, "details.history-items tr")
    assert (
        items[0].text.startswith("Anna Schmidt100 (nc-0100)") and "… and 20 more" in items[-1].text
    )
    assert len(api.member_ids("b2b-gold")) == 41
    shot(browser, "7-history-bulk-entry", 1300)

    # 6. A group for a segment, made on the spot with "+": its members are in at once.
    browser.get(f"{base}/admin/segments/segment/{vip.pk}/members/")
    click_and_wait(browser, (By.ID, "segment-groups"))
    assert browser.find_element(By.TAG_NAME, "h1").text == 'Groups in "Main VIP" (main-vip)'
    click_and_wait(browser, (By.CSS_SELECTOR, ".object-tools a.addlink"))
    main = browser.current_window_handle
    browser.find_element(By.ID, "add_id_group").click()
    wait(browser, lambda d: len(d.window_handles) == 2)
    popup = next(h for h in browser.window_handles if h != main)
    browser.switch_to.window(popup)
    wait(browser, EC.presence_of_element_located((By.ID, "id_external_id"))).send_keys("club")
    browser.find_element(By.ID, "id_name_en").send_keys("Club")
    shot(browser, "8-plus-group-popup", 700)
    browser.find_element(By.NAME, "_save").click()
    browser.switch_to.window(main)
    wait(browser, lambda d: len(d.window_handles) == 1)
    wait(browser, lambda d: "club" in d.find_element(By.ID, "select2-id_group-container").text)
    shot(browser, "9-group-assignment-form", 700)
    click_and_wait(browser, (By.NAME, "_save"))
    assert 'Group Club (club) in "Main VIP" (main-vip) added.' in message(browser)
    status, groups, _ = api.call("GET", "/segments/main-vip/groups")
    assert status == 200 and {g["group"]["id"] for g in groups} == {"club", "wholesale"}

"""A merchandiser's session in a real headless Chromium, each change checked through the REST API.

Log in, create a segment with names in two languages, assign a customer and a category
through the autocompletes, find it by its German name, deactivate it with the list action
and export it as JSON; screenshots of the segment list and form go to `artifacts/`.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); skipped without.
Selenium is given both paths, so Selenium Manager never looks for (or downloads) anything.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from segments.models import Segment
from tenants.services import tenant_create
from tests.conftest import MANAGE, READ
from tests.factories import make_category, make_customer, make_product, make_segment

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
WAIT_SECONDS = 20
PASSWORD = "merchandiser-pw-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium "
        "chromium-driver)",
    ),
]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from tests.e2e.conftest import replaced  # noqa: E402


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a fresh profile, downloading into `tmp_path/downloads`."""
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager stays offline
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shop(transactional_db):
    """Tenant acme (en, de, fr) with a customer, a category, a product and some segments."""
    tenant = tenant_create(name="acme", default_language="en", languages=["en", "de", "fr"])
    make_customer(tenant, "ada", first_name="Ada", last_name="Lovelace", email="ada@example.com")
    make_customer(tenant, "bob", first_name="Bob", last_name="Builder", email="bob@example.com")
    tools = make_category(tenant, "tools", code="TOOLS", name={"en": "Tools", "de": "Werkzeuge"})
    make_product(tenant, "hammer", code="HAMMER", name={"en": "Hammer"}, categories=[tools])
    now = timezone.now()
    for i, (en, de, extra) in enumerate(
        [
            ("Gold members", "Goldmitglieder", {}),
            ("Silver members", "Silbermitglieder", {"site_code": "b2b"}),
            ("Summer preview", "Sommervorschau", {"valid_from": now + timedelta(days=30)}),
            ("Winter sale 2023", "Winterschlussverkauf 2023", {"status": "INACTIVE"}),
        ]
    ):
        make_segment(tenant, f"tier{i}", name={"en": en, "de": de}, **extra)
    get_user_model().objects.create_superuser("merch", "merch@example.com", PASSWORD)
    return tenant


class Api:
    """The REST API of the live server, with a manage + read token."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def get(self, path: str) -> tuple[int, dict | list | None]:
        request = urllib.request.Request(
            f"{self.base}/customer-segment/acme{path}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def api(live_server, shop, make_token) -> Api:
    return Api(live_server.url, make_token(shop, MANAGE, READ))


def wait(driver, condition, seconds: int = WAIT_SECONDS):
    return WebDriverWait(driver, seconds).until(condition)


def save_and_wait(driver, name: str = "_save") -> None:
    """Click a submit button and wait for the page it leads to."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.NAME, name).click()
    wait(driver, replaced(old))
    errors = driver.find_elements(By.CSS_SELECTOR, ".errornote, .errorlist")
    assert not errors, [e.text for e in errors]


def autocomplete(driver, field: str, term: str, expected: str) -> None:
    """Open the select2 autocomplete of `field`, type `term`, pick the result containing `expected`."""
    driver.find_element(
        By.CSS_SELECTOR,
        f"#id_{field} + .select2 .select2-selection, "
        f"select[name={field}] + .select2 .select2-selection",
    ).click()
    search = wait(
        driver, EC.visibility_of_element_located((By.CSS_SELECTOR, ".select2-search__field"))
    )
    search.send_keys(term)
    # select2 redraws its results as each typed letter's answer arrives, so an option found
    # a moment ago may be gone: find it and click it in one step, again until one holds.
    option = (
        By.XPATH,
        f"//li[contains(@class,'select2-results__option') and contains(., '{expected}')]",
    )
    WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: EC.element_to_be_clickable(option)(d)
        and (d.find_element(*option).click() or True)
    )
    wait(
        driver,
        lambda d: expected
        in d.find_element(By.CSS_SELECTOR, f"#select2-id_{field}-container").text,
    )


def run_action(driver, action: str, segment_ids: list[str]) -> None:
    """Tick the segments' rows in the list and run `action`."""
    for segment_id in segment_ids:
        row = driver.find_element(By.XPATH, f"//tr[.//a[normalize-space()='{segment_id}']]")
        row.find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(driver.find_element(By.NAME, "action")).select_by_value(action)
    driver.find_element(By.CSS_SELECTOR, "button[name=index]").click()


def downloaded(directory: Path, pattern: str) -> Path:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        done = [p for p in directory.glob(pattern) if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"nothing matching {pattern} was downloaded into {directory}")


def test_a_merchandiser_curates_a_segment_in_the_browser(browser, live_server, api):
    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url

    # Log in.
    browser.get(f"{base}/admin/login/?next=/admin/segments/segment/")
    browser.find_element(By.NAME, "username").send_keys("merch")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait(browser, EC.title_contains("Select segment to change"))

    # Create a segment with names in English and German (one tenant: no chooser).
    browser.find_element(By.CSS_SELECTOR, "a.addlink").click()
    wait(browser, EC.presence_of_element_located((By.ID, "id_name_en")))
    assert "Tenant acme" in browser.find_element(By.CSS_SELECTOR, ".tenant-banner").text
    browser.find_element(By.ID, "id_external_id").send_keys("spring")
    browser.find_element(By.ID, "id_site_code").send_keys("main")
    Select(browser.find_element(By.ID, "id_status")).select_by_value("ACTIVE")
    browser.find_element(By.ID, "id_name_en").send_keys("Spring sale")
    browser.find_element(By.ID, "id_name_de").send_keys("Frühjahrsaktion")
    browser.find_element(By.ID, "id_description_en").send_keys("Customers invited to the sale")
    browser.find_element(By.ID, "id_valid_from_0").send_keys("2024-03-01")
    browser.find_element(By.ID, "id_valid_from_1").send_keys("08:00:00")
    save_and_wait(browser, "_continue")

    status, segment = api.get("/segments/spring")
    assert status == 200
    assert segment["name"] == {"en": "Spring sale", "de": "Frühjahrsaktion"}
    assert segment["validity"] == {"from": "2024-03-01T08:00:00.000Z"}
    assert (segment["status"], segment["metadata"]["version"]) == ("ACTIVE", 1)

    # Assign a customer through the autocomplete, from the segment's "add customer" link.
    browser.find_element(By.LINK_TEXT, "add customer").click()
    wait(browser, EC.presence_of_element_located((By.ID, "id_customer")))
    autocomplete(browser, "customer", "Lovel", "ada")
    save_and_wait(browser)
    status, assignment = api.get("/segments/spring/customers/ada")
    assert status == 200
    assert assignment["assignmentType"] == "MANUAL"
    assert assignment["customer"]["email"] == "ada@example.com"

    # Assign a category the same way.
    segment_pk = Segment.objects.get(external_id="spring").pk
    browser.get(f"{base}/admin/segments/segment/{segment_pk}/change/")
    browser.find_element(By.LINK_TEXT, "add category").click()
    wait(browser, EC.presence_of_element_located((By.ID, "id_category")))
    autocomplete(browser, "category", "TOOL", "TOOLS")
    save_and_wait(browser)
    status, item = api.get("/segments/spring/items/CATEGORY/tools")
    assert status == 200
    assert item["item"] == {
        "id": "tools",
        "code": "TOOLS",
        "name": {"en": "Tools", "de": "Werkzeuge"},
    }

    # The form now links to both, with counts; keep a screenshot of it.
    browser.get(f"{base}/admin/segments/segment/{segment_pk}/change/")
    links = browser.find_element(By.CSS_SELECTOR, "ul.segment-assignments").text
    assert "1 customer" in links and "1 category" in links
    browser.set_window_size(1400, 1900)  # the whole form, validity widgets included
    browser.save_screenshot(str(ARTIFACTS / "admin-segment-form.png"))
    browser.set_window_size(1400, 1000)

    # Find it by its German name, and keep a screenshot of the list.
    browser.get(f"{base}/admin/segments/segment/")
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys("Frühjahr")
    old = browser.find_element(By.TAG_NAME, "html")
    search.submit()
    wait(browser, replaced(old))
    found = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody th a")]
    assert found == ["spring"]
    browser.get(f"{base}/admin/segments/segment/")
    browser.save_screenshot(str(ARTIFACTS / "admin-segment-list.png"))

    # Deactivate it with the list action.
    run_action(browser, "deactivate", ["spring"])
    message = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, ".messagelist")))
    assert '1 segment(s) set to inactive (of "Spring sale" (spring)).' in message.text
    status, segment = api.get("/segments/spring")
    assert (segment["status"], segment["metadata"]["version"]) == ("INACTIVE", 2)

    # Export it as JSON: the file holds what the API says, and its assignments.
    run_action(browser, "export_json", ["spring"])
    document = json.loads(downloaded(browser.downloads, "segments-acme-*.json").read_text())
    [record] = document["segments"]
    assert record["segment"] == segment
    assert [c["customer"]["id"] for c in record["customers"]] == ["ada"]
    assert [(i["type"], i["item"]["id"]) for i in record["items"]] == [("CATEGORY", "tools")]

"""The rule editor in a real headless Chromium: the live preview before saving, then the save.

A rule exists on segment `gold`; the merchandiser changes its q, the preview shows the new
count and the customers it would add and remove (nothing saved yet, checked in the
database), then saves and the members follow. Screenshot: artifacts/rule-editor.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from segments.models import CustomerAssignment, SegmentRule
from segments.services.rules import RuleInput, rule_upsert
from tenants.services import tenant_create
from tests.factories import make_customer, make_segment

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "merchandiser-pw-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver",
    ),
]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.e2e.conftest import replaced  # noqa: E402


def members() -> set[str]:
    return set(
        CustomerAssignment.objects.filter(segment__external_id="gold").values_list(
            "customer__external_id", flat=True
        )
    )


def test_the_rule_editor_previews_before_saving(live_server, chromium):
    tenant = tenant_create(name="acme", default_language="en", languages=["en"])
    make_customer(
        tenant, "ada", first_name="Ada", last_name="Lovelace", attributes={"tier": "gold"}
    )
    make_customer(
        tenant, "bob", first_name="Bob", last_name="Builder", attributes={"tier": "silver"}
    )
    make_customer(tenant, "cy", first_name="Cy", last_name="Young", attributes={"tier": "gold"})
    make_segment(tenant, "gold")
    rule_upsert(
        tenant=tenant,
        segment_id="gold",
        data=RuleInput(q="attributes.tier:gold", assign="B2C", enabled=True),
    )
    get_user_model().objects.create_superuser("merch", "merch@example.com", PASSWORD)
    rule = SegmentRule.objects.get()
    assert members() == {"ada", "cy"}
    ARTIFACTS.mkdir(exist_ok=True)
    browser = chromium
    wait = WebDriverWait(browser, 20)

    browser.get(
        f"{live_server.url}/admin/login/?next=/admin/segments/segmentrule/{rule.pk}/change/"
    )
    browser.find_element(By.NAME, "username").send_keys("merch")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "rule-preview")))
    # The stored rule is previewed on load: nothing would change.
    wait.until(EC.text_to_be_present_in_element((By.ID, "rule-preview-count"), "2"))
    assert browser.find_element(By.ID, "rule-preview-added").text == "0"

    q = browser.find_element(By.NAME, "q")
    q.clear()
    q.send_keys("attributes.tier:(gold, silver) firstName:~^[AB]")
    wait.until(EC.text_to_be_present_in_element((By.ID, "rule-preview-removed"), "1"))
    assert browser.find_element(By.ID, "rule-preview-count").text == "2"
    assert browser.find_element(By.ID, "rule-preview-added").text == "1"
    diff = browser.find_element(By.ID, "rule-preview-diff").text
    assert "+ add bob Bob Builder" in diff
    assert "remove cy Cy Young" in diff
    assert members() == {"ada", "cy"}  # a preview writes nothing
    browser.save_screenshot(str(ARTIFACTS / "rule-editor.png"))

    q.send_keys(" nope:1")
    wait.until(EC.text_to_be_present_in_element((By.ID, "rule-preview-status"), "Unknown field"))
    for _ in range(len(" nope:1")):
        q.send_keys("\b")
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.NAME, "_save").click()
    wait.until(replaced(old))
    assert not browser.find_elements(By.CSS_SELECTOR, ".errornote, .errorlist")
    assert members() == {"ada", "bob"}

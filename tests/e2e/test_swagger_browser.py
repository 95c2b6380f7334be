"""Swagger UI in headless Chromium: Authorize offers a ready bearer token next to OAuth2.

Pasting a token printed by `issue_token` and trying `GET /segments` answers 200, with the
tenant field already holding `demo`. A screenshot of the Authorize dialog goes to
`artifacts/swagger-authorize.png`.
"""

from __future__ import annotations

import pytest

from tenants.services import tenant_create
from tests.conftest import MANAGE, READ
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_authorize_with_a_ready_token_and_try_the_demo_tenant(chromium, live_server, make_token):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    demo = tenant_create(name="demo", default_language="en", languages=["en"])
    make_segment(demo, "gold", name={"en": "Gold"})
    token = make_token(demo, MANAGE, READ)

    def wait(condition):
        return WebDriverWait(chromium, 20).until(condition)

    chromium.get(f"{live_server.url}/api/docs/")
    wait(EC.element_to_be_clickable((By.CSS_SELECTOR, "button.authorize"))).click()
    dialog = wait(EC.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))
    text = dialog.text
    assert "BearerToken  (http, Bearer)" in text or "BearerToken (http, Bearer)" in text
    assert "OAuth2 (OAuth2, clientCredentials)" in text
    assert "issue_token" in text
    ARTIFACTS.mkdir(exist_ok=True)
    chromium.save_screenshot(str(ARTIFACTS / "swagger-authorize.png"))

    # The bearer section's value field, then its Authorize button.
    section = dialog.find_element(
        By.XPATH, ".//div[contains(@class,'auth-container')][.//h4[contains(., 'BearerToken')]]"
    )
    section.find_element(By.CSS_SELECTOR, "input").send_keys(token)
    section.find_element(By.CSS_SELECTOR, "button.authorize").click()
    wait(lambda d: "Authorized" in section.text)
    dialog.find_element(By.CSS_SELECTOR, "button.btn-done, button.close-modal").click()

    # GET /segments: "Try it out" shows the tenant as demo; Execute answers 200.
    block = chromium.find_element(
        By.XPATH,
        "//div[contains(@class,'opblock-get')]"
        "[.//*[@data-path='/customer-segment/{tenant}/segments']]",
    )
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait(lambda d: block.find_element(By.CSS_SELECTOR, "button.try-out__btn")).click()
    tenant_input = wait(
        lambda d: block.find_element(By.CSS_SELECTOR, "tr[data-param-name='tenant'] input")
    )
    assert tenant_input.get_attribute("value") == "demo"
    block.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait(
        lambda d: block.find_element(
            By.CSS_SELECTOR, ".live-responses-table tr.response td.response-col_status"
        )
    )
    assert status.text.strip().startswith("200")

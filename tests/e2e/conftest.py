"""Headless Chromium for the browser tests of the API (CORS, Swagger UI).

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); tests using
`chromium` are skipped without. Selenium is given both paths, so Selenium Manager never
looks for (or downloads) anything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"


def replaced(old):
    """A wait condition: the page holding element `old` has been replaced.

    Selenium's `staleness_of`, and the same for chromedriver's other answer when it asks
    about an element of a page that is going away: "Node with given id does not belong to
    the document", an error of its own rather than a stale element.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def check(driver) -> bool:
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in (error.msg or ""):
                return True
            raise
        return False

    return check


@pytest.fixture
def chromium(tmp_path):
    """Headless Chromium with a fresh profile; skips the test when Chromium is missing."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager stays offline
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
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()

"""CORS in a real browser: a page on one loopback origin calls the API on another with fetch.

The page is served by a tiny http.server on 127.0.0.1:<A>; the service runs under
pytest-django's live server on localhost:<B>, and allows only the page's origin. The page's
script sends a GET with `X-Total-Count: true` and reads the exposed response header, then
a PUT with `Content-Language: de` and a plain-string name; it writes what it saw into the
page, which the test reads. The same page served from an origin that is not allowed sees
every fetch fail. A screenshot goes to `artifacts/cors-browser.png`.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tenants.services import tenant_create
from tests.conftest import MANAGE, READ
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Storefront</title></head>
<body>
<h1>A storefront calling the Customer Segment Service</h1>
<pre id="result">running</pre>
<script>
const params = new URLSearchParams(location.search);
const api = params.get("api") + "/customer-segment/acme";
const auth = {Authorization: "Bearer " + params.get("token")};
const out = {origin: location.origin};
(async () => {
  try {
    const list = await fetch(api + "/segments?pageSize=1", {
      headers: {...auth, "X-Total-Count": "true", "Accept-Language": "de"},
    });
    out.get = {
      status: list.status,
      totalCount: list.headers.get("X-Total-Count"),
      requestId: list.headers.get("X-Request-ID"),
      body: await list.json(),
    };
  } catch (error) {
    out.get = {error: String(error)};
  }
  try {
    const put = await fetch(api + "/segments/spring", {
      method: "PUT",
      headers: {...auth, "Content-Type": "application/json", "Content-Language": "de"},
      body: JSON.stringify({name: "Fr\\u00fchjahrsaktion", siteCode: "main", status: "ACTIVE"}),
    });
    out.put = {status: put.status, body: await put.json()};
  } catch (error) {
    out.put = {error: String(error)};
  }
  document.getElementById("result").textContent = JSON.stringify(out, null, 1);
  document.title = "done";
})();
</script>
</body></html>
"""


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args) -> None:
        """Quiet: the test output is not the place for the page server's access log."""


@pytest.fixture
def page_port():
    """The storefront page's server on 127.0.0.1 (any free port); yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def shop(transactional_db):
    tenant = tenant_create(name="acme", default_language="en", languages=["en", "de"])
    make_segment(tenant, "gold", name={"en": "Gold", "de": "Gold"})
    make_segment(tenant, "silver", name={"en": "Silver", "de": "Silber"})
    return tenant


def run_page(driver, url: str) -> dict:
    """Load the page and return what its script wrote once both fetches are done."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.title == "done")
    return json.loads(driver.find_element("id", "result").text)


def api_get(base: str, token: str, path: str) -> dict:
    request = urllib.request.Request(
        f"{base}/customer-segment/acme{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_page_on_another_origin_reads_x_total_count_and_puts_a_german_name(
    chromium, live_server, shop, page_port, make_token, settings
):
    page_origin = f"http://127.0.0.1:{page_port}"
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = [page_origin]
    assert live_server.url.startswith("http://localhost:")  # another origin than the page's
    token = make_token(shop, MANAGE, READ)

    result = run_page(chromium, f"{page_origin}/?api={live_server.url}&token={token}")
    ARTIFACTS.mkdir(exist_ok=True)
    chromium.save_screenshot(str(ARTIFACTS / "cors-browser.png"))

    assert result["origin"] == page_origin
    assert result["get"]["status"] == 200
    assert result["get"]["totalCount"] == "2"
    assert len(result["get"]["requestId"]) == 32
    assert [s["id"] for s in result["get"]["body"]] == ["gold"]
    assert result["get"]["body"][0]["name"] == "Gold"  # Accept-Language: de, a plain string
    assert result["put"] == {"status": 201, "body": {"id": "spring"}}
    stored = api_get(live_server.url, token, "/segments/spring")
    assert stored["name"] == {"de": "Frühjahrsaktion"}


def test_a_page_on_an_origin_not_allowed_cannot_read_the_api(
    chromium, live_server, shop, page_port, make_token, settings
):
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = [f"http://127.0.0.1:{page_port}"]
    token = make_token(shop, MANAGE, READ)

    # The same page, served from localhost instead of 127.0.0.1: another origin.
    result = run_page(
        chromium, f"http://localhost:{page_port}/?api={live_server.url}&token={token}"
    )

    assert result["get"] == {"error": "TypeError: Failed to fetch"}
    assert result["put"] == {"error": "TypeError: Failed to fetch"}
    # The preflight was refused, so the PUT never reached the service.
    request = urllib.request.Request(
        f"{live_server.url}/customer-segment/acme/segments/spring",
        headers={"Authorization": f"Bearer {token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 404

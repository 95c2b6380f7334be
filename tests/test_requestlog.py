"""The request id and the one JSON log line per request, seen through HTTP."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest

from segmentservice.requestlog import RequestIdFilter
from tenants.services import api_client_create
from tests.conftest import MANAGE, READ

REQUEST_LOGGER = "segmentservice.request"


def request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == REQUEST_LOGGER]


def client_credentials_token(anon_client, tenant) -> tuple[str, str]:
    issued = api_client_create(tenant=tenant, scopes=f"{READ} {MANAGE}", name="storefront")
    response = anon_client.post(
        "/oauth/token",
        urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": issued.client.client_id,
                "client_secret": issued.client_secret,
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    return issued.client.client_id, response.json()["access_token"]


@pytest.mark.django_db
class TestRequestId:
    def test_a_sane_request_id_is_echoed(self, read_client):
        response = read_client.get(
            "/customer-segment/acme/segments", HTTP_X_REQUEST_ID="trace-42.a:b_c/d=e"
        )
        assert response.status_code == 200
        assert response["X-Request-ID"] == "trace-42.a:b_c/d=e"

    @pytest.mark.parametrize(
        "sent",
        ["", "x" * 129, "has space", 'quote"d', "new\tline", "é-unicode", "semi;colon"],
    )
    def test_an_insane_request_id_is_replaced_by_a_new_one(self, read_client, sent):
        response = read_client.get("/customer-segment/acme/segments", HTTP_X_REQUEST_ID=sent)
        assert response.status_code == 200
        assert response["X-Request-ID"] != sent
        assert len(response["X-Request-ID"]) == 32
        int(response["X-Request-ID"], 16)

    def test_without_one_each_response_gets_a_new_one(self, client):
        first = client.get("/healthz")["X-Request-ID"]
        second = client.get("/healthz")["X-Request-ID"]
        assert len(first) == len(second) == 32
        assert first != second

    def test_errors_carry_it_too(self, anon_client):
        unauthorized = anon_client.get("/customer-segment/acme/segments", HTTP_X_REQUEST_ID="r-1")
        not_found = anon_client.get("/no/such/path", HTTP_X_REQUEST_ID="r-2")
        assert (unauthorized.status_code, unauthorized["X-Request-ID"]) == (401, "r-1")
        assert (not_found.status_code, not_found["X-Request-ID"]) == (404, "r-2")


@pytest.mark.django_db
class TestRequestLogLine:
    def test_one_line_with_route_template_status_duration_tenant_and_client(
        self, caplog, anon_client, tenant, make_segment_via_api
    ):
        client_id, token = client_credentials_token(anon_client, tenant)
        make_segment_via_api(token, "gold")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
            response = anon_client.get(
                "/customer-segment/acme/segments/gold",
                HTTP_AUTHORIZATION=f"Bearer {token}",
                HTTP_X_REQUEST_ID="req-123",
            )
        assert response.status_code == 200
        [record] = request_lines(caplog)
        assert record.levelname == "INFO"
        assert (
            record.getMessage() == "GET customer-segment/<str:tenant>/segments/<str:segment_id> 200"
        )
        assert record.method == "GET"
        assert record.route == "customer-segment/<str:tenant>/segments/<str:segment_id>"
        assert record.status == 200
        assert isinstance(record.duration_ms, float) and record.duration_ms > 0
        assert record.db_queries >= 1
        assert record.tenant == "acme"
        assert record.client_id == client_id
        assert record.request_id == "req-123"

    def test_the_line_is_one_json_object_through_the_configured_formatter(
        self, caplog, read_client, settings
    ):
        with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
            read_client.get("/customer-segment/acme/segments?pageSize=1", HTTP_X_REQUEST_ID="r-9")
        [record] = request_lines(caplog)
        formatter = logging.config.DictConfigurator({}).configure_formatter(
            dict(settings.LOG_FORMATTER)
        )
        line = formatter.format(record)
        assert "\n" not in line
        body = json.loads(line)
        assert body["level"] == "INFO"
        assert body["logger"] == REQUEST_LOGGER
        assert body["message"] == "GET customer-segment/<str:tenant>/segments 200"
        assert {k: body[k] for k in ("method", "route", "status", "tenant", "request_id")} == {
            "method": "GET",
            "route": "customer-segment/<str:tenant>/segments",
            "status": 200,
            "tenant": "acme",
            "request_id": "r-9",
        }
        assert "pageSize" not in line  # the route template, never the raw path or query
        assert set(body) >= {"time", "duration_ms", "db_queries", "client_id"}

    def test_an_unknown_path_logs_no_route(self, caplog, anon_client):
        with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
            anon_client.get("/customer-segment/acme/nothing-here/c000123")
        [record] = request_lines(caplog)
        assert (record.route, record.status, record.tenant, record.client_id) == (
            None,
            404,
            None,
            None,
        )
        assert "c000123" not in record.getMessage()

    def test_every_line_logged_during_the_request_carries_its_id(self, caplog, anon_client):
        caplog.handler.addFilter(RequestIdFilter())
        with caplog.at_level(logging.INFO):
            anon_client.get("/no/such/path", HTTP_X_REQUEST_ID="during-1")
            logging.getLogger("after").warning("outside any request")
        by_logger = {record.name: record for record in caplog.records}
        # Django's own "Not Found" warning, logged in the middle of the request.
        assert by_logger["django.request"].request_id == "during-1"
        assert by_logger[REQUEST_LOGGER].request_id == "during-1"
        assert not hasattr(by_logger["after"], "request_id")

    def test_the_configured_handlers_carry_the_request_id_filter(self, settings):
        for handler in settings.LOGGING["handlers"].values():
            assert "request_id" in handler["filters"]
        assert settings.LOGGING["filters"]["request_id"]["()"] == (
            "segmentservice.requestlog.RequestIdFilter"
        )


@pytest.fixture
def make_segment_via_api(anon_client):
    def make(token: str, segment_id: str) -> None:
        response = anon_client.post(
            "/customer-segment/acme/segments",
            {"id": segment_id, "name": {"en": segment_id}, "siteCode": "main", "status": "ACTIVE"},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 201, response.content

    return make

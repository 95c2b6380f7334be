"""The API's JSON renderer writes what DRF's writes, byte for byte, faster."""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFRenderer

from segmentservice.api.renderers import JSONRenderer
from tests.conftest import READ

UTC = datetime.UTC
BERLIN = datetime.timezone(datetime.timedelta(hours=1))


@dataclass
class NotJSON:
    value: int


SAME = [
    {"id": "gold", "name": {"en": "Gold", "de": "Gold ü", "ja": "金"}, "n": [1, 2.5, None, True]},
    [{"a": "\u2028line\u2029para"}, "tab\tnew\nline\x00\x1f\x7f", '"quoted" \\ /'],
    {"at": datetime.datetime(2026, 12, 2, 15, 4, 5, tzinfo=UTC)},
    {"at": datetime.datetime(2026, 12, 2, 15, 4, 5, 120, tzinfo=UTC)},
    {"at": datetime.datetime(2026, 12, 2, 15, 4, 5, tzinfo=BERLIN)},
    {"at": datetime.datetime(2026, 12, 2, 15, 4, 5), "day": datetime.date(2026, 12, 2)},
    {"time": datetime.time(15, 4, 5, 7), "span": datetime.timedelta(hours=1)},
    {"price": decimal.Decimal("12.50"), "uuid": uuid.UUID(int=7), "bytes": b"raw"},
    {"lazy": gettext_lazy("Not found."), "tuple": (1, 2), "empty": {}, "list": []},
    {"big": 2**70, "negative": -(2**70)},  # past 64 bits: DRF's renderer writes them
    {1: "int key", None: "none key"},  # keys that are not strings: DRF's renderer
    {"deep": [[[[{"x": -0.0, "y": 1.5, "z": 1 / 3}]]]]},
]


@pytest.mark.parametrize("data", SAME)
def test_it_writes_what_drfs_renderer_writes(data):
    assert JSONRenderer().render(data) == DRFRenderer().render(data)


@pytest.mark.parametrize("media_type", ["application/json; indent=4", "application/json; indent=2"])
def test_an_indented_answer_is_drfs(media_type):
    data = {"id": "gold", "at": datetime.datetime(2026, 1, 1, tzinfo=UTC), "list": [1, "ü"]}
    rendered = JSONRenderer().render(data, media_type)
    assert rendered == DRFRenderer().render(data, media_type)
    assert b"\n" in rendered


def test_nothing_is_an_empty_body():
    assert JSONRenderer().render(None) == b""


def test_what_drf_cannot_write_fails_as_in_drf():
    with pytest.raises(TypeError):
        DRFRenderer().render({"x": NotJSON(1)})
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": NotJSON(1)})


@pytest.mark.django_db
def test_the_api_answers_through_it(tenant, anon_client, make_token):
    token = make_token(tenant, READ)
    body = {"id": "gold", "name": {"en": "Gold \u2028 ü 金"}, "siteCode": "main"}
    manage = make_token(tenant, "customersegment.segment_manage")
    created = anon_client.post(
        "/customer-segment/acme/segments",
        body,
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {manage}",
    )
    assert created.status_code == 201

    response = anon_client.get(
        "/customer-segment/acme/segments/gold", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert b'"name":{"en":"Gold \\u2028 \xc3\xbc \xe9\x87\x91"}' in response.content
    assert response.content == DRFRenderer().render(response.json())
    indented = anon_client.get(
        "/customer-segment/acme/segments/gold",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_ACCEPT="application/json; indent=2",
    )
    assert indented.content == DRFRenderer().render(response.json(), "application/json; indent=2")

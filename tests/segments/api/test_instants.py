"""Instants are rendered as ISO 8601 whatever their year (found by the fuzzer: year 107)."""

from __future__ import annotations

import pytest

URL = "/customer-segment/acme/segments"


@pytest.mark.parametrize(
    "instant",
    ["0107-07-20T01:36:51.630Z", "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"],
)
def test_a_validity_of_any_year_comes_back_as_it_was_given(admin_client_api, instant):
    body = {"name": {"en": "Old"}, "siteCode": "main", "validity": {"to": instant}}
    assert admin_client_api.put(f"{URL}/old", body, format="json").status_code == 201

    response = admin_client_api.get(f"{URL}/old")

    assert response.status_code == 200
    assert response.json()["validity"] == {"to": instant}

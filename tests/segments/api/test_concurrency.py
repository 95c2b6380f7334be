"""Racing writers on PostgreSQL: optimistic locking gives exactly one winner, no lost update."""

from __future__ import annotations

import json
import threading
from collections import Counter

from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from segments.models import Event, Segment
from tests.concurrency import POSTGRES_RACE, THREADS, race
from tests.conftest import MANAGE
from tests.factories import make_segment

pytestmark = POSTGRES_RACE
URL = "/customer-segment/acme/segments/gold"


def test_puts_carrying_the_same_version_have_exactly_one_winner(tenant, make_token):
    make_segment(tenant, "gold")

    def put(client, number):
        body = {"name": {"en": f"Writer {number}"}, "siteCode": "main", "metadata": {"version": 1}}
        return client.put(URL, body, format="json").status_code

    codes = race(make_token(tenant, MANAGE), put)
    assert Counter(codes) == {204: 1, 409: THREADS - 1}
    segment = Segment.objects.get()
    assert segment.version == 2
    assert Event.objects.count() == 1


def test_patches_carrying_the_same_version_have_exactly_one_winner(tenant, make_token):
    make_segment(tenant, "gold")

    def patch(client, number):
        body = [
            {"op": "test", "path": "/metadata/version", "value": 1},
            {"op": "replace", "path": "/name/en", "value": f"Writer {number}"},
        ]
        return client.patch(URL, json.dumps(body), content_type="application/json").status_code

    codes = race(make_token(tenant, MANAGE), patch)
    assert Counter(codes) == {204: 1, 409: THREADS - 1}
    assert Segment.objects.get().version == 2


def test_patches_without_a_version_are_serialized_and_none_is_lost(tenant, make_token):
    make_segment(tenant, "gold")

    def patch(client, number):
        body = {"mixins": {f"writer{number}": number}}
        return client.patch(URL, json.dumps(body), content_type="application/json").status_code

    codes = race(make_token(tenant, MANAGE), patch)
    assert codes == [204] * THREADS
    segment = Segment.objects.get()
    assert segment.mixins == {f"writer{n}": n for n in range(THREADS)}
    assert segment.version == THREADS + 1


def test_racing_upserts_of_a_new_id_create_it_once(tenant, make_token):
    def put(client, number):
        body = {"name": {"en": f"Writer {number}"}, "siteCode": "main"}
        return client.put(URL, body, format="json").status_code

    codes = race(make_token(tenant, MANAGE), put)
    assert Counter(codes) == {201: 1, 204: THREADS - 1}
    assert Segment.objects.get().version == THREADS


def test_racing_creates_of_one_id_give_one_201_and_409s(tenant, make_token):
    def post(client, number):
        body = {"id": "gold", "name": {"en": f"Writer {number}"}, "siteCode": "main"}
        return client.post("/customer-segment/acme/segments", body, format="json").status_code

    codes = race(make_token(tenant, MANAGE), post)
    assert Counter(codes) == {201: 1, 409: THREADS - 1}


def test_a_writer_waits_for_the_row_lock_then_sees_the_new_version(tenant, make_token):
    make_segment(tenant, "gold")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(tenant, MANAGE)}")
    outcome: dict = {}
    locked = threading.Event()

    def concurrent_writer():
        # Another transaction holds the row while it writes version 2.
        try:
            with transaction.atomic():
                row = Segment.objects.select_for_update().get(external_id="gold")
                locked.set()
                threading.Event().wait(0.5)
                row.version = 2
                row.save(update_fields=["version"])
        finally:
            connections.close_all()

    writer = threading.Thread(target=concurrent_writer)
    writer.start()
    locked.wait(10)
    body = {"name": {"en": "Late"}, "siteCode": "main", "metadata": {"version": 1}}
    outcome["code"] = client.put(URL, body, format="json").status_code
    writer.join(10)
    assert outcome["code"] == 409
    assert Segment.objects.get().name != {"en": "Late"}
    connection.close()

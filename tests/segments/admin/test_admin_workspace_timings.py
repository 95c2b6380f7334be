"""How long the workspace takes on large inputs: a member paste, and the overlap of three segments.

The suite runs the small sizes (500 ids; three 5,000-member segments). With
`ADMIN_TIMINGS=1` it runs the issue's sizes too (50,000 ids; three 50,000-member segments)
and every case writes its figures to `artifacts/admin-workspace-timings.txt`:

    ADMIN_TIMINGS=1 DATABASE_URL=postgres://... .venv/bin/python -m pytest -q -s \
        tests/segments/admin/test_admin_workspace_timings.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from segments.models import Customer, CustomerAssignment, Event
from segments.selectors.workspace import segments_overlap
from tests.factories import make_segment

LARGE = os.environ.get("ADMIN_TIMINGS") == "1"
OUT = Path(settings.BASE_DIR) / "artifacts" / "admin-workspace-timings.txt"


def record(line: str) -> None:
    print(line)
    if LARGE:
        OUT.parent.mkdir(exist_ok=True)
        with OUT.open("a") as out:
            out.write(f"{connection.vendor}: {line}\n")


def customers(tenant, n: int) -> list[Customer]:
    Customer.objects.bulk_create(
        (
            Customer(tenant=tenant, external_id=f"t{i:06d}", last_name=f"L{i}", email=f"{i}@x.io")
            for i in range(n)
        ),
        batch_size=5000,
    )
    return list(Customer.objects.filter(tenant=tenant).order_by("external_id"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "size",
    [
        500,
        pytest.param(50_000, marks=pytest.mark.skipif(not LARGE, reason="ADMIN_TIMINGS=1 runs it")),
    ],
)
def test_member_paste_time(su_client, tenant, size):
    segment = make_segment(tenant, "big", name={"en": "Big"})
    customers(tenant, size - 3)
    pasted = "\n".join([f"t{i:06d}" for i in range(size - 3)] + ["x1", "x2", "x3"])
    url = f"/admin/segments/segment/{segment.pk}/members/paste/"

    started = time.perf_counter()
    preview = su_client.post(url, {"ids": pasted, "mode": "add", "_preview": 1})
    previewed = time.perf_counter()
    saved = su_client.post(url, {"ids": pasted, "mode": "add", "_confirm": 1})
    done = time.perf_counter()

    assert preview.context["preview"]["unknown"] == ["x1", "x2", "x3"]
    assert saved.status_code == 302
    assert CustomerAssignment.objects.filter(segment=segment).count() == size - 3
    assert Event.objects.filter(resource_id__startswith="big/").count() == size - 3
    opened = time.perf_counter()
    history = su_client.get(f"/admin/segments/segment/{segment.pk}/history/")
    read = time.perf_counter() - opened
    assert history.context["entries"][0]["count"] == size - 3  # one entry for the paste
    record(
        f"paste of {size:,} ids ({size - 3:,} known): preview {previewed - started:.2f} s, "
        f"add {done - previewed:.2f} s; history page after it {read:.2f} s"
    )
    assert done - started < (5 if size <= 500 else 300)


@pytest.mark.django_db
def test_overlap_of_three_large_segments_time(su_client, tenant):
    size = 50_000 if LARGE else 5_000
    people = customers(tenant, 2 * size)
    segments = []
    for n, start in enumerate((0, size // 2, size // 4)):  # overlapping windows
        segment = make_segment(tenant, f"s{n}")
        CustomerAssignment.objects.bulk_create(
            (
                CustomerAssignment(tenant=tenant, segment=segment, customer=c)
                for c in people[start : start + size]
            ),
            batch_size=5000,
        )
        segments.append(segment)

    started = time.perf_counter()
    overlap = segments_overlap(tenant=tenant, segments=segments)
    query = time.perf_counter() - started
    started = time.perf_counter()
    page = su_client.get(
        "/admin/segments/segment/overlap/", {"ids": ",".join(str(s.pk) for s in segments)}
    )
    rendered = time.perf_counter() - started

    half, quarter = size // 2, size // 4
    assert overlap.sizes == [size, size, size]
    assert overlap.pairs == {(0, 1): half, (0, 2): size - quarter, (1, 2): size - quarter}
    assert overlap.all == half and overlap.union == size + half
    assert page.status_code == 200
    record(f"overlap of three {size:,}-member segments: query {query:.3f} s, page {rendered:.3f} s")
    assert query < (2 if size <= 5_000 else 10)

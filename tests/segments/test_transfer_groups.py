"""`export_segments` and `import_segments` carry group assignments (SPEC §11)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from segments.choices import EventType
from segments.models import Event, GroupAssignment
from tenants.services import tenant_create
from tests.factories import assign_group, make_group, make_segment


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def export(tenant: str) -> dict:
    out, _ = run("export_segments", "--tenant", tenant)
    return json.loads(out)


@pytest.fixture
def grouped(tenant):
    gold = make_segment(tenant, "gold", name={"en": "Gold"})
    make_segment(tenant, "plain", name={"en": "Plain"})
    assign_group(gold, make_group(tenant, "vip", name={"en": "VIP"}), mixins={"a": 1})
    assign_group(gold, make_group(tenant, "fans"))
    return tenant


@pytest.mark.django_db
class TestGroupTransfer:
    def test_the_export_lists_a_segments_groups_as_the_api_shows_them(self, grouped):
        records = {r["segment"]["id"]: r for r in export("acme")["segments"]}
        gold = records["gold"]["groups"]
        assert [(g["segmentId"], g["group"], g.get("mixins")) for g in gold] == [
            ("gold", {"id": "fans", "name": {}}, None),
            ("gold", {"id": "vip", "name": {"en": "VIP"}}, {"a": 1}),
        ]
        assert "groups" not in records["plain"]

    def test_round_trip_into_another_tenant_with_events(self, grouped, tmp_path):
        path = tmp_path / "segments.json"
        path.write_text(json.dumps(export("acme")))
        copy = tenant_create(name="copy", default_language="en", languages=["en"])
        make_group(copy, "vip", name={"en": "VIP"})
        make_group(copy, "fans")

        run("import_segments", "--tenant", "copy", str(path))

        rows = GroupAssignment.objects.filter(tenant=copy).order_by("group__external_id")
        assert [(r.segment.external_id, r.group.external_id, r.mixins) for r in rows] == [
            ("gold", "fans", {}),
            ("gold", "vip", {"a": 1}),
        ]
        assert (
            Event.objects.filter(tenant=copy, type=EventType.GROUP_ASSIGNMENT_CREATED).count() == 2
        )

    def test_a_group_the_target_lacks_skips_the_record_naming_it(self, grouped, tmp_path):
        path = tmp_path / "segments.json"
        path.write_text(json.dumps(export("acme")))
        tenant_create(name="copy", default_language="en", languages=["en"])
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command(
                "import_segments", "--tenant", "copy", str(path), "--no-progress",
                stdout=io.StringIO(), stderr=err,
            )  # fmt: skip
        assert "group assignment 1: The group with id fans does not exist." in err.getvalue()

"""`manage.py import_directory` reads groups (SPEC §11): members, userType, a legal entity."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from segments.choices import EventType
from segments.models import Event, Group, GroupAssignment
from tests.factories import assign_group, make_customer, make_legal_entity, make_segment

GROUPS = {
    "legalEntities": [{"id": "le1", "name": "Acme Corp"}],
    "customers": [{"id": "c1"}, {"id": "c2", "legalEntities": ["le1"]}],
    "groups": [
        {
            "id": "vip",
            "name": {"en": "VIP", "de": "VIP"},
            "userType": "CUSTOMER",
            "legalEntityId": None,
            "members": ["c1", "c2"],
        },
        {"id": "buyers", "name": "Buyers", "legalEntityId": "le1", "members": ["c2"]},
        {"id": "staff", "userType": "EMPLOYEE", "members": []},
    ],
}


def run(tmp_path, content, *, name="directory.json"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_directory", str(path), tenant="acme", stdout=out, stderr=err, no_progress=True
    )
    return out.getvalue(), err.getvalue()


def members(group_id: str) -> list[str]:
    group = Group.objects.get(external_id=group_id)
    return sorted(group.members.values_list("external_id", flat=True))


@pytest.mark.django_db
class TestGroups:
    def test_groups_with_members_user_type_and_legal_entity(self, tenant, tmp_path):
        out, _ = run(tmp_path, GROUPS)
        assert out == (
            "Imported into acme: 1 legal entity, 2 customers, 3 groups, 0 categories, "
            "0 products; 0 records skipped.\n"
        )
        vip = Group.objects.get(external_id="vip")
        assert (vip.name, vip.user_type, vip.legal_entity) == (
            {"en": "VIP", "de": "VIP"},
            "CUSTOMER",
            None,
        )
        assert members("vip") == ["c1", "c2"]
        buyers = Group.objects.get(external_id="buyers")
        assert (buyers.name, buyers.user_type, buyers.legal_entity.external_id) == (
            {"en": "Buyers"},
            "CUSTOMER",
            "le1",
        )
        assert Group.objects.get(external_id="staff").user_type == "EMPLOYEE"

    def test_a_second_import_replaces_members_and_leaves_out_keys_alone(self, tenant, tmp_path):
        run(tmp_path, GROUPS)
        run(
            tmp_path,
            {"groups": [{"id": "vip", "members": ["c2"]}, {"id": "buyers", "legalEntityId": None}]},
        )
        vip = Group.objects.get(external_id="vip")
        assert (vip.name, members("vip")) == ({"en": "VIP", "de": "VIP"}, ["c2"])
        buyers = Group.objects.get(external_id="buyers")
        assert (buyers.legal_entity, members("buyers")) == (None, ["c2"])

    def test_bad_groups_are_skipped_naming_the_group_and_the_problem(self, tenant, tmp_path):
        out, err = run(
            tmp_path,
            {
                "groups": [
                    {"id": "g1", "members": ["nobody"]},
                    {"id": "g2", "legalEntityId": "no-le"},
                    {"id": "g3", "userType": "ADMIN"},
                    {"id": "g4", "members": "c1"},
                    {"id": "ok"},
                ]
            },
        )
        assert err.splitlines() == [
            "Skipped groups[0] (id g1): members: unknown customer(s) nobody.",
            "Skipped groups[1] (id g2): legalEntityId: unknown legal entity no-le.",
            "Skipped groups[2] (id g3): userType must be CUSTOMER or EMPLOYEE, not 'ADMIN'.",
            "Skipped groups[3] (id g4): members must be an array of ids.",
        ]
        assert "1 group," in out
        assert list(Group.objects.values_list("external_id", flat=True)) == ["ok"]

    def test_json_lines_and_csv_read_groups(self, tenant, tmp_path):
        make_customer(tenant, "c1")
        make_customer(tenant, "c2")
        make_legal_entity(tenant, "le1")
        lines = "\n".join(
            json.dumps(record)
            for record in (
                {"type": "group", "id": "a", "members": ["c1"]},
                {"type": "group", "id": "b", "legalEntityId": "le1"},
            )
        )
        run(tmp_path, lines, name="d.jsonl")
        csv = "type,id,name.en,userType,legalEntityId,members\ngroup,c,Cee,CUSTOMER,,c1|c2\n"
        run(tmp_path, csv, name="d.csv")
        assert members("a") == ["c1"]
        assert Group.objects.get(external_id="b").legal_entity.external_id == "le1"
        c = Group.objects.get(external_id="c")
        assert (c.name, c.legal_entity, members("c")) == ({"en": "Cee"}, None, ["c1", "c2"])

    def test_a_group_turned_employee_loses_its_assignments_with_events(self, tenant, tmp_path):
        run(tmp_path, GROUPS)
        segment = make_segment(tenant, "seg1")
        assign_group(segment, Group.objects.get(external_id="vip"))
        assign_group(segment, Group.objects.get(external_id="buyers"))
        Event.objects.all().delete()

        run(tmp_path, {"groups": [{"id": "vip", "userType": "EMPLOYEE"}]})

        assert list(GroupAssignment.objects.values_list("group__external_id", flat=True)) == [
            "buyers"
        ]
        event = Event.objects.get()
        assert (event.type, event.resource_id) == (
            EventType.GROUP_ASSIGNMENT_DELETED,
            "seg1/groups/vip",
        )
        assert event.payload["group"] == {"id": "vip", "name": {"en": "VIP", "de": "VIP"}}

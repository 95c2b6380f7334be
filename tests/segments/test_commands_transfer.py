"""`export_segments`, `import_segments` and `seed_demo`: round trips, bad input, clear errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from segments.choices import AssignmentType, EventType
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    Event,
    Group,
    GroupAssignment,
    ItemAssignment,
    Product,
    Segment,
)
from tenants.services import tenant_create
from tests.conftest import READ
from tests.factories import (
    assign_category,
    assign_customer,
    assign_product,
    make_category,
    make_customer,
    make_legal_entity,
    make_product,
    make_segment,
)
from tests.schema import assert_matches


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def export(tenant: str, *args: str) -> dict:
    out, _ = run("export_segments", "--tenant", tenant, *args)
    return json.loads(out)


def without_server_metadata(document: dict) -> list:
    """The records with createdAt, modifiedAt and version taken out (they belong to the target)."""
    records = json.loads(json.dumps(document["segments"]))
    for record in records:
        for element in [record["segment"], *record["customers"], *record["items"]]:
            for key in ("createdAt", "modifiedAt", "version"):
                element["metadata"].pop(key)
    return records


def directory(tenant) -> None:
    """The same customers, legal entities, products and categories in any tenant."""
    company = make_legal_entity(tenant, "le1", name="ACME Ltd")
    make_customer(tenant, "ada", first_name="Ada", last_name="Lovelace", email="ada@example.com")
    make_customer(
        tenant,
        "bob",
        first_name="Bob",
        last_name="B",
        email="bob@example.com",
        legal_entities=[company],
    )
    make_product(tenant, "p1", code="P1", name={"en": "Hammer"})
    make_category(tenant, "tools", code="TOOLS", name={"en": "Tools"})


@pytest.fixture
def filled(tenant):
    """acme with two segments and every kind of assignment."""
    directory(tenant)
    gold = make_segment(
        tenant,
        "gold",
        name={"en": "Gold", "de": "Gold"},
        description={"en": "Best"},
        mixins={"tier": {"level": 3}},
        metadata_mixins={"tier": "https://example.com/tier.json"},
    )
    make_segment(tenant, "empty", name={"en": "Empty"}, status="INACTIVE", site_code="b2b")
    ada = Customer.objects.get(tenant=tenant, external_id="ada")
    bob = Customer.objects.get(tenant=tenant, external_id="bob")
    assign_customer(gold, ada, mixins={"source": "crm"})
    assign_customer(gold, bob, bob.legal_entities.get(), assignment_type=AssignmentType.AUTOMATIC)
    assign_product(gold, Product.objects.get(tenant=tenant, external_id="p1"))
    assign_category(gold, Category.objects.get(tenant=tenant, external_id="tools"))
    return tenant


@pytest.mark.django_db
class TestExport:
    def test_writes_the_apis_shapes(self, filled):
        document = export("acme")

        assert (document["format"], document["tenant"]) == ("customer-segments/v1", "acme")
        assert [r["segment"]["id"] for r in document["segments"]] == ["empty", "gold"]
        gold = document["segments"][1]
        assert_matches(gold["segment"], "SegmentResponse")
        for element in gold["customers"]:
            assert_matches(element, "CustomerAssignmentResponse")
        for element in gold["items"]:
            assert_matches(element, "ItemAssignmentResponse")
        assert [(c["customer"]["id"], c["assignmentType"]) for c in gold["customers"]] == [
            ("ada", "MANUAL"),
            ("bob", "AUTOMATIC"),
        ]
        assert gold["customers"][1]["legalEntity"] == {"id": "le1", "name": "ACME Ltd"}
        assert [(i["type"], i["item"]["id"]) for i in gold["items"]] == [
            ("CATEGORY", "tools"),
            ("PRODUCT", "p1"),
        ]

    def test_only_the_named_segments(self, filled):
        document = export("acme", "--segment", "gold")

        assert [r["segment"]["id"] for r in document["segments"]] == ["gold"]

    def test_to_a_file_reporting_what_it_wrote(self, filled, tmp_path):
        target = tmp_path / "out.json"

        out, _ = run("export_segments", "--tenant", "acme", "--output", str(target))

        assert json.loads(target.read_text())["tenant"] == "acme"
        assert out == (
            f"Exported 2 segment(s) of tenant acme with 2 customer and 2 item assignment(s) "
            f"to {target}.\n"
        )

    def test_the_outcome_goes_to_stderr_when_the_document_goes_to_stdout(self, filled):
        _, err = run("export_segments", "--tenant", "acme")

        assert err.startswith("Exported 2 segment(s)")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--tenant", "nope"], "Tenant 'nope' does not exist."),
            (["--tenant", "Bad!"], "is not a valid tenant name"),
            (["--tenant", "acme", "--segment", "missing"], "No segment with id missing"),
            (["--tenant", "acme", "--output", "/nonexistent/dir/x.json"], "Cannot write"),
        ],
    )
    def test_clear_errors(self, filled, args, message):
        with pytest.raises(CommandError, match=message):
            run("export_segments", *args)

    def test_queries_do_not_grow_with_assignments(self, filled, django_assert_max_num_queries):
        gold = Segment.objects.get(external_id="gold")
        for _ in range(30):
            assign_customer(gold, make_customer(filled))
        with django_assert_max_num_queries(8):
            export("acme")


@pytest.mark.django_db
class TestImport:
    def write(self, tmp_path: Path, document) -> str:
        path = tmp_path / "segments.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return str(path)

    def test_round_trip_into_another_tenant(self, filled, tmp_path):
        original = export("acme")
        copy = tenant_create(name="copy", default_language="en", languages=["en", "de", "fr"])
        directory(copy)

        out, _ = run("import_segments", "--tenant", "copy", self.write(tmp_path, original))

        assert out == (
            "Imported 2 segment(s) into tenant copy (2 created, 0 updated) with 2 customer "
            "and 2 item assignment(s); 0 skipped.\n"
        )
        assert without_server_metadata(export("copy")) == without_server_metadata(original)

    def test_importing_twice_changes_only_versions(self, filled, tmp_path):
        original = export("acme")
        path = self.write(tmp_path, original)

        out, _ = run("import_segments", "--tenant", "acme", path)
        again = export("acme")

        assert "(0 created, 2 updated)" in out
        assert without_server_metadata(again) == without_server_metadata(original)
        assert again["segments"][1]["segment"]["metadata"]["version"] == 2
        assert Segment.objects.count() == 2
        assert CustomerAssignment.objects.count() == 2 and ItemAssignment.objects.count() == 2

    def test_writes_through_the_services_recording_events(self, filled, tmp_path):
        path = self.write(tmp_path, export("acme"))
        copy = tenant_create(name="copy", default_language="en", languages=["en", "de"])
        directory(copy)

        run("import_segments", "--tenant", "copy", path)

        types = sorted(Event.objects.filter(tenant=copy).values_list("type", flat=True))
        assert types.count(EventType.SEGMENT_CREATED) == 2
        assert types.count(EventType.CUSTOMER_ASSIGNMENT_CREATED) == 2
        assert types.count(EventType.ITEM_ASSIGNMENT_CREATED) == 2

    def test_a_plain_list_of_segments_imports(self, tenant, tmp_path):
        documents = [{"id": "a", "name": {"en": "A"}, "siteCode": "main", "status": "ACTIVE"}]

        run("import_segments", "--tenant", "acme", self.write(tmp_path, documents))

        assert Segment.objects.get().external_id == "a"

    def test_a_bad_record_is_skipped_whole_and_reported(self, filled, tmp_path):
        document = export("acme")
        document["segments"][1]["segment"]["id"] = "gold2"
        document["segments"][1]["customers"][0]["customer"]["id"] = "ghost"
        document["segments"][0]["segment"]["id"] = "empty2"
        out, err = io.StringIO(), io.StringIO()

        with pytest.raises(CommandError, match="1 record"):
            call_command(
                "import_segments",
                "--tenant",
                "acme",
                self.write(tmp_path, document),
                "--no-progress",
                stdout=out,
                stderr=err,
            )

        assert err.getvalue() == (
            "Skipped record 2 (segment gold2): customer assignment 1: "
            "The customer with id ghost does not exist.\n"
        )
        assert "1 segment(s)" in out.getvalue() and "1 skipped" in out.getvalue()
        assert Segment.objects.filter(external_id="empty2").exists()
        assert not Segment.objects.filter(external_id="gold2").exists()  # never half-written

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ("{nope", r"is not valid JSON: Expecting property name .* at line 1, column 2\."),
            ('{"other": 1}', r'Expected \{"segments": \[\.\.\.\]\}'),
            ('{"format": "v9", "segments": []}', "Unknown format 'v9'"),
            ("\udcff", "is not UTF-8 text"),
        ],
    )
    def test_bad_files_get_a_clear_message(self, tenant, tmp_path, content, message):
        path = tmp_path / "bad.json"
        path.write_bytes(content.encode("utf-8", "surrogateescape"))

        with pytest.raises(CommandError, match=message):
            run("import_segments", "--tenant", "acme", str(path))

    @pytest.mark.parametrize(
        ("record", "message"),
        [
            ("text", "A record must be a JSON object."),
            ({"segment": {"name": {"en": "x"}}}, "A segment needs an id."),
            ({"segment": {"id": "x"}, "extra": 1}, "Unknown record field(s): extra."),
            (
                {"id": "x", "name": {"xx": "X"}, "siteCode": "main"},
                "language(s) xx not allowed",
            ),
            (
                {"segment": {"id": "x", "name": {"en": "X"}, "siteCode": "m"}, "items": [{}]},
                "item assignment 1: type must be PRODUCT or CATEGORY.",
            ),
            ({"id": "x", "name": {"en": "X"}, "siteCode": "m", "tier": 1}, "tier"),
            ({"id": "x", "name": {"en": "X"}}, "siteCode"),
            ({"id": "x", "name": {"en": "X"}, "siteCode": 5}, "siteCode"),
            ({"id": "x", "name": {"en": "X"}, "siteCode": "m" * 65}, "siteCode"),
            ({"id": "x", "name": 5, "siteCode": "m"}, "name"),
            ({"id": "x", "siteCode": "m"}, "name"),
            ({"id": "x", "name": {"en": "X"}, "siteCode": "m", "mixins": []}, "mixins"),
            ({"id": "x", "name": {"en": "X"}, "siteCode": "m", "status": "GONE"}, "status"),
            ({"id": "x", "name": {"en": "X"}, "siteCode": "m", "validity": 1}, "validity"),
            (
                {"id": "x", "name": {"en": "X"}, "siteCode": "m", "validity": {"from": "soon"}},
                "validity.from",
            ),
            (
                {
                    "id": "x",
                    "name": {"en": "X"},
                    "siteCode": "m",
                    "validity": {"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
                },
                "from",
            ),
            (
                {"id": "x", "name": {"en": "X"}, "siteCode": "m", "metadata": {"mixins": []}},
                "metadata.mixins",
            ),
            ({"id": "x/y", "name": {"en": "X"}, "siteCode": "m"}, "must not contain"),
        ],
    )
    def test_bad_records_name_the_problem(self, tenant, tmp_path, record, message):
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command(
                "import_segments",
                "--tenant",
                "acme",
                self.write(tmp_path, [record]),
                "--no-progress",
                stdout=io.StringIO(),
                stderr=err,
            )

        assert message in err.getvalue()
        assert not Segment.objects.exists()

    def test_missing_file_and_unknown_tenant(self, tenant, tmp_path):
        with pytest.raises(CommandError, match=r"No such file: /nonexistent\.json\."):
            run("import_segments", "--tenant", "acme", "/nonexistent.json")
        with pytest.raises(CommandError, match=r"Tenant 'nope' does not exist\."):
            run("import_segments", "--tenant", "nope", self.write(tmp_path, []))


def manage(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite:///:memory:"}
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["import_segments", "--tenant", "acme", "/nonexistent.json"], 1, "No such file"),
        (["import_segments", "/x.json"], 2, "the following arguments are required: --tenant"),
        (["export_segments"], 2, "the following arguments are required: --tenant"),
        (["seed_demo", "--segments", "many"], 2, "invalid int value: 'many'"),
    ],
)
def test_wrong_arguments_exit_non_zero_without_a_traceback(args, code, message):
    result = manage(*args)

    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
class TestSeedDemo:
    def test_seeds_through_the_services_and_prints_a_working_token(self, anon_client):
        out, _ = run(
            "seed_demo",
            "--tenant",
            "demo",
            "--segments",
            "6",
            "--customers",
            "30",
            "--products",
            "20",
        )

        lines = out.splitlines()
        assert lines[0].startswith("Seeded tenant demo: 6 segments, 30 customers, 60 legal")
        assert "  Admin:      http://127.0.0.1:8000/admin/segments/segment/?tenant=demo" in lines
        token = lines[-1].removeprefix("Token (manage + read, 24 h): ")
        assert Segment.objects.filter(tenant_id="demo").count() == 6
        assert ItemAssignment.objects.filter(tenant_id="demo").count() == 30
        assert CustomerAssignment.objects.filter(tenant_id="demo").count() >= 30
        assert Event.objects.filter(type=EventType.SEGMENT_CREATED).count() == 6
        # Two groups assigned through the service, with events; the EMPLOYEE one is not.
        assert lines[0].endswith(", 3 groups, 2 group assignments.")
        assert sorted(
            GroupAssignment.objects.filter(tenant_id="demo").values_list(
                "group__external_id", "segment__external_id"
            )
        ) == [("company-buyers", "seg0005"), ("vip-club", "seg0000")]
        assert Event.objects.filter(type=EventType.GROUP_ASSIGNMENT_CREATED).count() == 2
        buyers = Group.objects.get(tenant_id="demo", external_id="company-buyers")
        assert buyers.legal_entity is not None and buyers.members.exists()
        assert all(
            buyers.legal_entity in member.legal_entities.all() for member in buyers.members.all()
        )
        response = anon_client.get(
            "/customer-segment/demo/segments/seg0001", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 200
        assert response.json()["name"]["de"].startswith("Silber")

    def test_a_second_run_only_prints_a_token(self):
        run("seed_demo", "--segments", "2", "--customers", "3", "--products", "3")

        out, _ = run("seed_demo", "--base-url", "http://example.com:9000/")

        assert out.startswith("Tenant demo already has demo data.\n")
        assert "http://example.com:9000/customer-segment/demo/segments" in out
        assert Segment.objects.count() == 2

    def test_refuses_zero(self):
        with pytest.raises(CommandError, match=r"--segments must be at least 1\."):
            run("seed_demo", "--segments", "0")

    def test_read_scope_token_works(self, make_client):
        run("seed_demo", "--segments", "1", "--customers", "1", "--products", "1")
        assert make_client("demo", READ).get("/customer-segment/demo/segments/seg0000").json()[
            "siteCode"
        ] in ("main", "b2b")

"""`manage.py import_directory`: JSON, JSON Lines and CSV, upserts, bad records, the tree."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from segments.models import Category, Customer, LegalEntity, Product
from tests.factories import make_category, make_product

DOCUMENT = {
    "legalEntities": [{"id": "le1", "name": "Acme Corp"}, {"id": "le2", "name": "Globex"}],
    "customers": [
        {
            "id": "c1",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@example.com",
            "legalEntities": ["le1", "le2"],
            "attributes": {"tier": "gold"},
        },
        {"id": "c2", "firstName": "Alan"},
    ],
    "categories": [
        # Children before their parents: the import orders them.
        {
            "id": "sledges",
            "code": "345",
            "name": {"en": "Sledgehammers"},
            "parentId": "hammers",
            "position": 2,
        },
        {
            "id": "hammers",
            "code": "234",
            "name": {"en": "Hammer", "de": "Hammer"},
            "description": {"en": "Hammers of all kinds"},
            "slug": {"en": "hammer"},
            "ecn": ["E1", "E2"],
            "parentId": "tools",
            "position": 1,
            "published": False,
            "validity": {"from": "2024-04-17T08:00:00.000Z", "to": "2026-04-17T08:00:00Z"},
        },
        {"id": "tools", "code": "123", "name": "Tools", "parentId": None},
    ],
    "products": [
        {"id": "p1", "code": "P-1", "name": {"en": "Claw hammer"}, "categories": ["hammers"]},
        {"id": "p2", "code": "P-2", "name": "Sledge", "categories": ["sledges", "tools"]},
    ],
}


def run(tmp_path, content, *, name="directory.json", tenant="acme", **options):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_directory", str(path), tenant=tenant, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
class TestJsonDocument:
    def test_imports_every_kind_with_references(self, tenant, tmp_path):
        out, err = run(tmp_path, DOCUMENT)
        assert out == (
            "Imported into acme: 2 legal entities, 2 customers, 3 categories, 2 products; "
            "0 records skipped.\n"
        )
        assert "Importing" in err  # the progress bar
        ada = Customer.objects.get(external_id="c1")
        assert (ada.first_name, ada.last_name, ada.email, ada.attributes) == (
            "Ada",
            "Lovelace",
            "ada@example.com",
            {"tier": "gold"},
        )
        assert sorted(ada.legal_entities.values_list("external_id", flat=True)) == ["le1", "le2"]
        hammers = Category.objects.get(external_id="hammers")
        assert hammers.parent.external_id == "tools"
        assert Category.objects.get(external_id="sledges").parent == hammers
        assert Category.objects.get(external_id="tools").parent is None
        assert (hammers.ecn, hammers.position, hammers.published) == (["E1", "E2"], 1, False)
        assert hammers.slug == {"en": "hammer"}
        assert hammers.valid_from.isoformat() == "2024-04-17T08:00:00+00:00"
        # A plain string is a text in the tenant's default language.
        assert Category.objects.get(external_id="tools").name == {"en": "Tools"}
        p2 = Product.objects.get(external_id="p2")
        assert p2.name == {"en": "Sledge"}
        assert sorted(p2.categories.values_list("external_id", flat=True)) == [
            "sledges",
            "tools",
        ]

    def test_a_second_import_updates_and_leaves_out_keys_alone(self, tenant, tmp_path):
        run(tmp_path, DOCUMENT)
        run(
            tmp_path,
            {
                "products": [
                    {"id": "p1", "code": "P-1b"},
                    {"id": "p2", "categories": []},
                    {"id": "p3", "categories": ["tools"]},
                ],
                "customers": [{"id": "c1", "legalEntities": ["le2"]}],
            },
        )
        p1 = Product.objects.get(external_id="p1")
        assert (p1.code, p1.name) == ("P-1b", {"en": "Claw hammer"})
        assert list(p1.categories.values_list("external_id", flat=True)) == ["hammers"]
        assert not Product.objects.get(external_id="p2").categories.exists()
        assert Product.objects.get(external_id="p3").code == ""
        ada = Customer.objects.get(external_id="c1")
        assert ada.email == "ada@example.com"
        assert list(ada.legal_entities.values_list("external_id", flat=True)) == ["le2"]
        assert Product.objects.count() == 3

    def test_a_later_record_of_the_same_id_wins(self, tenant, tmp_path):
        out, _ = run(
            tmp_path, {"products": [{"id": "p", "code": "first"}, {"id": "p", "code": "second"}]}
        )
        assert Product.objects.get().code == "second"
        assert "1 product;" in out

    def test_bad_records_are_reported_with_their_position_and_skipped(self, tenant, tmp_path):
        document = {
            "legalEntities": [{"name": "no id"}],
            "customers": [
                {"id": "c1", "legalEntities": ["nope"]},
                {"id": "c2", "email": 5},
            ],
            "categories": [
                {"id": "a", "parentId": "b"},
                {"id": "b", "parentId": "a"},
                {"id": "under-a", "parentId": "a"},
                {"id": "orphan", "parentId": "missing"},
                {
                    "id": "v",
                    "validity": {"from": "2025-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"},
                },
                {"id": "ok"},
            ],
            "products": [
                {"id": "p1", "categories": ["ok", "ghost"]},
                {"id": "p2", "name": ["x"]},
                "not an object",
                {"id": "p4", "categories": ["ok"]},
            ],
        }
        out, err = run(tmp_path, document)
        skipped = [line for line in err.splitlines() if line.startswith("Skipped")]
        assert skipped == [
            "Skipped legalEntities[0]: id must be a non-empty string.",
            "Skipped customers[0] (id c1): legalEntities: unknown legal entit(ies) nope.",
            "Skipped customers[1] (id c2): email must be a string.",
            "Skipped categories[0] (id a): its parent b was skipped.",
            "Skipped categories[1] (id b): parentId makes a cycle: b → a → b.",
            "Skipped categories[2] (id under-a): its parent a was skipped.",
            "Skipped categories[3] (id orphan): parentId missing is not a category of this file "
            "or of the tenant.",
            "Skipped categories[4] (id v): validity.from must be before validity.to.",
            "Skipped products[0] (id p1): categories: unknown categor(ies) ghost.",
            "Skipped products[1] (id p2): name must be a map of language to text, or a text.",
            "Skipped products[2]: a record must be an object.",
        ]
        assert out.endswith(
            "0 legal entities, 0 customers, 1 category, 1 product; 11 records skipped.\n"
        )
        # Never half-written: the product with a bad category has no row at all.
        assert list(Product.objects.values_list("external_id", flat=True)) == ["p4"]
        assert list(Category.objects.values_list("external_id", flat=True)) == ["ok"]

    def test_the_tree_may_hang_from_stored_categories_and_cycles_through_them_are_refused(
        self, tenant, tmp_path
    ):
        root = make_category(tenant, "root")
        make_category(tenant, "child", parent=root)
        _, err = run(
            tmp_path,
            {
                "categories": [
                    {"id": "new", "parentId": "child"},
                    {"id": "root", "parentId": "new"},
                ]
            },
        )
        assert (
            "Skipped categories[1] (id root): parentId makes a cycle: root → new → child → root."
            in err
        )
        # root is stored, so "new" still hangs under child; root keeps its place.
        assert Category.objects.get(external_id="new").parent.external_id == "child"
        assert Category.objects.get(external_id="root").parent is None

    def test_a_skipped_parent_that_is_stored_still_holds_its_children(self, tenant, tmp_path):
        make_category(tenant, "stored")
        _, err = run(
            tmp_path,
            {
                "categories": [
                    {"id": "stored", "position": "x"},
                    {"id": "kid", "parentId": "stored"},
                ]
            },
        )
        assert "Skipped categories[0] (id stored): position must be a whole number." in err
        assert Category.objects.get(external_id="kid").parent.external_id == "stored"

    def test_text_no_database_can_hold_is_a_bad_record(self, tenant, tmp_path):
        _, err = run(tmp_path, '{"products": [{"id": "p", "name": {"en": "a\\u0000b"}}]}')
        assert (
            "Skipped products[0] (id p): it contains a NUL character (\\u0000), "
            "which no field accepts." in err
        )
        assert not Product.objects.exists()

    def test_a_batch_the_database_refuses_is_retried_record_by_record(
        self, tenant, tmp_path, monkeypatch
    ):
        from django.db import DataError

        from segments.services.directory import writer

        original = writer._write_rows

        def refuse_p2(tenant, kind, rows):
            original(tenant, kind, rows)
            if any(row.external_id == "p2" for row in rows):
                raise DataError("value too long")

        monkeypatch.setattr(writer, "_write_rows", refuse_p2)
        make_category(tenant, "c")
        document = {"products": [{"id": f"p{n}", "categories": ["c"]} for n in range(1, 4)]}
        out, err = run(tmp_path, document)
        assert "Skipped products[1] (id p2): the database refused it: value too long" in err
        assert out.endswith("2 products; 1 record skipped.\n")
        # Nothing of p2 stays: its row and its membership were rolled back together.
        assert sorted(Product.objects.values_list("external_id", flat=True)) == ["p1", "p3"]
        assert Category.objects.get().products.count() == 2

    def test_unknown_keys_are_ignored_and_counted(self, tenant, tmp_path):
        _, err = run(tmp_path, {"products": [{"id": "p", "price": 3}, {"id": "q", "price": 4}]})
        assert "Ignored the unknown key products.price in 2 record(s)." in err
        assert Product.objects.count() == 2

    def test_small_batches_give_the_same_result(self, tenant, tmp_path):
        run(tmp_path, DOCUMENT, batch_size=1)
        assert Product.objects.get(external_id="p2").categories.count() == 2
        assert Category.objects.get(external_id="sledges").parent.external_id == "hammers"

    def test_other_tenants_are_untouched(self, tenant, other_tenant, tmp_path):
        theirs = make_product(other_tenant, "p1", code="THEIRS")
        run(tmp_path, DOCUMENT)
        theirs.refresh_from_db()
        assert theirs.code == "THEIRS"
        assert Product.objects.filter(tenant=tenant).count() == 2

    @pytest.mark.parametrize("size", [10, 1000])
    def test_a_batch_costs_a_fixed_number_of_queries(
        self, tenant, tmp_path, size, django_assert_max_num_queries
    ):
        make_category(tenant, "c")
        document = {"products": [{"id": f"p{n}", "categories": ["c"]} for n in range(size)]}
        path = tmp_path / "d.json"
        path.write_text(json.dumps(document))
        # tenant, stored categories, references, upsert, delete and insert memberships,
        # savepoints; SQLite splits the statements of a 1000-record batch into a few.
        with django_assert_max_num_queries(18):
            call_command(
                "import_directory",
                str(path),
                tenant="acme",
                no_progress=True,
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )
        assert Product.objects.count() == size


@pytest.mark.django_db
class TestOtherFormats:
    def test_json_lines(self, tenant, tmp_path):
        lines = [
            {"type": "legalEntity", "id": "le1", "name": "Acme"},
            {"type": "customer", "id": "c1", "legalEntities": ["le1"]},
            {"type": "category", "id": "tools"},
            {"type": "product", "id": "p1", "categories": ["tools"]},
            {"type": "planet", "id": "x"},
        ]
        content = "\n".join(json.dumps(line) for line in lines) + "\n\n{broken\n"
        out, err = run(tmp_path, content, name="d.jsonl")
        assert out.endswith(
            "1 legal entity, 1 customer, 1 category, 1 product; 2 records skipped.\n"
        )
        assert (
            "Skipped line 5: type must be legalEntity, customer, group, category or product" in err
        )
        assert "Skipped line 7: not JSON" in err
        assert Customer.objects.get().legal_entities.get().external_id == "le1"

    def test_csv(self, tenant, tmp_path):
        content = (
            "type,id,code,name.en,name.de,parentId,position,published,categories\n"
            "category,tools,T,Tools,Werkzeug,,0,true,\n"
            "category,hammers,H,Hammers,,tools,1,false,\n"
            "product,p1,P1,Hammer,,,,,hammers|tools\n"
        )
        out, _ = run(tmp_path, content, name="d.csv")
        assert "2 categories, 1 product; 0 records skipped" in out
        tools = Category.objects.get(external_id="tools")
        assert (tools.name, tools.parent, tools.published) == (
            {"en": "Tools", "de": "Werkzeug"},
            None,
            True,
        )
        hammers = Category.objects.get(external_id="hammers")
        assert (hammers.parent, hammers.position, hammers.published) == (tools, 1, False)
        assert sorted(Product.objects.get().categories.values_list("external_id", flat=True)) == [
            "hammers",
            "tools",
        ]
        assert LegalEntity.objects.count() == 0


@pytest.mark.django_db
class TestMistakes:
    def test_missing_file(self, tenant, tmp_path):
        with pytest.raises(CommandError, match="does not exist"):
            call_command("import_directory", str(tmp_path / "nope.json"), tenant="acme")

    def test_malformed_json_names_the_place(self, tenant, tmp_path):
        with pytest.raises(CommandError, match=r"Not a JSON document: .* at line 1, column"):
            run(tmp_path, '{"products": [')

    @pytest.mark.parametrize(
        ("content", "problem"),
        [
            ("[]", "must be an object"),
            ('{"product": []}', "Unknown section"),
            ('{"products": {}}', "products must be an array"),
        ],
    )
    def test_a_document_of_the_wrong_shape(self, tenant, tmp_path, content, problem):
        with pytest.raises(CommandError, match=problem):
            run(tmp_path, content)

    def test_csv_without_a_type_column(self, tenant, tmp_path):
        with pytest.raises(CommandError, match="type"):
            run(tmp_path, "id,name\np1,x\n", name="d.csv")

    def test_unknown_tenant(self, db, tmp_path):
        with pytest.raises(CommandError, match="does not exist"):
            run(tmp_path, DOCUMENT, tenant="nobody")

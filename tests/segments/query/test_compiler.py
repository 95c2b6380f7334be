"""The compiler: `q` → Q through a field map, checked as Q objects and against the database.

The database tests run on SQLite by default and on PostgreSQL with DATABASE_URL set; the
same expectations hold on both.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.db.models import JSONField, Q
from django.db.models import Value as V
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import In as InLookup

from segments.models import CustomerAssignment, ItemAssignment, Segment
from segments.query import parse_query
from segments.query.ast import Condition, Query, QuerySyntaxError, Regex
from segments.query.compiler import (
    BOOLEAN_TYPES,
    NULL_TYPES,
    NUMBER_TYPES,
    STRING_TYPES,
    KeyJSONType,
    PathLookup,
    compile_query,
)
from segments.query.fields import (
    CUSTOMER_ASSIGNMENT_FIELDS,
    ITEM_ASSIGNMENT_FIELDS,
    SEGMENT_FIELDS,
    Boolean,
    Enum,
    Integer,
    Json,
    Text,
    resolve,
)
from segments.query.limits import QueryLimits
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
from tests.segments.query.test_regex import ACCEPTED


def compile_segments(q: str) -> Q:
    return compile_query(q, SEGMENT_FIELDS, default_language="en")


def at(column: str, path: tuple[str, ...], lookup: str, value) -> Q:
    return Q(PathLookup(column, path, lookup, value))


def of_type(column: str, path: tuple[str, ...], types: tuple[str, ...]) -> Q:
    expression = column
    for key in path[:-1]:
        expression = KeyTransform(key, expression)
    return Q(InLookup(KeyJSONType(path[-1], expression), types))


# --- resolve ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("status", (Enum("status", ("ACTIVE", "INACTIVE")), ())),
        ("name", (SEGMENT_FIELDS["name"], ())),
        ("name.en", (SEGMENT_FIELDS["name"], ("en",))),
        ("mixins.a.b", (Json("mixins"), ("a", "b"))),
        ("mixins.list.0", (Json("mixins"), ("list", "0"))),
        # The exact, longer name wins over a shorter prefix.
        ("metadata.mixins.x", (Json("metadata_mixins"), ("x",))),
        ("metadata.version", (Integer("version"), ())),
    ],
)
def test_resolve_finds_the_longest_known_prefix(name, expected):
    assert resolve(SEGMENT_FIELDS, name) == expected


@pytest.mark.parametrize(
    "name",
    ["foo", "metadata", "status.x", "name.en.x", "name.", "mixins..a", "mixins.a__b", "Status"],
)
def test_resolve_refuses_unknown_names_with_their_position(name):
    with pytest.raises(QuerySyntaxError) as raised:
        resolve(SEGMENT_FIELDS, name, position=4)
    assert raised.value.message == f"Unknown field '{name}' at position 4"


# --- Q objects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("", Q()),
        ("   ", Q()),
        ("status:ACTIVE", Q(status__exact="ACTIVE")),
        ("id:gold siteCode:main", Q(external_id__exact="gold") & Q(site_code__exact="main")),
        ("id:(a,b,a)", Q(external_id__in=["a", "b"])),
        ('id:"a b"', Q(external_id__exact="a b")),
        ("id:~^go", Q(external_id__regex="^go")),
        ("status:~ACT", Q(status__regex="ACT")),
        ("siteCode:>m", Q(site_code__gt="m")),
        ("metadata.version:3", Q(version__exact=3)),
        ("metadata.version:(1,+2)", Q(version__in=[1, 2])),
        ("metadata.version:(>=2 AND <5)", Q(version__gte=2) & Q(version__lt=5)),
        (
            'metadata.createdAt:>"2024-05-18T07:27:27.455Z"',
            Q(created_at__gt=datetime(2024, 5, 18, 7, 27, 27, 455000, tzinfo=UTC)),
        ),
        # Naive means UTC; a bare date is its midnight; offsets are kept.
        (
            "validity.from:<=2024-05-18T07:27:27",
            Q(valid_from__lte=datetime(2024, 5, 18, 7, 27, 27, tzinfo=UTC)),
        ),
        ("validity.to:<2024-05-18", Q(valid_to__lt=datetime(2024, 5, 18, tzinfo=UTC))),
        (
            'metadata.modifiedAt:"2024-05-18T09:00:00+02:00"',
            Q(modified_at__exact=datetime(2024, 5, 18, 7, tzinfo=UTC)),
        ),
        ("validity.from:null", Q(valid_from__isnull=True)),
        ("validity.from:missing", Q(valid_from__isnull=True)),
        ("validity.from:exists", Q(valid_from__isnull=False)),
        # Localized: a language, or the default one for the bare name; always text.
        ("name:Gold", at("name", ("en",), "path_exact", "Gold")),
        ("name.de:Gold", at("name", ("de",), "path_exact", "Gold")),
        ("name.en:15", at("name", ("en",), "path_exact", "15")),
        ("name.en:~(Golden Seg)", at("name", ("en",), "regex", "Golden Seg")),
        ("description.fr:(a,b)", at("description", ("fr",), "in", ["a", "b"])),
        ("name.en:>H", at("name", ("en",), "gt", "H")),
        (
            "name.en:null",
            at("name", ("en",), "isnull", True) | of_type("name", ("en",), NULL_TYPES),
        ),
        (
            "name.en:exists",
            ~(at("name", ("en",), "isnull", True) | of_type("name", ("en",), NULL_TYPES)),
        ),
        # JSON: unquoted numbers match numbers and text, quoted values only text.
        (
            "mixins.a.b:15",
            at("mixins", ("a", "b"), "path_exact", 15)
            | at("mixins", ("a", "b"), "path_exact", "15"),
        ),
        (
            "mixins.a:-1.5",
            at("mixins", ("a",), "path_exact", -1.5) | at("mixins", ("a",), "path_exact", "-1.5"),
        ),
        ("mixins.a:007", at("mixins", ("a",), "path_exact", "007")),
        ('mixins.a:"15"', at("mixins", ("a",), "path_exact", "15")),
        ("mixins.a:gold", at("mixins", ("a",), "path_exact", "gold")),
        (
            "mixins.a:true",
            at("mixins", ("a",), "path_exact", True) & of_type("mixins", ("a",), BOOLEAN_TYPES),
        ),
        (
            "mixins.a:false",
            at("mixins", ("a",), "path_exact", False) & of_type("mixins", ("a",), BOOLEAN_TYPES),
        ),
        (
            'mixins.a:"true"',
            at("mixins", ("a",), "path_exact", "true") & of_type("mixins", ("a",), STRING_TYPES),
        ),
        (
            "metadata.mixins.x:1",
            at("metadata_mixins", ("x",), "path_exact", 1)
            | at("metadata_mixins", ("x",), "path_exact", "1"),
        ),
        (
            "mixins.a:(1,x)",
            (at("mixins", ("a",), "path_exact", 1) | at("mixins", ("a",), "path_exact", "1"))
            | at("mixins", ("a",), "path_exact", "x"),
        ),
        ("mixins.a:>5", at("mixins", ("a",), "gt", 5) & of_type("mixins", ("a",), NUMBER_TYPES)),
        (
            'mixins.a.b:<="2024"',
            at("mixins", ("a", "b"), "lte", "2024") & of_type("mixins", ("a", "b"), STRING_TYPES),
        ),
        ("mixins.a:~^x", at("mixins", ("a",), "regex", "^x")),
        (
            "mixins.a:null",
            at("mixins", ("a",), "isnull", True) | of_type("mixins", ("a",), NULL_TYPES),
        ),
        (
            "mixins.a:missing",
            at("mixins", ("a",), "isnull", True) | of_type("mixins", ("a",), NULL_TYPES),
        ),
        (
            "mixins.a:exists",
            ~(at("mixins", ("a",), "isnull", True) | of_type("mixins", ("a",), NULL_TYPES)),
        ),
        ("mixins:null", Q(mixins__isnull=True) | Q(mixins=V(None, JSONField()))),
        # A key named like a lookup is still a key: paths are key transforms, not strings.
        (
            "mixins.contains:1",
            at("mixins", ("contains",), "path_exact", 1)
            | at("mixins", ("contains",), "path_exact", "1"),
        ),
    ],
)
def test_compiles_to_q(q, expected):
    assert compile_segments(q) == expected


def test_accepts_a_parsed_tree():
    tree = parse_query("status:ACTIVE")
    assert compile_query(tree, SEGMENT_FIELDS, default_language="en") == Q(status__exact="ACTIVE")


def test_bare_localized_field_uses_the_given_default_language():
    assert compile_query("name:Gold", SEGMENT_FIELDS, default_language="de") == at(
        "name", ("de",), "path_exact", "Gold"
    )


def test_boolean_fields_take_true_and_false():
    fields = {"published": Boolean("published")}
    compile_ = lambda q: compile_query(q, fields, default_language="en")  # noqa: E731
    assert compile_("published:true") == Q(published__exact=True)
    assert compile_("published:FALSE") == Q(published__exact=False)
    with pytest.raises(QuerySyntaxError, match=r"^Invalid boolean 'yes' at position 10"):
        compile_("published:yes")
    with pytest.raises(
        QuerySyntaxError, match=r"^Operator '>' is not allowed on 'published' at position 10$"
    ):
        compile_("published:>true")


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("foo:1", "Unknown field 'foo' at position 0"),
        ("status:ACTIVE  bogus.x:2", "Unknown field 'bogus.x' at position 15"),
        ("name.en.x:1", "Unknown field 'name.en.x' at position 0"),
        ("metadata:1", "Unknown field 'metadata' at position 0"),
        ("status:>ACTIVE", "Operator '>' is not allowed on 'status' at position 7"),
        (
            "status:(>=ACTIVE AND <=INACTIVE)",
            "Operator '>=' is not allowed on 'status' at position 8",
        ),
        (
            "status:DELETED",
            "Invalid value 'DELETED' for 'status' at position 7 (expected one of ACTIVE, INACTIVE)",
        ),
        (
            "status:(ACTIVE,active)",
            "Invalid value 'active' for 'status' at position 15 (expected one of ACTIVE, INACTIVE)",
        ),
        ("metadata.version:abc", "Invalid number 'abc' at position 17"),
        ("metadata.version:1.5", "Invalid number '1.5' at position 17"),
        ("metadata.version:(>=1 AND <x)", "Invalid number 'x' at position 27"),
        (
            "metadata.createdAt:yesterday",
            "Invalid date 'yesterday' at position 19 (use ISO 8601, e.g. 2024-05-18T07:27:27Z)",
        ),
        (
            'metadata.createdAt:>"2024-13-01"',
            "Invalid date '2024-13-01' at position 20 (use ISO 8601, e.g. 2024-05-18T07:27:27Z)",
        ),
        (
            "metadata.createdAt:20240518",
            "Invalid date '20240518' at position 19 (use ISO 8601, e.g. 2024-05-18T07:27:27Z)",
        ),
        (
            "metadata.version:~1",
            "Regular expressions are not allowed on 'metadata.version' at position 18",
        ),
        (
            "validity.from:~2024",
            "Regular expressions are not allowed on 'validity.from' at position 15",
        ),
        ("id:~a{99999999999}", "Repetition counts above 255 are not allowed at position 4"),
        (
            "name.en:~(?#x)y",
            "Invalid regular expression (invalid perl operator: (?#) at position 9",
        ),
        (
            "mixins.a:~(?=x)",
            "Lookarounds are not allowed in a regular expression at position 10",
        ),
        ("id:~(abc", "Unbalanced '(' at position 4"),
        ("id:~(?i)x", "Inline flags are not allowed in a regular expression at position 4"),
        ("mixins:1", "Field 'mixins' needs a key at position 0 (e.g. mixins.someKey)"),
        ("mixins:~x", "Field 'mixins' needs a key at position 0 (e.g. mixins.someKey)"),
    ],
)
def test_errors_name_the_problem_and_its_position(q, message):
    with pytest.raises(QuerySyntaxError) as raised:
        compile_segments(q)
    assert raised.value.message == message


def test_unknown_fields_are_unknown_whatever_the_map():
    with pytest.raises(QuerySyntaxError, match=r"^Unknown field 'status' at position 0$"):
        compile_query("status:ACTIVE", CUSTOMER_ASSIGNMENT_FIELDS, default_language="en")


# --- against the database ------------------------------------------------------------------


@pytest.fixture
def segments(tenant, other_tenant):
    """Three segments whose mixins mix numbers, text, booleans and nulls."""
    make_segment(
        tenant,
        "gold",
        name={"en": "Golden Segment", "de": "Goldenes Segment"},
        status="ACTIVE",
        site_code="main",
        version=1,
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
        created_at=datetime(2024, 5, 18, 7, 27, 27, 455000, tzinfo=UTC),
        mixins={"tier": 3, "code": "15", "flag": True, "nested": {"deep": "x"}, "nothing": None},
    )
    make_segment(
        tenant,
        "silver",
        name={"en": "Silver"},
        status="INACTIVE",
        site_code="b2b",
        version=3,
        created_at=datetime(2024, 5, 19, tzinfo=UTC),
        mixins={"tier": 15, "code": "abc", "flag": "true", "list": [10, 20], "word": "null"},
    )
    make_segment(
        tenant,
        "bronze",
        name={"de": "Bronze"},
        status="ACTIVE",
        site_code="main",
        version=5,
        created_at=datetime(2024, 5, 21, tzinfo=UTC),
        mixins={"tier": "15", "flag": False, "nested": {"deep": None}},
        metadata_mixins={"x": "https://example.com/x.json"},
    )
    # Another tenant's twin must never show up.
    make_segment(other_tenant, "gold", name={"en": "Golden Segment"}, mixins={"tier": 3})
    return tenant


ALL = {"gold", "silver", "bronze"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("", ALL),
        ("status:ACTIVE", {"gold", "bronze"}),
        ("status:(ACTIVE,INACTIVE)", ALL),
        ("id:(gold,silver)", {"gold", "silver"}),
        ("siteCode:main status:ACTIVE", {"gold", "bronze"}),
        ("id:~^(gold|silver)$", {"gold", "silver"}),
        ("id:~r", {"silver", "bronze"}),
        ("siteCode:>c", {"gold", "bronze"}),
        # Localized text.
        ("name.en:Silver", {"silver"}),
        ("name:Silver", {"silver"}),
        ('name.en:"Golden Segment"', {"gold"}),
        ("name.de:Bronze", {"bronze"}),
        ('name.en:("Golden Segment",Silver,Bronze)', {"gold", "silver"}),
        ("name.en:~(Golden Seg)", {"gold"}),
        ("name.en:~^S", {"silver"}),
        ("name.en:>H", {"silver"}),
        ("name.en:(>A AND <H)", {"gold"}),
        ("name.en:null", {"bronze"}),
        ("name.en:missing", {"bronze"}),
        ("name.en:exists", {"gold", "silver"}),
        ("name.fr:exists", set()),
        # Integers and dates.
        ("metadata.version:>=3", {"silver", "bronze"}),
        ("metadata.version:(>=2 AND <5)", {"silver"}),
        ("metadata.version:(1,5)", {"gold", "bronze"}),
        (
            'metadata.createdAt:(>="2024-05-18T07:27:27.455Z" AND <"2024-05-20T00:00:00Z")',
            {"gold", "silver"},
        ),
        ("metadata.createdAt:<2024-05-18T07:27:27.456Z", {"gold"}),
        ('metadata.createdAt:"2024-05-18T09:27:27.455+02:00"', {"gold"}),
        ("metadata.createdAt:>=2024-05-21", {"bronze"}),
        ("validity.from:null", {"silver", "bronze"}),
        ("validity.from:exists", {"gold"}),
        ("validity.to:missing", ALL),
        # JSON: numbers match numbers and the same text; quoted values only text.
        ("mixins.tier:15", {"silver", "bronze"}),
        ('mixins.tier:"15"', {"bronze"}),
        ("mixins.tier:(3,15)", ALL),
        ("mixins.tier:(3,abc)", {"gold"}),
        ("mixins.code:15", {"gold"}),
        ("mixins.code:abc", {"silver"}),
        # Comparisons only match values of the compared type.
        ("mixins.tier:>5", {"silver"}),
        ("mixins.tier:<=3", {"gold"}),
        ("mixins.tier:(>1 AND <20)", {"gold", "silver"}),
        ('mixins.tier:>"1"', {"bronze"}),
        ("mixins.code:>a", {"silver"}),
        ("mixins.flag:>0", set()),
        ("mixins.nested:>0", set()),
        # Booleans match booleans; the text "true" only when quoted.
        ("mixins.flag:true", {"gold"}),
        ("mixins.flag:false", {"bronze"}),
        ('mixins.flag:"true"', {"silver"}),
        ("mixins.flag:(true,false)", {"gold", "bronze"}),
        # The text "null" is not JSON null.
        ("mixins.word:null", {"gold", "bronze"}),
        ('mixins.word:"null"', {"silver"}),
        # Regex sees numbers as their text.
        ("mixins.tier:~^1", {"silver", "bronze"}),
        ("mixins.code:~^a", {"silver"}),
        # Nesting, arrays, null and absence.
        ("mixins.nested.deep:x", {"gold"}),
        ("mixins.nested.deep:null", {"silver", "bronze"}),
        ("mixins.nested.deep:missing", {"silver", "bronze"}),
        ("mixins.nested.deep:exists", {"gold"}),
        ("mixins.nested:exists", {"gold", "bronze"}),
        ("mixins.nothing:null", ALL),
        ("mixins.nothing:exists", set()),
        ("mixins.list.1:20", {"silver"}),
        ("mixins.nothing.deeper:null", ALL),
        ("mixins.tier.deeper:exists", set()),
        ("mixins:exists", ALL),
        ("mixins:null", set()),
        ("metadata.mixins.x:exists", {"bronze"}),
        ("metadata.mixins.x:~example", {"bronze"}),
        ("mixins.unknown:>5", set()),
        ("mixins.flag:true status:ACTIVE name.de:~^Gold", {"gold"}),
    ],
)
def test_filters_segments(segments, q, expected):
    found = Segment.objects.filter(tenant=segments).filter(compile_segments(q))
    assert set(found.values_list("external_id", flat=True)) == expected


@pytest.mark.django_db
def test_json_null_on_the_whole_column(tenant):
    make_segment(tenant, "json-null", mixins=V(None, JSONField()))
    make_segment(tenant, "object", mixins={})
    found = Segment.objects.filter(tenant=tenant).filter(compile_segments("mixins:null"))
    assert list(found.values_list("external_id", flat=True)) == ["json-null"]
    found = Segment.objects.filter(tenant=tenant).filter(compile_segments("mixins:exists"))
    assert list(found.values_list("external_id", flat=True)) == ["object"]


@pytest.mark.django_db
def test_every_customer_assignment_field_compiles_to_a_working_filter(tenant):
    segment = make_segment(tenant, "gold")
    acme = make_legal_entity(tenant, "le1", name="Acme Corp")
    ada = make_customer(tenant, "c1", first_name="Ada", last_name="Lovelace", email="ada@x.io")
    bob = make_customer(tenant, "c2", first_name="Bob", last_name="Byte", email="bob@y.io")
    assign_customer(segment, ada, acme, mixins={"score": 7})
    assign_customer(segment, bob, assignment_type="AUTOMATIC")

    def found(q: str) -> set[str]:
        condition = compile_query(q, CUSTOMER_ASSIGNMENT_FIELDS, default_language="en")
        rows = CustomerAssignment.objects.filter(tenant=tenant).filter(condition)
        return set(rows.values_list("customer__external_id", flat=True))

    assert found("customer.id:c1") == {"c1"}
    assert found("customer.firstName:Bob") == {"c2"}
    assert found("customer.lastName:~^Love") == {"c1"}
    assert found("customer.email:~@y\\.io$") == {"c2"}
    assert found("legalEntity.id:le1") == {"c1"}
    assert found('legalEntity.name:"Acme Corp"') == {"c1"}
    assert found("legalEntity.id:null") == {"c2"}
    assert found("assignmentType:AUTOMATIC") == {"c2"}
    assert found("segmentId:gold") == {"c1", "c2"}
    assert found("mixins.score:>5") == {"c1"}
    assert found("metadata.version:1 metadata.createdAt:exists") == {"c1", "c2"}
    assert found("metadata.mixins.x:missing metadata.modifiedAt:>2000-01-01") == {"c1", "c2"}


@pytest.mark.django_db
def test_every_item_assignment_field_compiles_to_a_working_filter(tenant):
    segment = make_segment(tenant, "gold")
    shoe = make_product(tenant, "p1", code="SHOE", name={"en": "Red Shoe"})
    sale = make_category(tenant, "k1", code="SALE", name={"en": "Sale"})
    assign_product(segment, shoe)
    assign_category(segment, sale, mixins={"rank": 1})
    # What the selector annotates: the product's or the category's id, code and name.
    rows = ItemAssignment.objects.filter(tenant=tenant).annotate(
        item_external_id=Coalesce("product__external_id", "category__external_id"),
        item_code=Coalesce("product__code", "category__code"),
        item_name=Coalesce(Cast("product__name", JSONField()), Cast("category__name", JSONField())),
    )

    def found(q: str) -> set[str]:
        condition = compile_query(q, ITEM_ASSIGNMENT_FIELDS, default_language="en")
        return set(rows.filter(condition).values_list("item_external_id", flat=True))

    assert found("item.id:p1") == {"p1"}
    assert found("item.code:(SHOE,SALE)") == {"p1", "k1"}
    assert found("item.name:Sale") == {"k1"}
    assert found("item.name.en:~Shoe") == {"p1"}
    assert found("type:PRODUCT") == {"p1"}
    assert found("segmentId:gold mixins.rank:1") == {"k1"}


@pytest.mark.django_db
def test_text_fields_keep_unusual_values_as_text(tenant):
    make_segment(tenant, "urn:seg:1", site_code="main")
    make_segment(tenant, 'quote"d', site_code="main")
    make_segment(tenant, "null", site_code="main")

    def found(q: str) -> set[str]:
        rows = Segment.objects.filter(tenant=tenant).filter(compile_segments(q))
        return set(rows.values_list("external_id", flat=True))

    assert found("id:urn:seg:1") == {"urn:seg:1"}
    assert found('id:"quote\\"d"') == {'quote"d'}
    assert found('id:"null"') == {"null"}
    assert found("id:null") == set()


@pytest.mark.django_db
def test_out_of_range_numbers_match_nothing_instead_of_failing(tenant):
    make_segment(tenant, "gold")
    rows = Segment.objects.filter(tenant=tenant)
    assert not rows.filter(compile_segments("metadata.version:99999999999999999999999")).exists()
    assert not rows.filter(compile_segments("mixins.tier:1e999")).exists()


def test_typed_text_column_is_plain():
    assert compile_query("code:x", {"code": Text("code")}, default_language="en") == Q(
        code__exact="x"
    )


PORTABILITY_SAMPLES = [
    "AB12",
    "Golden Segment",
    "gold",
    "colour",
    "color",
    "ABC-12-ab",
    "ABC-12",
    "2024-05-18",
    "x.*()",
    "aaaa",
    "abab",
    "é",
    "]a",
    "back\\slash",
    "foo and bar",
    "a b-1",
]


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", ACCEPTED)
def test_accepted_patterns_match_the_same_in_the_database_as_in_python(tenant, pattern):
    for sample in PORTABILITY_SAMPLES:
        make_segment(tenant, sample)
    tree = Query((Condition("id", 0, Regex(pattern, 3)),))  # no quoting to get in the way
    condition = compile_query(tree, SEGMENT_FIELDS, default_language="en")
    found = Segment.objects.filter(tenant=tenant).filter(condition)
    expected = {sample for sample in PORTABILITY_SAMPLES if re.search(pattern, sample)}
    assert set(found.values_list("external_id", flat=True)) == expected


LIMITS = QueryLimits(max_length=200, max_conditions=3, max_path_segments=3, max_sort_fields=2)
TOO_MANY = (
    "More than 3 conditions (QUERY_MAX_CONDITIONS) at position {} "
    "(a range counts one per bound, a list on a JSON path one per value)"
)


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("id:a id:b id:c id:d", TOO_MANY.format(15)),
        ("id:a metadata.version:(>1 AND <5 AND >2)", TOO_MANY.format(5)),
        ("mixins.a:(1,2,3,4)", TOO_MANY.format(0)),
        ("id:a mixins.a:(1,2,3)", TOO_MANY.format(5)),
        (
            "id:a mixins.a.b.c:1",
            "Field path 'mixins.a.b.c' has 4 segments, more than 3 (FIELD_PATH_MAX_SEGMENTS) "
            "at position 5",
        ),
        ("id:" + "x" * 198, "Query longer than 200 characters (QUERY_MAX_LENGTH) at position 200"),
    ],
)
def test_limits_name_the_setting_and_the_position(q, message):
    with pytest.raises(QuerySyntaxError) as raised:
        compile_query(q, SEGMENT_FIELDS, default_language="en", limits=LIMITS)
    assert raised.value.message == message


@pytest.mark.parametrize(
    "q",
    [
        "id:a id:b id:c",
        "id:(a,b,c,d,e,f) status:(ACTIVE,INACTIVE) name.en:(a,b,c,d)",
        "metadata.version:(>1 AND <5 AND >2)",
        "mixins.a.b:(1,2) id:x",
    ],
)
def test_within_the_limits_compiles(q):
    compile_query(q, SEGMENT_FIELDS, default_language="en", limits=LIMITS)


def test_the_limits_come_from_the_settings(settings):
    settings.QUERY_MAX_CONDITIONS = 1
    compile_segments("id:a")
    with pytest.raises(QuerySyntaxError, match="More than 1 conditions"):
        compile_segments("id:a id:b")


@pytest.mark.parametrize(
    ("q", "message"),
    [
        (
            'metadata.createdAt:<"0001-01-01T00:00:00+00:01"',
            "Date '0001-01-01T00:00:00+00:01' is out of range at position 20 "
            "(in UTC it must fall within the years 1 to 9999)",
        ),
        (
            "validity.to:>9999-12-31T23:59-0001",
            "Date '9999-12-31T23:59-0001' is out of range at position 13 "
            "(in UTC it must fall within the years 1 to 9999)",
        ),
    ],
)
def test_dates_that_leave_the_years_1_to_9999_in_utc_are_refused(q, message):
    with pytest.raises(QuerySyntaxError) as raised:
        compile_segments(q)
    assert raised.value.message == message


def test_dates_are_compared_in_utc():
    assert compile_segments("metadata.createdAt:>2024-05-18T09:00+02:00") == Q(
        created_at__gt=datetime(2024, 5, 18, 7, 0, tzinfo=UTC)
    )


# Keys named like Django lookups or transforms: a `__`-joined lookup string would take a
# middle one for a lookup (a FieldError, a 500) and a last one before the spelled-out
# lookup for a key; the compiler builds key transforms, which cannot be misread.
LOOKUP_NAMES = ["exact", "isnull", "contains", "in", "gt", "regex", "path_exact", "has_key", "keys"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", LOOKUP_NAMES)
def test_keys_named_like_lookups_are_keys_at_any_depth(tenant, key):
    make_segment(tenant, "hit", name={"en": "Hit"}, mixins={"a": {key: {"b": 1}}, key: "x"})
    make_segment(tenant, "miss", name={"en": "Miss"}, mixins={"a": {"other": {"b": 1}}})
    cases = {
        f"mixins.a.{key}:exists": {"hit"},
        f"mixins.a.{key}:missing": {"miss"},
        f"mixins.a.{key}.b:1": {"hit"},
        f"mixins.a.{key}.b:(1,2)": {"hit"},
        f"mixins.a.{key}.b:>0": {"hit"},
        f"mixins.a.{key}.b:~^1": {"hit"},
        f"mixins.a.{key}.b:null": {"miss"},
        f"mixins.{key}:x": {"hit"},
        f"mixins.{key}:~x": {"hit"},
    }
    for q, expected in cases.items():
        found = Segment.objects.filter(tenant=tenant).filter(compile_segments(q))
        assert set(found.values_list("external_id", flat=True)) == expected, q

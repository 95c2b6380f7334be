"""The services' database helpers: `rows_update`, `rows_insert`, `values_insert`,
`rows_insert_or_lock`, `atomic_with_retry`, `QueryTemplate` and `CompiledQuery`."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import DatabaseError, OperationalError, connection, connections, transaction
from django.db.models.functions import Upper
from django.db.models.signals import post_init
from django.utils import timezone

from segments.choices import EventType
from segments.models import Category, CustomerAssignment, Event, ItemAssignment, Segment
from segmentservice.db import (
    CompiledQuery,
    QueryTemplate,
    TemplateRefused,
    atomic_with_retry,
    instance_builder,
    rows_insert,
    rows_insert_or_lock,
    rows_update,
    values_insert,
)
from segmentservice.exceptions import ConcurrentWriteConflict
from tests.concurrency import POSTGRES_RACE
from tests.conftest import postgres_only
from tests.factories import (
    assign_customer,
    assign_product,
    make_category,
    make_customer,
    make_product,
    make_segment,
)

SEGMENT_KEY = ("tenant", "external_id")


@pytest.mark.django_db
def test_writes_every_given_field_of_every_row_in_one_query(
    tenant, other_tenant, django_assert_num_queries
):
    rows = [make_segment(tenant, f"s{i}") for i in range(5)]
    untouched = make_segment(other_tenant, "s0", name={"en": "Theirs"})
    when = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    for i, row in enumerate(rows):
        row.name = {"en": f"Renamed {i}", "de": "Umbenannt"}
        row.mixins = {"a": {"b": [i, None, True, 'q"uote,{}']}}
        row.valid_to = when if i % 2 else None
        row.version = 7 + i
        row.site_code = "b2b"  # changed, but not written

    with django_assert_num_queries(1):
        count = rows_update(rows, ["name", "mixins", "valid_to", "version"])

    assert count == 5
    for i, row in enumerate(rows):
        stored = Segment.objects.get(pk=row.pk)
        assert stored.name == {"en": f"Renamed {i}", "de": "Umbenannt"}
        assert stored.mixins == {"a": {"b": [i, None, True, 'q"uote,{}']}}
        assert stored.valid_to == (when if i % 2 else None)
        assert stored.version == 7 + i
        assert stored.site_code == "main"
    untouched.refresh_from_db()
    assert untouched.name == {"en": "Theirs"}


@pytest.mark.django_db
def test_nothing_to_write_costs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_update([], ["name"]) == 0


@pytest.mark.django_db
def test_rows_insert_writes_every_column_in_order_in_one_query(tenant, django_assert_num_queries):
    when = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    payloads = [{"id": f"s{i}", "a": [i, None, True, 'q"uote,{}\\'], "b": {}} for i in range(5)]
    rows = [
        Event(
            tenant=tenant,
            type=EventType.SEGMENT_UPDATED,
            resource_id=f"s{i}",
            payload=payload,
            created_at=when,
        )
        for i, payload in enumerate(payloads)
    ]

    with django_assert_num_queries(1):
        assert rows_insert(rows) == 5

    stored = list(Event.objects.filter(tenant=tenant).order_by("id"))
    assert [e.resource_id for e in stored] == [f"s{i}" for i in range(5)]
    assert [e.payload for e in stored] == payloads
    assert {(e.type, e.created_at) for e in stored} == {(EventType.SEGMENT_UPDATED, when)}


@pytest.mark.django_db
def test_rows_insert_of_nothing_costs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_insert([]) == 0


@pytest.mark.django_db
def test_values_insert_writes_the_given_fields_and_defaults_the_others_in_order(
    tenant, django_assert_num_queries
):
    payloads = [{"id": f"s{i}", "a": [i, None, True, 'q"uote,{}\\'], "b": {}} for i in range(5)]
    rows = [
        {
            "tenant_id": tenant.pk,
            "type": EventType.SEGMENT_UPDATED,
            "resource_id": f"s{i}",
            "payload": payload,
        }
        for i, payload in enumerate(payloads)
    ]
    before = datetime.now(UTC)

    with django_assert_num_queries(1):
        assert values_insert(Event, rows) == 5

    stored = list(Event.objects.filter(tenant=tenant).order_by("id"))
    assert [e.resource_id for e in stored] == [f"s{i}" for i in range(5)]
    assert [e.payload for e in stored] == payloads
    # Left out: the actor and the instant take the model's defaults, as Event(**row) would.
    assert {(e.type, e.actor) for e in stored} == {(EventType.SEGMENT_UPDATED, "system")}
    assert all(before <= e.created_at <= datetime.now(UTC) for e in stored)


@pytest.mark.django_db
def test_values_insert_of_nothing_costs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert values_insert(Event, []) == 0


def new_segment(tenant, segment_id: str) -> Segment:
    return Segment(tenant=tenant, external_id=segment_id, name={"en": "New"}, site_code="new")


@pytest.mark.django_db
def test_rows_insert_or_lock_inserts_the_free_keys_and_leaves_taken_rows_alone(
    tenant, other_tenant, django_assert_num_queries
):
    make_segment(tenant, "b", name={"en": "Stored"})
    make_segment(other_tenant, "c", name={"en": "Theirs"})
    rows = [new_segment(tenant, i) for i in ("c", "b", "a")]

    # One statement on PostgreSQL; a lookup and an INSERT elsewhere.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        inserted = rows_insert_or_lock(rows, unique=SEGMENT_KEY)

    assert inserted == [rows[0], rows[2]]
    for row in inserted:
        assert Segment.objects.get(pk=row.pk).external_id == row.external_id
    assert rows[1].pk is None
    stored = Segment.objects.filter(tenant=tenant).order_by("external_id")
    assert [(s.external_id, s.name) for s in stored] == [
        ("a", {"en": "New"}),
        ("b", {"en": "Stored"}),
        ("c", {"en": "New"}),
    ]
    assert Segment.objects.get(tenant=other_tenant).name == {"en": "Theirs"}


@pytest.mark.django_db
def test_rows_insert_or_lock_of_nothing_costs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_insert_or_lock([], unique=SEGMENT_KEY) == []


def in_other_transaction(work) -> threading.Thread:
    """Run `work()` in a transaction of another connection (a thread), started now."""

    def run():
        try:
            with transaction.atomic():
                work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


class TestRowsInsertOrLockOnPostgres:
    """What it does with concurrent transactions: the reason it exists."""

    pytestmark = POSTGRES_RACE

    def test_locks_a_taken_row_until_the_transaction_ends(self, tenant):
        make_segment(tenant, "b")
        outcome = {}

        def try_to_lock():
            try:
                Segment.objects.select_for_update(nowait=True).get(tenant=tenant, external_id="b")
                outcome["locked"] = True
            except DatabaseError:
                outcome["locked"] = False

        with transaction.atomic():
            assert rows_insert_or_lock([new_segment(tenant, "b")], unique=SEGMENT_KEY) == []
            in_other_transaction(try_to_lock).join(10)
            assert outcome == {"locked": False}
        in_other_transaction(try_to_lock).join(10)
        assert outcome == {"locked": True}
        assert Segment.objects.get().site_code == "main"

    def test_waits_for_a_concurrent_insert_of_the_key_instead_of_failing(self, tenant):
        inserted, release = threading.Event(), threading.Event()

        def insert_and_hold():
            make_segment(tenant, "b", name={"en": "Theirs"})
            inserted.set()
            release.wait(10)

        other = in_other_transaction(insert_and_hold)
        assert inserted.wait(10)
        threading.Timer(0.3, release.set).start()
        assert rows_insert_or_lock([new_segment(tenant, "b")], unique=SEGMENT_KEY) == []
        assert release.is_set()
        other.join(10)
        assert Segment.objects.get().name == {"en": "Theirs"}


# --- atomic_with_retry --------------------------------------------------------------------------


def aborted(cause: type[psycopg.Error]) -> OperationalError:
    """The error Django raises when PostgreSQL aborts a transaction with `cause`."""
    error = OperationalError(f"{cause.__name__}: the database aborted the transaction")
    error.__cause__ = cause("aborted")
    return error


def flaky_write(tenant, *, failures: int, error: OperationalError):
    """A service writing one segment per call; its first `failures` calls end in `error`."""
    calls = []

    @atomic_with_retry
    def write(*, segment_id: str) -> str:
        calls.append(segment_id)
        make_segment(tenant, f"{segment_id}-{len(calls)}")
        if len(calls) <= failures:
            raise error
        return f"written on call {len(calls)}"

    return write, calls


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "cause", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure]
)
def test_atomic_with_retry_runs_an_aborted_transaction_once_more(tenant, cause, caplog):
    write, calls = flaky_write(tenant, failures=1, error=aborted(cause))

    assert write(segment_id="s") == "written on call 2"

    assert calls == ["s", "s"]
    # The first run was rolled back as a whole.
    assert list(Segment.objects.values_list("external_id", flat=True)) == ["s-2"]
    assert "write was rolled back" in caplog.text


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "cause", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure]
)
def test_atomic_with_retry_gives_up_after_the_second_abort(tenant, cause):
    error = aborted(cause)
    write, calls = flaky_write(tenant, failures=2, error=error)

    with pytest.raises(ConcurrentWriteConflict) as raised:
        write(segment_id="s")

    assert calls == ["s", "s"]
    assert raised.value.status_code == 503
    assert raised.value.__cause__ is error
    assert not Segment.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "error",
    [
        aborted(psycopg.errors.LockNotAvailable),
        aborted(psycopg.errors.QueryCanceled),
        OperationalError("connection refused"),
    ],
    ids=["lock-timeout", "statement-timeout", "no-connection"],
)
def test_atomic_with_retry_does_not_retry_other_database_errors(tenant, error):
    write, calls = flaky_write(tenant, failures=1, error=error)

    with pytest.raises(OperationalError) as raised:
        write(segment_id="s")

    assert raised.value is error
    assert calls == ["s"]
    assert not Segment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_atomic_with_retry_inside_another_transaction_leaves_the_error_to_it(tenant):
    error = aborted(psycopg.errors.DeadlockDetected)
    write, calls = flaky_write(tenant, failures=1, error=error)

    with pytest.raises(OperationalError) as raised, transaction.atomic():
        write(segment_id="s")

    assert raised.value is error
    assert calls == ["s"]
    assert not Segment.objects.exists()


def _segments(*, tenant, status, since):
    return (
        Segment.objects.filter(tenant=tenant, status=status, created_at__gte=since)
        .order_by("external_id")
        .values_list("external_id", flat=True)
    )


SEGMENTS = QueryTemplate(
    _segments,
    tenant=Segment._meta.get_field("tenant"),
    status=Segment._meta.get_field("status"),
    since=Segment._meta.get_field("created_at"),
)


@pytest.mark.django_db
class TestQueryTemplate:
    def test_it_reads_what_the_queryset_reads_for_each_calls_values(self, tenant, other_tenant):
        for owner, name, status in [
            (tenant, "a", "ACTIVE"),
            (tenant, "b", "INACTIVE"),
            (tenant, "c", "ACTIVE"),
            (other_tenant, "d", "ACTIVE"),
        ]:
            make_segment(owner, name, status=status)
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        for owner, status, since in [
            ("acme", "ACTIVE", epoch),
            ("acme", "INACTIVE", epoch),
            ("globex", "ACTIVE", epoch),
            ("acme", "ACTIVE", datetime(2999, 1, 1, tzinfo=UTC)),
        ]:
            rows = SEGMENTS.rows(using="default", tenant=owner, status=status, since=since)
            expected = list(_segments(tenant=owner, status=status, since=since))
            assert [r[0] for r in rows] == expected

    def test_it_compiles_once_per_database(self, tenant, monkeypatch, django_assert_num_queries):
        template = QueryTemplate(_segments, **SEGMENTS.slots)
        built = []
        monkeypatch.setattr(template, "build", lambda **v: built.append(v) or _segments(**v))
        since = datetime(2000, 1, 1, tzinfo=UTC)
        with django_assert_num_queries(3):
            for status in ("ACTIVE", "INACTIVE", "ACTIVE"):
                template.rows(using="default", tenant="acme", status=status, since=since)
        assert len(built) == 2  # once per set of sentinels, then never again

    def test_a_value_the_query_holds_in_another_form_is_refused(self, db):
        contains = QueryTemplate(
            lambda *, name: Segment.objects.filter(external_id__contains=name),
            name=Segment._meta.get_field("external_id"),
        )
        with pytest.raises(ValueError, match="part of the parameter"):
            contains.rows(using="default", name="gold")


def _annotated(*, tenant, status):
    return (
        Segment.objects.filter(tenant=tenant, status=status)
        .annotate(shown=Upper("site_code"))
        .order_by("external_id")
    )


COMPILED_SLOTS = {
    "tenant": Segment._meta.get_field("tenant"),
    "status": Segment._meta.get_field("status"),
}


@pytest.mark.django_db
class TestCompiledQuery:
    def test_its_instances_are_the_querysets(self, tenant, other_tenant):
        when = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
        make_segment(tenant, "b", name={"en": "B", "de": "ü"}, valid_to=when, site_code="de")
        make_segment(tenant, "a", mixins={"n": [1, 2.5, None]})
        make_segment(other_tenant, "c")
        page = CompiledQuery(lambda s: _annotated(**s), "default", COMPILED_SLOTS)
        for owner in ("acme", "globex"):
            built = page.instances(tenant=owner, status="ACTIVE")
            expected = list(_annotated(tenant=owner, status="ACTIVE"))
            fields = [f.attname for f in Segment._meta.concrete_fields]
            assert [[getattr(s, f) for f in [*fields, "shown"]] for s in built] == [
                [getattr(s, f) for f in [*fields, "shown"]] for s in expected
            ]
            assert all(s._state.db == "default" and not s._state.adding for s in built)

    @pytest.mark.parametrize("model", [Segment, ItemAssignment, CustomerAssignment, Category])
    def test_its_instances_are_those_from_db_builds(self, tenant, model):
        segment = make_segment(tenant, "s", mixins={"n": [1, 2.5, None]})
        customer = make_customer(tenant, "c1")
        assign_customer(segment, customer)
        assign_product(segment, make_product(tenant, "p1"))
        make_category(tenant, "cat")
        names = [field.attname for field in model._meta.concrete_fields]
        [row] = model.objects.filter(tenant=tenant).values_list(*names)[:1]

        fast = instance_builder(model, names)
        built, expected = fast("default", names, row), model.from_db("default", names, row)

        assert fast is not model.from_db
        assert type(built) is model
        assert {k: v for k, v in vars(built).items() if k != "_state"} == {
            k: v for k, v in vars(expected).items() if k != "_state"
        }
        assert (built._state.adding, built._state.db) == (False, "default")
        assert built._state.fields_cache == {}
        assert built == expected and built.pk is not None

    def test_a_model_with_init_receivers_or_deferred_columns_is_built_by_from_db(self, db):
        names = [field.attname for field in Segment._meta.concrete_fields]
        assert instance_builder(Segment, names[:-1]) == Segment.from_db

        def receiver(**kwargs):
            pass

        post_init.connect(receiver, sender=Segment)
        try:
            assert instance_builder(Segment, names) == Segment.from_db
        finally:
            post_init.disconnect(receiver, sender=Segment)

    def test_a_value_that_changes_between_builds_is_refused(self, db):
        def effective_now(sentinels):
            return Segment.objects.filter(
                tenant=sentinels["tenant"], valid_from__lte=timezone.now()
            )

        with pytest.raises(TemplateRefused, match="differs between two builds"):
            CompiledQuery(effective_now, "default", {"tenant": COMPILED_SLOTS["tenant"]})

    def test_rows_with_related_rows_are_not_built(self, db):
        page = CompiledQuery(
            lambda s: Segment.objects.filter(tenant=s["tenant"]).select_related("tenant"),
            "default",
            {"tenant": COMPILED_SLOTS["tenant"]},
        )
        with pytest.raises(TemplateRefused, match="select_related"):
            page.instances(tenant="acme")


# What PostgreSQL sends for timestamps in UTC, each read with `datetime.fromisoformat`:
# every fraction length and the ends of the range; and what goes to Django's loader as
# before: infinity, BC and a year past 9999.
INSTANTS = [
    "2024-05-14 12:00:00+00",
    "2024-05-14 12:00:00.5+00",
    "2024-05-14 12:00:00.46008+00",
    "2024-05-14 12:00:00.123456+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]
UNUSUAL = ["infinity", "-infinity", "0044-03-15 00:00:00+00 BC", "10000-01-01 00:00:00+00"]


class TestTimestamps:
    pytestmark = [*postgres_only("PostgreSQL's types"), pytest.mark.django_db]

    def test_they_read_back_exactly_as_djangos_own_loader_reads_them(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["%s::timestamptz"] * len(INSTANTS)), INSTANTS)
            read = cursor.fetchone()
        oid = psycopg.postgres.types["timestamptz"].oid
        ours = connection.connection.adapters.get_loader(oid, psycopg.pq.Format.TEXT)
        djangos = ours.__mro__[1](oid, connection.connection)

        assert ours.__name__ == "IsoTimestamptzLoader"
        expected = [djangos.load(text.encode()) for text in INSTANTS]
        assert list(read) == expected
        assert [value.tzinfo for value in read] == [value.tzinfo for value in expected]
        assert read[2] == datetime(2024, 5, 14, 12, 0, 0, 460080, tzinfo=UTC)

    @pytest.mark.parametrize("text", UNUSUAL)
    def test_an_unusual_one_is_read_by_djangos_loader(self, text):
        oid = psycopg.postgres.types["timestamptz"].oid
        ours = connection.connection.adapters.get_loader(oid, psycopg.pq.Format.TEXT)
        ours_loader = ours(oid, connection.connection)
        djangos = ours.__mro__[1](oid, connection.connection)
        try:
            expected: object = djangos.load(text.encode())
        except psycopg.DataError as error:
            with pytest.raises(psycopg.DataError, match=re.escape(str(error))):
                ours_loader.load(text.encode())
        else:
            assert ours_loader.load(text.encode()) == expected

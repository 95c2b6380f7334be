"""The query-count helper fails when it should, and its table holds only used, exact entries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

from tests import querycounts
from tests.querycounts import TABLE, assert_same_queries, baselines

VENDORS = {"sqlite", "postgresql"}


def test_every_baseline_is_a_count_per_key_vendor_or_case():
    for key, entry in baselines().items():
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", key), key
        if isinstance(entry, dict):
            assert set(entry) <= VENDORS, key
            for value in entry.values():
                counts = value.values() if isinstance(value, dict) else [value]
                assert all(isinstance(n, int) and n > 0 for n in counts), key
        else:
            assert isinstance(entry, int) and entry > 0, key


def test_every_baseline_is_used_by_a_test():
    sources = "".join(p.read_text() for p in Path(__file__).parent.rglob("test_*.py"))
    unused = [key for key in baselines() if f'"{key}"' not in sources]
    assert unused == []


class FakeResponse:
    status_code = 200
    content = b"[]"


def queries(n: int):
    def request():
        with connection.cursor() as cursor:
            for _ in range(n):
                cursor.execute("SELECT 1")
        return FakeResponse()

    return request


@pytest.fixture
def table(tmp_path, monkeypatch):
    path = tmp_path / "query_counts.json"
    path.write_text('{"two": 2, "split": {"postgresql": 1, "sqlite": {"1": 1, "9": 3}}}')
    monkeypatch.setattr(querycounts, "TABLE", path)
    monkeypatch.setattr(querycounts, "UPDATE", False)
    return path


@pytest.mark.django_db
class TestTheHelper:
    def test_the_exact_count_passes_and_returns_the_response(self, table):
        check = assert_same_queries("two", status=200)
        assert isinstance(check(queries(2)), FakeResponse)

    @pytest.mark.parametrize("n", [1, 3])
    def test_fewer_or_more_queries_fail_naming_the_fix(self, table, n):
        with pytest.raises(AssertionError) as failure:
            assert_same_queries("two", status=200)(queries(n))
        message = str(failure.value)
        assert f"{n} queries on {connection.vendor}, the baseline is 2" in message
        assert f'set "two" in query_counts.json to {n}' in message
        assert "UPDATE_QUERY_COUNTS=1" in message

    def test_another_status_fails(self, table):
        with pytest.raises(AssertionError, match="two: expected 201, got 200"):
            assert_same_queries("two", status=201)(queries(2))

    def test_a_key_missing_from_the_table_fails(self, table):
        with pytest.raises(AssertionError, match="the baseline is None"):
            assert_same_queries("nowhere", status=200)(queries(1))

    def test_a_vendor_entry_picks_by_connection_vendor_and_case(self, table):
        check = assert_same_queries("split", status=200)
        check(queries(1), case=1)
        if connection.vendor == "sqlite":
            check(queries(3), case=9)
        else:
            check(queries(1), case=9)

    def test_update_mode_prints_the_line_instead_of_failing(self, table, monkeypatch, capsys):
        monkeypatch.setattr(querycounts, "UPDATE", True)
        assert_same_queries("two", status=200)(queries(5))
        assert 'set "two" in query_counts.json to 5' in capsys.readouterr().out


def test_the_table_is_the_checked_in_file():
    assert Path(__file__).parent / "query_counts.json" == TABLE

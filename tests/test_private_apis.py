"""The private APIs of Django and of the standard library the code relies on, pinned.

If an upgrade changes one of them, these tests say which and where it is used, before the
code that depends on it misbehaves quietly.
"""

from __future__ import annotations

from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest
from django.db import connection
from django.db.models.signals import post_delete, pre_delete
from django.test.utils import CaptureQueriesContext

from segments.models import Segment
from tests.factories import make_segment


@pytest.mark.django_db
def test_queryset_raw_delete_is_one_delete_without_signals_or_cascade(tenant):
    """Used by segment force deletion, tenant deletion and the data generator's reset."""
    for name in ("a", "b", "c"):
        make_segment(tenant, name)
    make_segment(tenant, "kept")
    signals: list[str] = []

    def receiver(sender, **kwargs):
        signals.append(sender.__name__)

    pre_delete.connect(receiver, weak=False)
    post_delete.connect(receiver, weak=False)
    try:
        with CaptureQueriesContext(connection) as queries:
            deleted = Segment.objects.exclude(external_id="kept")._raw_delete(Segment.objects.db)
    finally:
        pre_delete.disconnect(receiver)
        post_delete.disconnect(receiver)

    assert deleted == 3
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["DELETE"]
    assert signals == []
    assert list(Segment.objects.values_list("external_id", flat=True)) == ["kept"]


def test_re_parser_gives_the_tree_the_regex_check_walks():
    """`segments.query.regex` walks this tree to refuse patterns that can backtrack."""
    parsed = sre_parse.parse("^(ab|cd)+e{2,5}")

    assert parsed.state.flags & ~sre.SRE_FLAG_UNICODE == 0
    items = list(parsed)
    assert items[0] == (sre.AT, sre.AT_BEGINNING)
    op, (low, high, body) = items[1]
    assert (op, low, high) == (sre.MAX_REPEAT, 1, sre.MAXREPEAT)
    [(sub, group)] = list(body)
    assert sub is sre.SUBPATTERN
    [(branch, (_, alternatives))] = list(group[3])
    assert branch is sre.BRANCH and len(alternatives) == 2
    assert items[2][0] is sre.MAX_REPEAT and items[2][1][:2] == (2, 5)
    for name in (
        "MIN_REPEAT",
        "POSSESSIVE_REPEAT",
        "ATOMIC_GROUP",
        "ASSERT",
        "ASSERT_NOT",
        "GROUPREF",
        "GROUPREF_EXISTS",
    ):
        assert hasattr(sre, name), name
    assert isinstance(parsed, sre_parse.SubPattern) and parsed.data == items

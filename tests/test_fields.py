"""Every JSON column of the project's models is read back through orjson, as Django would."""

from __future__ import annotations

import json
import math

import pytest
from django.apps import apps
from django.db import connection, models

from segmentservice.fields import JSONField, json_column

PROJECT_APPS = ("segments", "tenants")
DOCUMENTS = [
    '{"en": "Gold", "de": "Gold \\u00fc", "ja": "\\u91d1"}',
    '[1, 2.5, -0.0, 1e300, null, true, false, "", {}, []]',
    '{"deep": [[[{"x": 0.3333333333333333}]]], "line": "\\u2028"}',
    '"just a string"',
    "12",
]


def project_json_fields() -> list[models.Field]:
    return [
        field
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.JSONField)
    ]


def test_every_json_column_of_the_models_decodes_through_orjson():
    fields = project_json_fields()
    assert len(fields) >= 15  # the scan found the models' JSON columns
    plain = [f"{f.model.__name__}.{f.name}" for f in fields if type(f) is not JSONField]
    assert plain == []


def test_migrations_see_django_s_json_field():
    _, path, _, kwargs = JSONField(default=dict, blank=True).deconstruct()
    assert path == "django.db.models.JSONField"
    assert kwargs == {"default": dict, "blank": True}


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_document_decodes_as_django_decodes_it(document):
    expected = exactly(json.loads(document))
    assert exactly(JSONField().from_db_value(document, None, connection)) == expected


def exactly(value):
    """A value with the type of every number in it: 2**64 equals float(2**64)."""
    if isinstance(value, dict):
        return {k: exactly(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exactly(v) for v in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize(
    "number",
    [2**64 - 1, 2**64, 2**70, 10**30, -(2**63), -(2**63) - 1, -(10**25), 1234567890123456789],
)
def test_integers_of_any_size_stay_integers(number):
    document = json.dumps({"n": number, "list": [number, "x"]})
    decoded = JSONField().from_db_value(document, None, connection)
    assert exactly(decoded) == exactly({"n": number, "list": [number, "x"]})


def test_what_orjson_refuses_goes_to_django_s_decoding():
    field = JSONField()
    assert math.isnan(field.from_db_value("NaN", None, connection))
    assert field.from_db_value("not json", None, connection) == "not json"
    assert field.from_db_value(None, None, connection) is None


def test_a_field_with_its_own_decoder_keeps_it():
    class Tagged(json.JSONDecoder):
        def decode(self, s, *args, **kwargs):
            return ("tagged", super().decode(s))

    field = JSONField(decoder=Tagged)
    assert field.from_db_value('{"a": 1}', None, connection) == ("tagged", {"a": 1})


@pytest.mark.parametrize("document", [*DOCUMENTS, '{"n": 1180591620717411303424}', "NaN"])
def test_a_column_read_without_the_orm_decodes_as_the_field_does(document):
    expected = JSONField().from_db_value(document, None, connection)
    decoded = json_column(document)
    if document == "NaN":
        assert math.isnan(decoded) and math.isnan(expected)
    else:
        assert exactly(decoded) == exactly(expected)

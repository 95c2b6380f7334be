"""Bad input is a 400 (a 401 for a token), fast: never a 500, never a hang (SPEC §§6, 9).

Each limit is a setting named in the message with its value (see `.env.example`): a body
nested too deep, a number out of range, a path, `q`, `sort` or `fields` too long, too many
conditions. Every request here must also answer within LATENCY seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from segments.models import Segment
from segmentservice.api.parsers import json_depth
from tests.conftest import MANAGE, READ
from tests.factories import make_segment

BASE = "/customer-segment/acme"
SEGMENTS = f"{BASE}/segments"
SEARCH = f"{BASE}/segments/search"
LATENCY = 2.0
INVALID_TOKEN = {
    "fault": {
        "faultstring": "Invalid access token",
        "detail": {"errorcode": "oauth.v2.InvalidAccessToken"},
    }
}


def fast(call):
    """Make the request and check it answered within LATENCY seconds."""
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    assert elapsed < LATENCY, f"the request took {elapsed:.1f} s"
    return response


def bad_request(response, message: str) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response.json() == {"code": 400, "status": "Bad Request", "message": message}


def nested_objects(depth: int, leaf: str = "1") -> str:
    """`{"a":{"a":...leaf...}}`: `depth` objects inside each other."""
    return '{"a":' * depth + leaf + "}" * depth


def segment_body(mixins: str) -> str:
    return '{"name": {"en": "Deep"}, "siteCode": "main", "mixins": ' + mixins + "}"


@pytest.fixture
def client(tenant, make_client) -> APIClient:
    return make_client(tenant, MANAGE, READ)


def post_raw(client, url: str, body: str, content_type: str = "application/json"):
    return client.post(url, data=body, content_type=content_type)


DEPTH_MESSAGE = "The request body nests arrays and objects deeper than 64 levels (JSON_MAX_DEPTH)."


@pytest.mark.django_db
class TestJsonDepth:
    @pytest.mark.parametrize("depth", [100, 930, 1000, 100_000])
    def test_a_body_nested_too_deep_is_400_naming_the_limit(self, client, depth):
        response = fast(lambda: post_raw(client, SEGMENTS, segment_body(nested_objects(depth))))
        bad_request(response, DEPTH_MESSAGE)
        assert not Segment.objects.exists()

    @pytest.mark.parametrize("url", [SEARCH, SEGMENTS, f"{SEGMENTS}/bulk"])
    def test_deep_arrays_are_400_on_every_endpoint(self, client, url):
        body = "[" * 50_000 + "]" * 50_000
        bad_request(fast(lambda: post_raw(client, url, body)), DEPTH_MESSAGE)

    def test_the_limit_itself_is_accepted(self, client):
        # The body object is level 1, so mixins may hold 63 levels.
        response = post_raw(client, SEGMENTS, segment_body(nested_objects(63)))
        assert response.status_code == 201
        response = post_raw(client, SEGMENTS, segment_body(nested_objects(64)))
        bad_request(response, DEPTH_MESSAGE)

    @override_settings(JSON_MAX_DEPTH=3)
    def test_the_limit_is_a_setting(self, client):
        assert post_raw(client, SEGMENTS, segment_body(nested_objects(2))).status_code == 201
        response = post_raw(client, SEGMENTS, segment_body(nested_objects(3)))
        bad_request(
            response,
            "The request body nests arrays and objects deeper than 3 levels (JSON_MAX_DEPTH).",
        )

    @pytest.mark.parametrize(
        "content_type", ["application/json-patch+json", "application/merge-patch+json"]
    )
    def test_a_deep_patch_body_is_400(self, client, tenant, content_type):
        make_segment(tenant, "gold")
        body = "[" * 5000 + "]" * 5000
        response = fast(
            lambda: client.patch(f"{SEGMENTS}/gold", data=body, content_type=content_type)
        )
        bad_request(response, DEPTH_MESSAGE)


STORED_TOO_DEEP = (
    "The stored segment nests deeper than 64 levels (JSON_MAX_DEPTH), so it cannot be "
    "patched; replace it with PUT."
)


@pytest.mark.django_db
class TestPatchOfDeepSegments:
    """A segment stored before the limit (or by the admin or a command) may nest deeper."""

    @pytest.fixture(params=[100, 600, 800])
    def deep(self, request, tenant):
        mixins = json.loads(nested_objects(request.param))
        return make_segment(tenant, "deep", mixins=mixins)

    def test_json_patch_is_400_and_writes_nothing(self, client, deep):
        response = fast(
            lambda: client.patch(
                f"{SEGMENTS}/deep",
                [{"op": "replace", "path": "/status", "value": "INACTIVE"}],
                format="json",
            )
        )
        bad_request(response, STORED_TOO_DEEP)
        deep.refresh_from_db()
        assert (deep.status, deep.version) == ("ACTIVE", 1)

    def test_merge_patch_is_400(self, client, deep):
        response = fast(
            lambda: client.patch(
                f"{SEGMENTS}/deep",
                json.dumps({"status": "INACTIVE"}),
                content_type="application/merge-patch+json",
            )
        )
        bad_request(response, STORED_TOO_DEEP)

    def test_put_replaces_it_and_then_patch_works(self, client, deep):
        response = client.put(
            f"{SEGMENTS}/deep", {"name": "Shallow", "siteCode": "main"}, format="json"
        )
        assert response.status_code == 204
        response = client.patch(
            f"{SEGMENTS}/deep",
            [{"op": "replace", "path": "/status", "value": "INACTIVE"}],
            format="json",
        )
        assert response.status_code == 204

    def test_a_patch_that_would_nest_too_deep_is_400(self, client, tenant):
        make_segment(tenant, "gold", mixins=json.loads(nested_objects(40)))
        path = "/mixins" + "/a" * 39
        value = json.loads(nested_objects(40))
        response = client.patch(
            f"{SEGMENTS}/gold", [{"op": "replace", "path": path, "value": value}], format="json"
        )
        bad_request(
            response, "The patched segment would nest deeper than 64 levels (JSON_MAX_DEPTH)."
        )


@pytest.mark.django_db
class TestNumbersInBodies:
    @pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e99999", "-2e308"])
    def test_a_number_out_of_range_is_400_naming_it(self, client, number):
        response = fast(
            lambda: post_raw(client, SEGMENTS, segment_body('{"price": ' + number + "}"))
        )
        bad_request(
            response, f"The request body contains the number {number}, which is out of range."
        )
        assert not Segment.objects.exists()

    def test_a_long_number_is_named_shortly(self, client):
        number = "9" * 400 + ".0"
        response = post_raw(client, SEGMENTS, segment_body('{"price": ' + number + "}"))
        bad_request(
            response,
            f"The request body contains the number {'9' * 40}…, which is out of range.",
        )

    def test_out_of_range_in_a_search_body_too(self, client):
        bad_request(
            post_raw(client, SEARCH, '{"q": 1e400}'),
            "The request body contains the number 1e400, which is out of range.",
        )

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    def test_nan_and_infinity_are_400_naming_them(self, client, constant):
        response = post_raw(client, SEGMENTS, segment_body('{"price": ' + constant + "}"))
        bad_request(response, f"Malformed JSON in the request body: {constant} is not valid JSON.")

    def test_large_finite_numbers_are_kept(self, client):
        response = post_raw(
            client, SEGMENTS, segment_body('{"big": 1e308, "int": 1' + "0" * 30 + "}")
        )
        assert response.status_code == 201
        segment = Segment.objects.get()
        # PostgreSQL gives 1e308 back as the integer it equals.
        assert (float(segment.mixins["big"]), segment.mixins["int"]) == (1e308, 10**30)


def q_get(client, q: str):
    return client.get(SEGMENTS, {"q": q})


def q_search(client, q: str):
    return client.post(SEARCH, {"q": q}, format="json")


@pytest.mark.django_db
class TestFieldPaths:
    @pytest.mark.parametrize("segments", [65, 250, 1000, 30_000])
    def test_a_long_q_path_is_400_naming_the_limit(self, client, tenant, segments):
        make_segment(tenant, "gold")
        q = "mixins" + ".a" * (segments - 1) + ":x"
        for send in (q_get, q_search):
            response = fast(lambda send=send: send(client, q))
            bad_request(
                response,
                f"Invalid query: Field path 'mixins.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a…' has {segments} "
                "segments, more than 64 (FIELD_PATH_MAX_SEGMENTS) at position 0",
            )

    def test_a_path_of_the_limit_is_accepted(self, client, tenant):
        make_segment(tenant, "gold", mixins=json.loads(nested_objects(63, '"x"')))
        q = "mixins" + ".a" * 63 + ":x"
        response = fast(lambda: q_get(client, q))
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == ["gold"]

    @pytest.mark.parametrize("segments", [65, 250, 30_000])
    def test_a_long_sort_path_is_400_naming_the_limit(self, client, tenant, segments):
        make_segment(tenant, "gold")
        sort = "id," + "mixins" + ".a" * (segments - 1)
        response = fast(lambda: client.get(SEGMENTS, {"sort": sort}))
        bad_request(
            response,
            f"Invalid query: Field path 'mixins.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a…' has {segments} "
            "segments, more than 64 (FIELD_PATH_MAX_SEGMENTS) at position 3",
        )

    @pytest.mark.parametrize("url", [SEGMENTS, f"{SEGMENTS}/gold"])
    def test_a_long_fields_path_is_400_naming_the_limit(self, client, tenant, url):
        make_segment(tenant, "gold")
        fields = "id,mixins" + ".a" * 29_999
        response = fast(lambda: client.get(url, {"fields": fields}))
        bad_request(
            response,
            "fields: the path 'mixins.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a…' has 30000 segments, "
            "more than 64 (FIELD_PATH_MAX_SEGMENTS).",
        )

    @override_settings(FIELD_PATH_MAX_SEGMENTS=2)
    def test_the_limit_is_a_setting(self, client, tenant):
        make_segment(tenant, "gold", mixins={"a": {"b": 1}})
        assert q_get(client, "mixins.a:exists").status_code == 200
        bad_request(
            q_get(client, "mixins.a.b:1"),
            "Invalid query: Field path 'mixins.a.b' has 3 segments, more than 2 "
            "(FIELD_PATH_MAX_SEGMENTS) at position 0",
        )


@pytest.mark.django_db
class TestQuerySize:
    def test_9000_conditions_are_400_naming_the_limit(self, client, tenant):
        q = " ".join(["id:x"] * 9000)
        response = fast(lambda: q_search(client, q))
        position = len("id:x ") * 100
        bad_request(
            response,
            f"Invalid query: More than 100 conditions (QUERY_MAX_CONDITIONS) at position {position} "
            "(a range counts one per bound, a list on a JSON path one per value)",
        )

    def test_a_list_on_a_json_path_counts_one_per_value(self, client, tenant):
        q = "mixins.a:(" + ",".join(str(n) for n in range(500)) + ")"
        response = fast(lambda: q_search(client, q))
        bad_request(
            response,
            "Invalid query: More than 100 conditions (QUERY_MAX_CONDITIONS) at position 0 "
            "(a range counts one per bound, a list on a JSON path one per value)",
        )

    def test_a_range_counts_one_per_bound(self, client, tenant):
        q = "metadata.version:(" + " AND ".join(">0" for _ in range(101)) + ")"
        response = fast(lambda: q_search(client, q))
        bad_request(
            response,
            "Invalid query: More than 100 conditions (QUERY_MAX_CONDITIONS) at position 0 "
            "(a range counts one per bound, a list on a JSON path one per value)",
        )

    def test_100_conditions_and_long_lists_on_columns_are_fine(self, client, tenant):
        make_segment(tenant, "x7")
        ids = ",".join(f"x{n}" for n in range(2000))
        conditions = [f"id:({ids})", *["siteCode:main"] * 97, "siteCode:(main,b)", "status:ACTIVE"]
        response = fast(lambda: q_search(client, " ".join(conditions)))
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == ["x7"]

    def test_a_q_longer_than_the_limit_is_400(self, client, tenant):
        q = "id:" + "x" * 70_000
        response = fast(lambda: q_search(client, q))
        bad_request(
            response,
            "Invalid query: Query longer than 65536 characters (QUERY_MAX_LENGTH) at position 65536",
        )

    def test_thousands_of_conditions_answer_fast(self, client, tenant):
        response = fast(lambda: q_search(client, "id:a " * 13_000))
        assert response.status_code == 400
        assert "QUERY_MAX_CONDITIONS" in response.json()["message"]

    @override_settings(QUERY_MAX_CONDITIONS=2, QUERY_MAX_LENGTH=40)
    def test_the_limits_are_settings(self, client, tenant):
        assert q_get(client, "status:ACTIVE siteCode:main").status_code == 200
        bad_request(
            q_get(client, "status:ACTIVE siteCode:main id:x"),
            "Invalid query: More than 2 conditions (QUERY_MAX_CONDITIONS) at position 28 "
            "(a range counts one per bound, a list on a JSON path one per value)",
        )
        bad_request(
            q_get(client, "id:" + "x" * 40),
            "Invalid query: Query longer than 40 characters (QUERY_MAX_LENGTH) at position 40",
        )


@pytest.mark.django_db
class TestSortAndFieldsSize:
    def test_too_many_sort_fields_are_400_naming_the_limit(self, client, tenant):
        make_segment(tenant, "gold")
        sort = ",".join(f"mixins.a{n}" for n in range(5000))
        response = fast(lambda: client.get(SEGMENTS, {"sort": sort}))
        position = len(",".join(f"mixins.a{n}" for n in range(16))) + 1
        bad_request(
            response,
            f"Invalid query: More than 16 sort fields (SORT_MAX_FIELDS) at position {position}",
        )

    def test_the_same_sort_field_many_times_is_400_too(self, client, tenant):
        response = fast(lambda: client.get(SEGMENTS, {"sort": ",".join(["id"] * 30_000)}))
        assert response.status_code == 400
        assert "SORT_MAX_FIELDS" in response.json()["message"]

    @pytest.mark.parametrize("url", [SEGMENTS, f"{SEGMENTS}/gold"])
    def test_too_many_fields_are_400_naming_the_limit(self, client, tenant, url):
        make_segment(tenant, "gold")
        fields = ",".join(f"mixins.a{n}" for n in range(20_000))
        response = fast(lambda: client.get(url, {"fields": fields, "pageSize": 1000}))
        bad_request(response, "fields names more than 100 paths (FIELDS_MAX_PATHS).")

    @override_settings(SORT_MAX_FIELDS=1, FIELDS_MAX_PATHS=1)
    def test_the_limits_are_settings(self, client, tenant):
        make_segment(tenant, "gold")
        assert client.get(SEGMENTS, {"sort": "id", "fields": "id"}).status_code == 200
        bad_request(
            client.get(SEGMENTS, {"sort": "id,name"}),
            "Invalid query: More than 1 sort fields (SORT_MAX_FIELDS) at position 3",
        )
        bad_request(
            client.get(SEGMENTS, {"fields": "id,name"}),
            "fields names more than 1 paths (FIELDS_MAX_PATHS).",
        )


@pytest.mark.django_db
class TestLiteralsInQ:
    @pytest.mark.parametrize(
        "date", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:59+0100"]
    )
    @pytest.mark.parametrize("field", ["metadata.createdAt", "validity.from"])
    def test_a_date_out_of_range_in_utc_is_400(self, client, tenant, date, field):
        make_segment(tenant, "gold")
        q = f'{field}:>"{date}"'
        bad_request(
            fast(lambda: q_get(client, q)),
            f"Invalid query: Date '{date}' is out of range at position {len(field) + 2} "
            "(in UTC it must fall within the years 1 to 9999)",
        )

    @pytest.mark.parametrize("date", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-00:00"])
    def test_the_extreme_dates_in_range_work(self, client, tenant, date):
        make_segment(tenant, "gold")
        response = q_get(client, f'metadata.createdAt:>"{date}"')
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("metadata.version:99999999999999999999", []),
            ("metadata.version:>99999999999999999999", []),
            ("metadata.version:<99999999999999999999", ["gold"]),
            ("metadata.version:(99999999999999999999,1)", ["gold"]),
            ("metadata.version:(99999999999999999999,-99999999999999999999)", []),
            ("metadata.version:-99999999999999999999", []),
            ("metadata.version:" + "9" * 5000, []),
            ("metadata.version:<" + "9" * 5000, ["gold"]),
            ("metadata.version:>-" + "9" * 5000, ["gold"]),
            ("metadata.version:(" + "9" * 5000 + ",1)", ["gold"]),
        ],
    )
    def test_an_integer_out_of_range_compares_as_such(self, client, tenant, q, expected):
        make_segment(tenant, "gold")
        response = fast(lambda: q_get(client, q))
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == expected

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("mixins.n:>99999999999999999999", []),
            ("mixins.n:<99999999999999999999", ["gold"]),
            ("mixins.n:(99999999999999999999,5)", ["gold"]),
            ("mixins.n:>-" + "9" * 5000, []),
            ("mixins.n:" + "9" * 5000, []),
        ],
    )
    def test_huge_numbers_on_json_paths_compare_as_numbers(self, client, tenant, q, expected):
        make_segment(tenant, "gold", mixins={"n": 5})
        response = fast(lambda: q_get(client, q))
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == expected


HOSTILE_NAME = "a" * 600


@pytest.mark.django_db
class TestRegex:
    @pytest.mark.parametrize(
        "pattern",
        [
            "a*a*a*c",
            "^a*a*a*a*c",
            "a*a*a*a*a*a*a*a*c",
            "(a+)+b",
            "(a|aa)*c",
            "(.*)*x",
            "(a*)*(b*)*c",
            "(x+x+)+y",
            "((a{1,10}){1,10}){1,10}c",
        ],
    )
    def test_backtracking_patterns_answer_fast(self, client, tenant, pattern):
        make_segment(tenant, "long", name={"en": HOSTILE_NAME}, mixins={"text": HOSTILE_NAME})
        make_segment(tenant, "short", name={"en": "aac"})
        for field in ("name.en", "mixins.text", "id"):
            response = fast(lambda field=field: q_get(client, f"{field}:~{pattern}"))
            assert response.status_code == 200, response.content
        response = q_get(client, f"name.en:~{pattern}")
        expected = ["short"] if pattern.endswith("c") else []
        assert [row["id"] for row in response.json()] == expected

    def test_a_huge_repetition_count_is_400(self, client, tenant):
        bad_request(
            fast(lambda: q_get(client, "name.en:~a{99999999999}")),
            "Invalid query: Repetition counts above 255 are not allowed at position 9",
        )

    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            ("^(a|b)+$", ["ab"]),
            (r"\s", ["spaced"]),
            (r"^[a-z\s]+$", ["ab", "spaced"]),
            ("é", ["umlaut"]),
            ("^Gr..é$", ["umlaut"]),
            (r"\.\*", ["dots"]),
        ],
    )
    def test_what_a_pattern_matches(self, client, tenant, pattern, expected):
        names(tenant)
        response = q_get(client, f"name.en:~{pattern}")
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == expected

    @pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL reads \\w by its locale")
    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            (r"^\d+$", ["digits"]),
            (r"^\w+$", ["ab", "digits", "umlaut"]),
            (r"^[\w\s]+$", ["ab", "digits", "nbsp", "spaced", "umlaut"]),
            (r"^\D+$", ["ab", "dots", "nbsp", "spaced", "umlaut"]),
            (r"\W", ["dots", "nbsp", "spaced"]),
            (r"\s", ["nbsp", "spaced"]),
            (r"^\S+$", ["ab", "digits", "dots", "umlaut"]),
            (r"^[^\d\s]+$", ["ab", "dots", "umlaut"]),
        ],
    )
    def test_character_classes_on_sqlite_are_unicode_as_python_reads_them(
        self, client, tenant, pattern, expected
    ):
        names(tenant)
        make_segment(tenant, "nbsp", name={"en": "a\u00a0b"})
        response = q_get(client, f"name.en:~{pattern}")
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == expected


def names(tenant) -> None:
    """Segments whose names tell the regular expression engines apart."""
    make_segment(tenant, "ab", name={"en": "abba"})
    make_segment(tenant, "digits", name={"en": "\u066312"})  # an Arabic-Indic three
    make_segment(tenant, "dots", name={"en": "a.*"})
    make_segment(tenant, "spaced", name={"en": "a b"})
    make_segment(tenant, "umlaut", name={"en": "Größé"})


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed(payload: str, header: str = '{"alg":"HS256","typ":"JWT"}') -> str:
    """A token signed with the service's key around a payload written by hand."""
    signing_input = f"{_b64(header.encode())}.{_b64(payload.encode())}"
    key = settings.TOKEN_SIGNING_KEY.encode()
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@pytest.mark.django_db
class TestTokens:
    @pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
    @pytest.mark.parametrize("value", ["1e400", "-1e400", "NaN", "Infinity", "[]", "{}"])
    def test_a_signed_token_whose_time_claim_is_no_time_is_401(self, tenant, claim, value):
        now = int(time.time())
        claims = {"iss": settings.TOKEN_ISSUER, "tenant": "acme", "scope": READ, "exp": now + 600}
        claims.pop(claim, None)
        payload = json.dumps(claims)[:-1] + f', "{claim}": {value}}}'
        client = APIClient()
        response = fast(
            lambda: client.get(SEGMENTS, HTTP_AUTHORIZATION=f"Bearer {signed(payload)}")
        )
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN

    @pytest.mark.parametrize(
        "value",
        [str(10**500), str(2**63), str(2**64 + 1), "253402300800", "99999999999"],
        ids=["10**500", "2**63", "2**64+1", "year 10000", "year 5138"],
    )
    def test_a_signed_token_that_would_never_expire_is_401(self, tenant, value):
        # Integers, not floats: they decode and compare as later than any now. Tokens of
        # ours live at most TOKEN_MAX_TTL_SECONDS, so an `exp` further ahead is not one.
        claims = {"iss": settings.TOKEN_ISSUER, "tenant": "acme", "scope": READ}
        payload = json.dumps(claims)[:-1] + f', "exp": {value}}}'
        client = APIClient()
        response = fast(
            lambda: client.get(SEGMENTS, HTTP_AUTHORIZATION=f"Bearer {signed(payload)}")
        )
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN

    def test_a_signed_token_expiring_within_the_longest_lifetime_is_accepted(self, tenant):
        exp = int(time.time()) + settings.TOKEN_MAX_TTL_SECONDS
        claims = {"iss": settings.TOKEN_ISSUER, "tenant": "acme", "scope": READ, "exp": exp}
        client = APIClient()
        response = client.get(SEGMENTS, HTTP_AUTHORIZATION=f"Bearer {signed(json.dumps(claims))}")
        assert response.status_code == 200

    @pytest.mark.parametrize("part", ["header", "payload"])
    def test_a_token_nested_too_deep_is_401(self, tenant, part):
        deep = "[" * 5000 + "]" * 5000
        header = '{"alg":"HS256","typ":"JWT"}'
        payload = '{"tenant": "acme"}'
        token = signed(deep, header) if part == "payload" else signed(payload, deep)
        client = APIClient()
        response = fast(lambda: client.get(SEGMENTS, HTTP_AUTHORIZATION=f"Bearer {token}"))
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        (1, 0),
        ("text", 0),
        ([], 1),
        ({}, 1),
        ({"a": [1, {"b": []}]}, 4),
        ([1, "x", None, {"k": {"l": 2}}, [[]]], 3),
        ([{"id": i, "mixins": {"m": {"n": [i]}}} for i in range(200)], 5),
    ],
)
def test_json_depth_counts_the_deepest_nesting(value, depth):
    assert json_depth(value) == depth
    assert json_depth(value, stop_after=depth) == depth
    if depth:
        assert json_depth(value, stop_after=depth - 1) == depth

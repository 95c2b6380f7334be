"""The request parser: JSON only, size-capped, with messages that say what is wrong."""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from segmentservice.formats import unstorable_text


class PayloadTooLarge(exceptions.APIException):
    """The body is over the configured size."""

    status_code = 413
    default_detail = "The request body is too large."


class StrictJSONParser(BaseParser):
    """Parses `application/json` (and `+json` types) into Python objects.

    Reads at most `MAX_REQUEST_BODY_BYTES` + 1 bytes, so a body without a declared
    length cannot exhaust memory; refuses NaN/Infinity, which JSON does not have, numbers
    no float can hold (`1e400`, which Python would read as infinity), and arrays and
    objects nested deeper than `JSON_MAX_DEPTH`.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Return the decoded JSON document of the request body."""
        if stream is None:
            raise exceptions.ParseError("The request body is empty; a JSON document is expected.")
        limit = settings.MAX_REQUEST_BODY_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is over {limit} bytes.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"The request body is not UTF-8: {exc}.") from exc
        if not text.strip():
            raise exceptions.ParseError("The request body is empty; a JSON document is expected.")
        max_depth = settings.JSON_MAX_DEPTH
        too_deep = exceptions.ParseError(
            f"The request body nests arrays and objects deeper than {max_depth} levels "
            "(JSON_MAX_DEPTH)."
        )
        try:
            document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except _NumberOutOfRange as exc:
            raise exceptions.ParseError(
                f"The request body contains the number {exc.shown}, which is out of range."
            ) from None
        except RecursionError:
            # The decoder recurses once per level and gives up near a thousand, far past
            # the limit, so this body is too deep whatever the limit is.
            raise too_deep from None
        except ValueError as exc:
            raise exceptions.ParseError(f"Malformed JSON in the request body: {exc}.") from exc
        if json_depth(document, stop_after=max_depth) > max_depth:
            raise too_deep
        # A NUL or a lone surrogate can only come from a \u escape: UTF-8 has no surrogates,
        # and the decoder refuses a raw control character in a string. Most bodies have no
        # escape at all, and need no second walk through every string.
        problem = unstorable_text(document) if "\\u" in text else None
        if problem:
            raise exceptions.ParseError(f"The request body contains {problem}.")
        return document


class JSONMergePatchParser(StrictJSONParser):
    """Parses `application/merge-patch+json` (RFC 7396) bodies."""

    media_type = "application/merge-patch+json"


class JSONPatchParser(StrictJSONParser):
    """Parses `application/json-patch+json` (RFC 6902) bodies."""

    media_type = "application/json-patch+json"


def json_depth(value: Any, *, stop_after: int | None = None) -> int:
    """How many arrays and objects nest inside each other in `value` (a scalar is 0).

    Walks one level at a time, without recursion, so any depth is safe to measure; with
    `stop_after`, returns as soon as the depth is known to exceed it. A level's scalars
    are dropped by one comprehension, not visited one by one: a bulk body of 200 elements
    is measured in a tenth of a millisecond.
    """
    depth = 0
    level = [value]
    while True:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return depth
        depth += 1
        if stop_after is not None and depth > stop_after:
            return depth
        level = []
        for container in containers:
            level.extend(container.values() if isinstance(container, dict) else container)


class _NumberOutOfRange(Exception):
    """A JSON number beyond what a float holds; `shown` is its text, shortened."""

    def __init__(self, text: str) -> None:
        self.shown = text if len(text) <= 40 else f"{text[:40]}…"
        super().__init__(self.shown)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NumberOutOfRange(text)
    return number


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")

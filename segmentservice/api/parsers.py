"""The request parser: JSON only, size-capped, with messages that say what is wrong."""

from __future__ import annotations

import json
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
    length cannot exhaust memory; refuses NaN/Infinity, which JSON does not have.
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
        try:
            document = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise exceptions.ParseError(f"Malformed JSON in the request body: {exc}.") from exc
        problem = unstorable_text(document)
        if problem:
            raise exceptions.ParseError(f"The request body contains {problem}.")
        return document


class JSONMergePatchParser(StrictJSONParser):
    """Parses `application/merge-patch+json` (RFC 7396) bodies."""

    media_type = "application/merge-patch+json"


class JSONPatchParser(StrictJSONParser):
    """Parses `application/json-patch+json` (RFC 6902) bodies."""

    media_type = "application/json-patch+json"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")

"""Conditional GETs: an ETag from what a response depends on, If-None-Match, a 304 (RFC 9110).

A view computes the ETag *before* it reads the data (`response_etag` over the data's
version and everything else the representation depends on: who asks, the path, the query
string, the languages), so a response never carries a newer version than the data it shows.
A client that sends the ETag back in `If-None-Match` gets a 304 with no body while the
version has not moved. `Cache-Control: private, no-cache` lets a browser or the storefront
keep the answer but ask again every time; `Vary` names the request headers it depends on.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from rest_framework.response import Response

CACHE_CONTROL = "private, no-cache"
VARY = ("Authorization", "Accept-Language")


class NotModified(Exception):
    """The client's copy is current: answer 304."""


def response_etag(version: str, request: HttpRequest, *parts: object) -> str:
    """A strong ETag for a GET of `request` on data at `version`, for the caller `parts`."""
    query = sorted(request.GET.lists())
    digest = hashlib.blake2b(
        repr((parts, request.path, query, request.headers.get("Accept-Language"))).encode(),
        digest_size=12,
    ).hexdigest()
    return f'"{version}-{digest}"'


def if_none_match(request: HttpRequest, etag: str) -> bool:
    """Whether the request's If-None-Match names `etag` (weak comparison, as GET wants)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    if "*" in tags:
        return True
    bare = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == bare for tag in tags)


def conditional_headers(response: Response, etag: str) -> Response:
    """Put the ETag, Cache-Control and Vary of a conditional GET on `response`."""
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, VARY)
    return response


def not_modified(etag: str) -> Response:
    """The 304 for `etag`: no body, the same validators and caching headers."""
    return conditional_headers(Response(status=304), etag)

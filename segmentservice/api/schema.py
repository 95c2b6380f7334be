"""OpenAPI helpers: the error responses every tenant operation documents, shared parameters
and the postprocessing hooks (camelCase path parameters, the demo tenant as the default)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from segmentservice.api.dryrun import DRY_RUN_HEADER, DRY_RUN_PARAMETER, is_write
from segmentservice.api.serializers import (
    BulkAssignmentResultSerializer,
    ErrorSerializer,
    FaultSerializer,
)

TENANT_PARAMETER = OpenApiParameter(
    "tenant",
    str,
    OpenApiParameter.PATH,
    description="Your tenant name, lowercase: ^[a-z][a-z0-9]+$, 3 to 16 characters.",
)

ERROR_400 = OpenApiResponse(
    ErrorSerializer, description="Bad request due to validation, incorrect parameters, etc."
)
ERROR_401 = OpenApiResponse(
    FaultSerializer,
    description="Unauthorized: the token is missing, malformed, expired or badly signed.",
    examples=[
        OpenApiExample(
            "Invalid access token",
            {
                "fault": {
                    "faultstring": "Invalid access token",
                    "detail": {"errorcode": "oauth.v2.InvalidAccessToken"},
                }
            },
        )
    ],
)
ERROR_403 = OpenApiResponse(
    ErrorSerializer,
    description="The token is another tenant's, or lacks the scope: then `details` holds one "
    "`missing scope: <scope>` per scope the operation accepts.",
)
ERROR_404 = OpenApiResponse(ErrorSerializer, description="Resource not found.")
ERROR_409 = OpenApiResponse(
    ErrorSerializer, description="Conflict: the resource exists, or has changed."
)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses for `codes`."""
    table = {400: ERROR_400, 401: ERROR_401, 403: ERROR_403, 404: ERROR_404, 409: ERROR_409}
    return {code: table[code] for code in codes}


# A text parameter that may be left out but not sent blank ("must not be empty" otherwise).
NON_BLANK = {"type": "string", "pattern": r"\S"}
# The body of every `/search`: `{"q": "..."}`; a null or absent body or `q` filters nothing.
SEARCH_BODY = {
    "type": "object",
    "nullable": True,
    "properties": {"q": {"type": "string", "nullable": True, "example": "siteCode:main"}},
    "additionalProperties": False,
}

FIELDS_PARAMETER = OpenApiParameter("fields", str, description="Only these fields.")
LEGAL_ENTITY_PARAMETER = OpenApiParameter(
    "legalEntityId",
    str,
    description="For a customer token: act for this legal entity (when the token names none).",
)
ASSIGNMENT_BULK_RESPONSES = {
    207: OpenApiResponse(
        BulkAssignmentResultSerializer(many=True), description="One entry per element, in order."
    ),
    **errors(400, 401, 403, 404),
}


def bulk_delete_body(element: dict[str, Any], ids_element: dict[str, Any] | None = None) -> dict:
    """The request body of a bulk delete: the hosted service's JSON array of `element`s, or
    the object `{"ids": [...]}` the platform's SDK sends (of `ids_element`s, by default the
    same elements)."""
    return {
        "application/json": {
            "oneOf": [
                {
                    "type": "array",
                    "items": element,
                    "description": "The elements, as the hosted service documents them.",
                },
                {
                    "type": "object",
                    "properties": {"ids": {"type": "array", "items": ids_element or element}},
                    "required": ["ids"],
                    "additionalProperties": False,
                    "description": "The elements under `ids`, as the platform's SDK sends them.",
                },
            ]
        }
    }


ID_ELEMENT = {"type": "string", "minLength": 1}
CUSTOMER_KEY_ELEMENT = {
    "type": "object",
    "properties": {
        "customerId": {"type": "string", "minLength": 1, "maxLength": 64},
        "legalEntityId": {"type": "string", "maxLength": 64, "nullable": True},
    },
    "required": ["customerId"],
    "additionalProperties": False,
}

ACCEPT_LANGUAGE = OpenApiParameter(
    "Accept-Language",
    str,
    OpenApiParameter.HEADER,
    description="Absent or `*`: localized fields as maps; a list such as `fr-CH, fr;q=0.9`: plain strings.",
)
CONTENT_LANGUAGE = OpenApiParameter(
    "Content-Language",
    str,
    OpenApiParameter.HEADER,
    description="The language of plain-string localized values in the body; `*` for maps.",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel_case_path_parameters(result: dict, generator, request, public) -> dict:
    """Name path parameters as the contract does (`{segmentId}`, not `{segment_id}`).

    Python keeps snake_case URL keyword arguments; clients and the YAML see camelCase.
    """
    paths = {}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    old = parameter["name"]
                    parameter["name"] = _camel(old)
                    path = path.replace("{" + old + "}", "{" + parameter["name"] + "}")
        paths[path] = operations
    result["paths"] = paths
    return result


def empty_query_values(result: dict, generator, request, public) -> dict:
    """Say of every integer and boolean query parameter that an empty value means "absent".

    `pageSize=`, `pageNumber=`, `onlyActive=` and `forceDelete=` are read as if left out,
    which is what OpenAPI's `allowEmptyValue` states.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("schema", {}).get("type") in (
                    "integer",
                    "boolean",
                ):
                    parameter["allowEmptyValue"] = True
    return result


TENANT_PATH_PREFIX = "/customer-segment/{tenant}/"
# What any request to a tenant operation can meet, whatever the operation does.
TENANT_OPERATION_ERRORS = {
    "400": "The tenant name is malformed, or a path or query value holds a NUL character.",
    "404": "The tenant does not exist (any more).",
}


def tenant_operation_errors(result: dict, generator, request, public) -> dict:
    """Document on every tenant operation the errors that the tenant path itself can cause.

    `TenantScopedViewSet` refuses a malformed tenant name or a NUL in the path or query with a 400
    and a valid token of a deleted tenant with a 404, before the operation runs.
    """
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(TENANT_PATH_PREFIX):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in TENANT_OPERATION_ERRORS.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": error}
                )
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return result


class PlainPageSchema(AutoSchema):
    """The schema of a viewset whose pages are plain JSON arrays (`ContractPagination`),
    whose writes take `dryRun`.

    The paginator contributes its parameters as usual; its responses are the array itself,
    so no `Paginated...List` component wraps them. drf-spectacular has no public switch for
    that: this overrides its `_get_paginator` while a response is described (pinned by the
    identical-schema test of the list operations, tests/test_openapi_schema.py).
    """

    _describing_response = False

    def _get_request_body(self, direction: str = "request") -> Any:
        """drf-spectacular documents bodies of POST, PUT and PATCH only; a DELETE that
        declares its body's media types (the bulk deletes) documents that body too."""
        if self.method != "DELETE" or not isinstance(self.get_request_serializer(), dict):
            return super()._get_request_body(direction)
        self.method = "PUT"  # what the generator asks before it describes a body
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"

    def get_override_parameters(self) -> list:
        """The operation's own parameters, and on every write (`is_write`) `dryRun` and
        the `X-Dry-Run` header of its responses."""
        parameters = list(super().get_override_parameters())
        if is_write(self.view, self.method):
            parameters.extend((DRY_RUN_PARAMETER, DRY_RUN_HEADER))
        return parameters

    def _get_response_for_code(self, *args: Any, **kwargs: Any) -> dict:
        self._describing_response = True
        try:
            return super()._get_response_for_code(*args, **kwargs)
        finally:
            self._describing_response = False

    def _get_paginator(self):
        if self._describing_response:
            return None
        return super()._get_paginator()


# The tenant the Quick start seeds: Swagger UI's "Try it out" starts with it filled in.
DEMO_TENANT = "demo"


def demo_tenant_default(result: dict, generator, request, public) -> dict:
    """Give every `{tenant}` path parameter the demo tenant as its default."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") == "tenant":
                    parameter.setdefault("schema", {"type": "string"})["default"] = DEMO_TENANT
    return result

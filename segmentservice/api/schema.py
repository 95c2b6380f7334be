"""OpenAPI helpers: the error responses every tenant operation documents, shared parameters
and the postprocessing hooks (camelCase path parameters, the demo tenant as the default)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from segments.query.describe import q_description
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


LIST_PARAMETERS = [
    OpenApiParameter(
        "q",
        str,
        description="Filter, e.g. `siteCode:main status:ACTIVE name.en:~(Gold)`. "
        + q_description()
        + "\n\nSee docs/query-language.md.",
    ),
    OpenApiParameter("pageSize", int, description="Page size, 1 to 1000, default 60."),
    OpenApiParameter("pageNumber", int, description="Page number, from 1."),
    OpenApiParameter(
        "sort", str, description="e.g. `name.en:ASC,metadata.createdAt:DESC`; ties broken by id."
    ),
    OpenApiParameter(
        "fields", str, description="Only these fields, e.g. `id,name,metadata.version`."
    ),
    OpenApiParameter(
        "X-Total-Count",
        bool,
        OpenApiParameter.HEADER,
        description="`true` adds the X-Total-Count response header.",
    ),
]
SEARCH_PARAMETERS = [p for p in LIST_PARAMETERS if p.name != "q"]
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

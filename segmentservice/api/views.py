"""Service-level endpoints outside the tenant prefix: health, readiness and metrics."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from segmentservice.api.errors import error_body, json_error
from segmentservice.metrics import metrics_registry
from segmentservice.readiness import readiness_check

logger = logging.getLogger(__name__)


class HealthView(APIView):
    """`GET /healthz`: 200 when the database answers, 503 when it does not.

    Anyone may call it, so the 503 names no host, port or database: the driver's message
    goes to the log only.
    """

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        tags=["Health"],
        summary="Checking the service's health",
        auth=[],
        responses={
            (200, "application/json"): inline_serializer(
                "Health", {"status": serializers.CharField(), "database": serializers.CharField()}
            ),
            (503, "application/json"): inline_serializer(
                "HealthFailure",
                {"status": serializers.CharField(), "database": serializers.CharField()},
            ),
        },
    )
    def get(self, request: Request) -> Response:
        """Run a trivial query; report whether it worked."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:  # any database failure means unhealthy, never a 500
            logger.warning("Health check: the database did not answer: %s", exc)
            return Response({"status": "unavailable", "database": "unavailable"}, status=503)
        return Response({"status": "ok", "database": "ok"})


class ReadyView(APIView):
    """`GET /readyz`: 200 when the database answers and every migration is applied, else 503."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        tags=["Health"],
        summary="Checking the service is ready to serve",
        description=(
            "For a load balancer or orchestrator: 200 once the database answers and every "
            "migration is applied; 503 (the error body, with the same `checks`) otherwise. "
            "Checks are `ok`, `unreachable`, `pending` or `unknown`; no connection details."
        ),
        auth=[],
        responses={
            (200, "application/json"): inline_serializer(
                "Ready",
                {
                    "status": serializers.CharField(),
                    "checks": inline_serializer(
                        "ReadyChecks",
                        {
                            "database": serializers.CharField(),
                            "migrations": serializers.CharField(),
                        },
                    ),
                },
            ),
            (503, "application/json"): inline_serializer(
                "NotReady",
                {
                    "code": serializers.IntegerField(),
                    "status": serializers.CharField(),
                    "message": serializers.CharField(),
                    "checks": inline_serializer(
                        "NotReadyChecks",
                        {
                            "database": serializers.CharField(),
                            "migrations": serializers.CharField(),
                        },
                    ),
                },
            ),
        },
    )
    def get(self, request: Request) -> Response:
        """Report each check's verdict."""
        result = readiness_check()
        checks = {"database": result.database, "migrations": result.migrations}
        if result.ready:
            return Response({"status": "ok", "checks": checks})
        if result.database != "ok":
            message = "Not ready: the database does not answer."
        elif result.migrations == "pending":
            message = "Not ready: migrations are not applied yet (run manage.py migrate)."
        else:
            message = "Not ready: the applied migrations could not be read."
        return Response({**error_body(503, message), "checks": checks}, status=503)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics` with `Authorization: Bearer <METRICS_TOKEN>`; 403 while no token is set."""
    token = settings.METRICS_TOKEN
    if not token:
        return json_error(403, "Metrics are off: set METRICS_TOKEN to serve them at /metrics.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
        response = json_error(
            401, "The metrics need Authorization: Bearer <the METRICS_TOKEN setting>."
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in ("GET", "HEAD"):
        response = json_error(405, f"Method {request.method} is not allowed on /metrics; use GET.")
        response["Allow"] = "GET, HEAD"
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)

"""Service-level endpoints outside the tenant prefix."""

from __future__ import annotations

import logging

from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from segmentservice.api.errors import error_body
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

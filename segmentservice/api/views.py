"""Service-level endpoints outside the tenant prefix."""

from __future__ import annotations

import logging

from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

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

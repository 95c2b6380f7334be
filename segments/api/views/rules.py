"""`/segments/{segmentId}/rule`, `/rule/preview` and `/explain`: rules (SPEC §12).

An extension of the hosted contract: these operations carry `x-extension: true` in the
OpenAPI document and the `Extensions` tag. Each action validates its body, calls one
service or selector, and renders the answer.
"""

from __future__ import annotations

from django.db import connection, transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from segments.api.serializers.rules import (
    ExplainSerializer,
    PreviewSerializer,
    RuleInputSerializer,
    RuleSerializer,
    rule_input,
)
from segments.api.serializers.segments import MatchInputSerializer, parse_match_input
from segments.api.views.base import MANAGE, READ, TenantScopedViewSet
from segments.models import CustomerAssignment, RuleExclusion, Segment, SegmentRule
from segments.selectors.match_explain import match_explain
from segments.selectors.rules import rule_preview, segment_explain
from segments.selectors.segments import segment_get
from segments.services.rules import Evaluation, rule_check, rule_delete, rule_upsert
from segmentservice.api.schema import TENANT_PARAMETER, errors
from segmentservice.exceptions import NotFound, ValidationFailed
from segmentservice.formats import format_instant

TAGS = ["Extensions: rules"]
EXTENSION = {"x-extension": True}
SEGMENT_ID = OpenApiParameter("segment_id", str, OpenApiParameter.PATH, description="The segment.")
RULE_EXAMPLE = OpenApiExample(
    "Gold customers of Acme",
    {"q": "attributes.tier:gold legalEntities.name:~^Acme", "assign": "B2B", "enabled": True},
    request_only=True,
)


def rule_document(rule: SegmentRule, evaluation: Evaluation | None = None) -> dict:
    """The wire form of a rule, with the segment's counts."""
    document = {
        "segmentId": rule.segment.external_id,
        "q": rule.q,
        "assign": rule.assign,
        "enabled": rule.enabled,
        "lastEvaluatedAt": format_instant(rule.last_evaluated_at),
        "memberCount": CustomerAssignment.objects.filter(
            tenant_id=rule.tenant_id, segment_id=rule.segment_id
        ).count(),
        "excludedCount": RuleExclusion.objects.filter(
            tenant_id=rule.tenant_id, segment_id=rule.segment_id
        ).count(),
    }
    if evaluation is not None:
        document["evaluation"] = {"added": evaluation.added, "removed": evaluation.removed}
    return document


@extend_schema(parameters=[TENANT_PARAMETER, SEGMENT_ID])
class SegmentRuleViewSet(TenantScopedViewSet):
    """A segment's rule, its preview, and why a customer is in the segment."""

    queryset = SegmentRule.objects.none()
    # No list here: nothing is paged, filtered or sorted.
    pagination_class = None
    filter_backends: list = []
    read_actions = frozenset({"preview"})  # a POST that only reads: no dry run
    required_scopes = {
        "rule": READ,
        "rule_put": MANAGE,
        "rule_delete": MANAGE,
        "preview": MANAGE,
        "explain": READ,
    }

    def _segment(self, segment_id: str) -> Segment:
        return segment_get(
            tenant=self.tenant,
            segment_id=segment_id,
            queryset=Segment.objects.filter(tenant=self.tenant),
        )

    @extend_schema(
        tags=TAGS,
        operation_id="GET-customer-segment-retrieve-segment-rule",
        summary="Retrieving a segment's rule (extension)",
        description="The rule, when it was last evaluated in full, and the member count.",
        responses={200: RuleSerializer, **errors(401, 403, 404)},
        extensions=EXTENSION,
    )
    @action(detail=False, methods=["get"], url_path="rule")
    def rule(self, request: Request, tenant: str, segment_id: str) -> Response:
        """GET /segments/{segmentId}/rule."""
        segment = self._segment(segment_id)
        rule = SegmentRule.objects.filter(tenant=self.tenant, segment=segment).first()
        if rule is None:
            raise NotFound(f"The segment with id {segment_id} has no rule.")
        rule.segment = segment
        return Response(rule_document(rule))

    @extend_schema(
        tags=TAGS,
        operation_id="PUT-customer-segment-upsert-segment-rule",
        summary="Writing a segment's rule (extension)",
        description="Creates or replaces the rule and evaluates it in full in the same "
        "transaction: its `AUTOMATIC` assignments become its matches (excluded customers "
        "left out, `MANUAL` assignments untouched), each change with its event.",
        request=RuleInputSerializer,
        examples=[RULE_EXAMPLE],
        responses={200: RuleSerializer, 201: RuleSerializer, **errors(400, 401, 403, 404)},
        extensions=EXTENSION,
    )
    @rule.mapping.put
    def rule_put(self, request: Request, tenant: str, segment_id: str) -> Response:
        """PUT /segments/{segmentId}/rule."""
        data = rule_input(request.data)
        rule, created, evaluation = rule_upsert(
            tenant=self.tenant, segment_id=segment_id, data=data
        )
        return Response(rule_document(rule, evaluation), status=201 if created else 200)

    @extend_schema(
        tags=TAGS,
        operation_id="DELETE-customer-segment-remove-segment-rule",
        summary="Removing a segment's rule (extension)",
        description="Removes the rule with its `AUTOMATIC` assignments (each with its event) "
        "and its exclusions; `MANUAL` assignments stay. To keep the rule-made assignments, "
        "PUT the rule with `enabled: false` instead.",
        request=None,
        responses={204: None, **errors(400, 401, 403, 404)},
        extensions=EXTENSION,
    )
    @rule.mapping.delete
    def rule_delete(self, request: Request, tenant: str, segment_id: str) -> Response:
        """DELETE /segments/{segmentId}/rule."""
        rule_delete(tenant=self.tenant, segment_id=segment_id)
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        operation_id="POST-customer-segment-preview-segment-rule",
        summary="Previewing a rule (extension)",
        description="What saving the rule would make of the segment, against its members "
        "today: the matches, and the members it would add and remove, with samples of 20. "
        "One read-only transaction; nothing is written.",
        request=RuleInputSerializer,
        examples=[RULE_EXAMPLE],
        responses={200: PreviewSerializer, **errors(400, 401, 403, 404)},
        extensions=EXTENSION,
    )
    @action(detail=False, methods=["post"], url_path="rule/preview")
    def preview(self, request: Request, tenant: str, segment_id: str) -> Response:
        """POST /segments/{segmentId}/rule/preview."""
        data = rule_input(request.data)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION READ ONLY")
            segment = self._segment(segment_id)
            compiled = rule_check(tenant=self.tenant, segment_id=segment_id, data=data)
            body = rule_preview(tenant=self.tenant, segment_pk=segment.pk, rule=compiled)
        return Response(body)

    @extend_schema(
        tags=TAGS,
        operation_id="GET-customer-segment-explain-segment-membership",
        summary="Why a customer is in a segment (extension)",
        description="Each membership source (`MANUAL`, `AUTOMATIC` with every condition of "
        "the rule, its customer value and verdict, `GROUP` with the group through which the "
        "customer belongs, `EXCLUDED`, or `RULE` when the rule "
        "makes no assignment), and the segment's status and validity behind `effective`.",
        parameters=[
            OpenApiParameter("customerId", str, required=True, description="The customer."),
            OpenApiParameter("legalEntityId", str, description="The B2B assignment's entity."),
        ],
        responses={200: ExplainSerializer, **errors(400, 401, 403, 404)},
        extensions=EXTENSION,
    )
    @action(detail=False, methods=["get"], url_path="explain")
    def explain(self, request: Request, tenant: str, segment_id: str) -> Response:
        """GET /segments/{segmentId}/explain?customerId=C[&legalEntityId=L]."""
        customer_id = request.query_params.get("customerId", "")
        if not customer_id.strip():
            raise ValidationFailed("customerId: This query parameter is required.")
        legal_entity_id = request.query_params.get("legalEntityId") or None
        segment = self._segment(segment_id)
        return Response(
            segment_explain(
                tenant=self.tenant,
                segment=segment,
                customer_id=customer_id,
                legal_entity_id=legal_entity_id,
                languages=self.languages,
            )
        )


class MatchExplainItemSerializer(serializers.Serializer):
    """One reason a product matches."""

    segmentId = serializers.CharField()
    type = serializers.ChoiceField(choices=["PRODUCT", "CATEGORY"])
    categoryPath = serializers.ListField(
        child=serializers.CharField(),
        help_text="From the assigned category down to the product's category; [] for PRODUCT.",
    )


class MatchExplainSerializer(serializers.Serializer):
    """A product of the match body, whether it matched, and through what."""

    id = serializers.CharField()
    matched = serializers.BooleanField()
    via = MatchExplainItemSerializer(many=True)


@extend_schema(parameters=[TENANT_PARAMETER])
class MatchExplainViewSet(TenantScopedViewSet):
    """`POST /segments/match/explain`."""

    queryset = Segment.objects.none()
    pagination_class = None
    filter_backends: list = []
    required_scopes = {"match_explain": MANAGE}
    read_actions = frozenset({"match_explain"})  # a POST that only reads: no dry run

    @extend_schema(
        tags=TAGS,
        operation_id="POST-customer-segment-explain-match",
        summary="Why products match segments (extension)",
        description="The match body; answers, in request order, whether each product matches "
        "and through which segment and assignment: the product itself, or the category path "
        "from the assigned category down to the product's category.",
        request=MatchInputSerializer,
        responses={200: MatchExplainSerializer(many=True), **errors(400, 401, 403)},
        extensions=EXTENSION,
    )
    @action(detail=False, methods=["post"], url_path="explain")
    def match_explain(self, request: Request, tenant: str) -> Response:
        """POST /segments/match/explain."""
        site_code, product_ids, segment_ids = parse_match_input(request.data)
        return Response(
            match_explain(
                tenant=self.tenant,
                site_code=site_code,
                product_ids=product_ids,
                segment_ids=segment_ids,
            )
        )

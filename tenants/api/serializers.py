"""Serializers of the token endpoint."""

from rest_framework import serializers


class TokenRequestSerializer(serializers.Serializer):
    """A client-credentials grant (RFC 6749 section 4.4), form-encoded."""

    grant_type = serializers.CharField()
    client_id = serializers.CharField(required=False)
    client_secret = serializers.CharField(required=False)
    scope = serializers.CharField(required=False, allow_blank=True)


class TokenResponseSerializer(serializers.Serializer):
    """The token answer, as OAuth2 gives it."""

    access_token = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_in = serializers.IntegerField()
    scope = serializers.CharField()


class OAuthErrorSerializer(serializers.Serializer):
    """An OAuth2 error answer (RFC 6749 section 5.2)."""

    error = serializers.CharField()
    error_description = serializers.CharField(required=False)

"""Routes of the tenants app."""

from django.urls import path

from tenants.api.views import TokenView

urlpatterns = [path("oauth/token", TokenView.as_view(), name="oauth-token")]

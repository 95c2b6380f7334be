"""The service's routes: the tenant API, the token endpoint, the admin, docs, health and metrics."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from segmentservice.api.views import HealthView, ReadyView, metrics_view

urlpatterns = [
    path("", include("tenants.api.urls")),
    path("customer-segment/<str:tenant>/", include("segments.api.urls")),
    path("admin/", admin.site.urls),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
        name="schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(
            url_name="schema", permission_classes=[], authentication_classes=[]
        ),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(
            url_name="schema", permission_classes=[], authentication_classes=[]
        ),
        name="redoc",
    ),
]

handler400 = "segmentservice.api.errors.handler400"
handler403 = "segmentservice.api.errors.handler403"
handler404 = "segmentservice.api.errors.handler404"
handler500 = "segmentservice.api.errors.handler500"

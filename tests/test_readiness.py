"""`/readyz`: ready only while the database answers and every migration is applied.

The database-unreachable case is served by a real gunicorn in tests/test_deploy.py.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from segmentservice import readiness


@pytest.fixture(autouse=True)
def _forget_applied_migrations(monkeypatch):
    monkeypatch.setattr(readiness, "_migrations_applied", False)


@pytest.mark.django_db
def test_ready_when_the_database_answers_and_migrations_are_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


@pytest.mark.django_db
def test_not_ready_while_a_migration_is_not_applied(client):
    recorder = MigrationRecorder(connection)
    latest = max(name for app, name in recorder.applied_migrations() if app == "segments")
    recorder.record_unapplied("segments", latest)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "code": 503,
        "status": "Service Unavailable",
        "message": "Not ready: migrations are not applied yet (run manage.py migrate).",
        "checks": {"database": "ok", "migrations": "pending"},
    }
    # Liveness is another question: the process is fine.
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_once_ready_the_migration_graph_is_not_read_again(client, django_assert_num_queries):
    assert client.get("/readyz").status_code == 200
    with django_assert_num_queries(1):  # SELECT 1
        assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_reachable_over_plain_http_behind_the_ssl_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").status_code == 200
    redirected = client.get("/customer-segment/acme/segments")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/customer-segment/acme/segments"

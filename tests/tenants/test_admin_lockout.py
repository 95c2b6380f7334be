"""The admin login locks a user out from an address after repeated failed attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery staple"
LOCKED = "Too many failed login attempts. Try again in 15 minutes."


@pytest.fixture
def root(db, fast_hashing):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


def log_in(client: Client, password: str, username: str = "root", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == LOCKED
    assert response["Retry-After"] == "900"


@pytest.mark.django_db
class TestAdminLockout:
    def test_the_fifth_failure_locks_the_login_out_even_for_the_right_password(self, root):
        client = Client()
        for _ in range(4):
            assert log_in(client, "wrong").status_code == 200  # the form, with its error

        assert_locked_out(log_in(client, "wrong"))
        assert_locked_out(log_in(client, PASSWORD))
        assert "_auth_user_id" not in client.session

    def test_the_right_password_logs_in_before_the_limit(self, root):
        client = Client()
        for _ in range(4):
            log_in(client, "wrong")

        response = log_in(client, PASSWORD)

        assert response.status_code == 302
        assert response["Location"] == "/admin/"

    def test_a_success_forgets_the_earlier_failures(self, root):
        client = Client()
        for _ in range(4):
            log_in(client, "wrong")
        log_in(client, PASSWORD)
        client.logout()

        for _ in range(4):
            assert log_in(client, "wrong").status_code == 200
        assert log_in(client, PASSWORD).status_code == 302

    def test_the_lockout_is_per_user_and_address(self, root):
        get_user_model().objects.create_superuser("other", "other@example.com", PASSWORD)
        for _ in range(5):
            log_in(Client(), "wrong")

        assert log_in(Client(), PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302
        assert log_in(Client(), PASSWORD, username="other").status_code == 302
        assert_locked_out(log_in(Client(), PASSWORD))

    def test_the_lockout_ends_after_the_cool_off(self, root):
        from axes.models import AccessAttempt

        for _ in range(5):
            log_in(Client(), "wrong")
        AccessAttempt.objects.update(
            attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
        )

        assert log_in(Client(), PASSWORD).status_code == 302

    def test_the_limit_and_cool_off_are_settings(self):
        assert settings.AXES_FAILURE_LIMIT == 5
        assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60

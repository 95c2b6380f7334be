"""Helpers for tests that race real HTTP requests on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient

THREADS = 8

# Row locks and truly concurrent connections need PostgreSQL; each test commits for real.
POSTGRES_RACE = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="needs PostgreSQL row locks and concurrent connections",
    ),
    pytest.mark.django_db(transaction=True),
]


def race(token: str, request: Callable[[APIClient, int], Any]) -> list:
    """Run `request(client, number)` in THREADS threads released at the same moment."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(number: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait()
            results[number] = request(client, number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results

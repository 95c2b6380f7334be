"""Helpers for tests that race real HTTP requests on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from tests.conftest import postgres_only

THREADS = 8

# Row locks and truly concurrent connections need PostgreSQL; each test commits for real.
POSTGRES_RACE = [
    *postgres_only("needs PostgreSQL row locks and concurrent connections"),
    pytest.mark.django_db(transaction=True),
]


def race(token: str, request: Callable[[APIClient, int], Any], *, threads: int = THREADS) -> list:
    """Run `request(client, number)` in `threads` threads released at the same moment.

    A request that fails on the server answers its 500 instead of raising in its thread,
    so a test can count server errors.
    """
    barrier = threading.Barrier(threads)
    results: list = [None] * threads

    def run(number: int) -> None:
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait()
            results[number] = request(client, number)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return results

"""Request counting on Django's cache: fixed windows shared by every worker using that cache.

A rate is DRF's notation, `"<count>/<period>"` with the period `s`, `min`, `h` or `day`
(only the first letter counts). Each (scope, caller) pair gets one counter per window,
increased atomically (`cache.incr`), so with a shared cache (Redis, `CACHE_URL`) every
worker counts together; the default local-memory cache counts per process.

When the cache cannot be reached, requests are let through rather than refused: the
limits guard against floods, and an unreachable cache should not take the API down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Wall-clock time, so that every worker agrees on where a window starts; tests move it.
_now = time.time


def rate_parse(rate: str) -> tuple[int, int]:
    """`"10/min"` → (10, 60): the number of requests and the window's seconds."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[:1]]


def rate_of(scope: str) -> str | None:
    """The configured rate of a throttle scope (`DEFAULT_THROTTLE_RATES`); None: unlimited."""
    return api_settings.DEFAULT_THROTTLE_RATES.get(scope)


def rate_hit(*, scope: str, ident: str, rate: str | None) -> int | None:
    """Count one request of `ident` in `scope`; None when it is allowed, else seconds to wait.

    `ident` may be anything a caller sent (it is hashed into the cache key).
    """
    if not rate:
        return None
    limit, period = rate_parse(rate)
    now = _now()
    window = int(now // period)
    digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    key = f"ratelimit:{scope}:{digest}:{window}"
    try:
        count = _increment(key, timeout=2 * period)
    except Exception:
        logger.warning("Rate limit %s not counted: the cache did not answer.", scope, exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * period - now))


def _increment(key: str, *, timeout: int) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)


def client_address(request: Any) -> str:
    """The caller's address: `REMOTE_ADDR`, or behind `NUM_PROXIES` trusted proxies, the
    address the outermost of them saw (from `X-Forwarded-For`). Also axes' address."""
    return BaseThrottle().get_ident(request)

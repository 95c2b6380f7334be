"""The data sizes the benchmark runs at; per-request work is the same at each."""

from __future__ import annotations

# The sizes keep the same ratios (5 segments per customer, 25 items per segment, subtrees
# of 21 categories), so a request does the same work and only the tables grow.
SIZES: dict[str, dict[str, int]] = {
    "small": {
        "segments": 200,
        "customers": 1_000,
        "customer-assignments": 5_000,
        "products": 1_000,
        "categories": 341,
        "item-assignments": 5_000,
    },
    "large": {
        "segments": 20_000,
        "customers": 100_000,
        "customer-assignments": 500_000,
        "products": 50_000,
        "categories": 6_820,
        "item-assignments": 500_000,
    },
    # 10,000,000 assignments: 1,000,000 customers in 5 segments each (PostgreSQL only).
    "xlarge": {
        "segments": 200_000,
        "customers": 1_000_000,
        "customer-assignments": 5_000_000,
        "products": 500_000,
        "categories": 68_200,
        "item-assignments": 5_000_000,
    },
}


def assignments(size: str) -> int:
    """Customer plus item assignments at `size`."""
    return SIZES[size]["customer-assignments"] + SIZES[size]["item-assignments"]

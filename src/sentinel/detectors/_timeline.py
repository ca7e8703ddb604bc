"""Per-hour series of a few candidate hosts, for the evidence and charts of alerts (dns, lateral,
exfiltration): the bucketing SQL both engines run, and the span of hours a chart covers."""

from __future__ import annotations

from sentinel.schema import hour_sql

HOUR_SQL = hour_sql("ts")


def hour_span(hours: list[int], limit: int = 24 * 7) -> list[int]:
    """Every hour from the first to the last of `hours` (empty ones included), at most `limit` of them
    (the last ones)."""
    if not hours:
        return []
    first, last = min(hours), max(hours)
    return list(range(max(first, last - limit + 1), last + 1))

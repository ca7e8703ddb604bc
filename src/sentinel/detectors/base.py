"""Helpers shared by detectors: the one severity table and the host details an alert sentence quotes."""

from __future__ import annotations

from sentinel.context import Context
from sentinel.report.formatting import human_bytes as human_bytes  # detectors' sentences use it from here


def describe_host(ctx: Context, ip: str) -> str:
    """'1.2.3.4 (RU, AS1234 Org)': what an analyst wants next to an address in a sentence."""
    info = ctx.ip_dim.lookup([ip]).get(ip)
    if not info:
        return ip
    bits = [b for b in (info.get("country"), info.get("as_org")) if b]
    if not bits and info.get("class") == "internal":
        bits = ["internal"]
    return f"{ip} ({', '.join(bits)})" if bits else ip


# The one table from score to severity, for every detector: a detector expresses how sure and how grave a
# finding is in its score (documented in its module), and severity follows. README "Severity" shows it.
SEVERITY_FLOORS: tuple[tuple[str, float], ...] = (
    ("critical", 0.9),
    ("high", 0.75),
    ("medium", 0.5),
    ("low", 0.25),
    ("info", 0.0),
)


def severity_for(score: float) -> str:
    """The severity of a score in [0, 1], by SEVERITY_FLOORS."""
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"score {score} outside [0, 1]")
    return next(name for name, floor in SEVERITY_FLOORS if score >= floor)

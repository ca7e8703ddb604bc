"""Section charts built from a unit's typed rows (the same rows as its tables and JSON): destination bars,
hourly bars and the per-host heat map. Units hand over their rows; how the chart reads is decided here."""

from __future__ import annotations

from typing import Any

from sentinel.report.charts import top_with_other
from sentinel.report.model import Chart, Series


def volume_bars(rows: list[dict[str, Any]], top_n: int, what: str, other: str) -> Chart:
    """Flows per destination country (or AS) of rows with `label`, `flows`, `up_bytes`, `down_bytes`: the top
    `top_n` and the rest as one bar, with the bytes each way."""
    labels = [r["label"] for r in rows]

    def top(key: str) -> list[float]:
        return top_with_other(labels, [r[key] for r in rows], top_n, other)[1]

    return Chart(
        key="country_volume",
        title=f"Connections per destination {what}",
        labels=top_with_other(labels, [0] * len(labels), top_n, other)[0],
        values=top("flows"),
        xlabel=f"destination {what}",
        ylabel="flows",
        series=[
            Series(f"up_bytes (sent to the {what})", top("up_bytes"), "bytes"),
            Series("down_bytes (received from it)", top("down_bytes"), "bytes"),
        ],
    )


def hourly_bars(rows: list[dict[str, Any]], zone: str) -> Chart:
    """Flows and bytes each way per hour of the day, from the 24 rows of `hour`, `flows`, `up_bytes`,
    `down_bytes`."""
    return Chart(
        key="hourly",
        title=f"Connections per hour of the day ({zone})",
        labels=[f"{r['hour']:02d}" for r in rows],
        values=[r["flows"] for r in rows],
        xlabel=f"hour ({zone})",
        ylabel="flows",
        series=[
            Series("up_bytes (sent by the source)", [r["up_bytes"] for r in rows], "bytes"),
            Series("down_bytes (received by the source)", [r["down_bytes"] for r in rows], "bytes"),
        ],
    )


def host_hours_heatmap(rows: list[dict[str, Any]], zone: str) -> Chart:
    """Flows per hour of the day of each host, from rows of `host` and `hours` (24 counts)."""
    return Chart(
        key="host_hours",
        title=f"Flows per hour of the busiest internal hosts ({zone})",
        labels=[f"{h:02d}" for h in range(24)],
        values=[],
        xlabel=f"hour ({zone})",
        ylabel="internal host",
        kind="heatmap",
        rows=[r["host"] for r in rows],
        matrix=[[float(n) for n in r["hours"]] for r in rows],
    )

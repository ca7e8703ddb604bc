"""The JSON report (schema v1, `report.schema.json` beside this module, printed by `sentinel schema`): the
Report's canonical form."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from typing import Any

from sentinel.report.evidence_charts import alert_chart
from sentinel.report.model import Alert, Report
from sentinel.timefmt import render_times

SCHEMA_VERSION = 1
SCHEMA_FILE = "report.schema.json"


def schema_text() -> str:
    """The JSON Schema of the report, as shipped in the package (our own contract: add fields, change none)."""
    return resources.files("sentinel.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(schema_text())
    return document


def to_dict(report: Report) -> dict[str, Any]:
    out = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "sentinel", "version": report.version},
        "generated_at": report.generated_at,
        "input": {
            "sources": report.input.sources,
            "format": report.input.format,
            "rows": report.input.rows,
            "flows": report.input.flows,
            "rejected_rows": report.input.rejected_rows,
            "rejected_by_reason": report.input.rejected_by_reason,
            "first_seen": report.input.first_seen,
            "last_seen": report.input.last_seen,
            "rejected_examples": report.input.rejected_examples,
            "optional_columns": report.input.optional_columns,
        },
        "enrichment": report.enrichment,
        "settings": report.settings,
        "analyses": {s.key: s.json() for s in report.sections},
        "alerts": [_alert(a) for a in report.alerts],
        "hosts": {ip: dataclasses.asdict(h) for ip, h in report.hosts.items()},
        "skipped": [dataclasses.asdict(s) for s in report.skipped],
        "notes": report.notes,
    }
    # Times are raw microseconds in the model: RFC 3339 UTC here (day-relative only where the day is unknown).
    return render_times(out)  # type: ignore[return-value]


def _alert(alert: Alert) -> dict[str, Any]:
    """An alert's fields, its evidence's figures, and the chart built from the evidence (before its id)."""
    out = {f.name: getattr(alert, f.name) for f in dataclasses.fields(alert) if f.name != "id"}
    out["evidence"] = alert.evidence.figures()
    chart = alert_chart(alert)
    out["chart"] = dataclasses.asdict(chart) if chart is not None else None
    out["id"] = alert.id
    return out


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

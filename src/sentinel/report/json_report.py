"""The JSON report (schema v1, ../shared/spec/report.schema.json): the Report's canonical form."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sentinel.report.model import Report

SCHEMA_VERSION = 1


def to_dict(report: Report) -> dict[str, Any]:
    return {
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
        },
        "enrichment": report.enrichment,
        "settings": report.settings,
        "analyses": {s.key: {"title": s.title, "params": s.params, **s.payload} for s in report.sections},
        "alerts": [dataclasses.asdict(a) for a in report.alerts],
        "hosts": {ip: dataclasses.asdict(h) for ip, h in report.hosts.items()},
        "notes": report.notes,
    }


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

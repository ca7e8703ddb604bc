"""Turn a Report into files: the Markdown report with its PNG charts, and the JSON report."""

from __future__ import annotations

import sys
from pathlib import Path

from sentinel.report import charts, json_report, markdown, output
from sentinel.report.model import Report


def report_stem(report: Report) -> str:
    compact = report.generated_at.replace("-", "").replace(":", "").replace("Z", "")
    return f"sentinel-report-{compact}"


def write_markdown(report: Report, out_dir: Path, rendered: charts.BackgroundCharts | None = None) -> Path:
    """Write `<stem>.md` and `<stem>-<chart>.png` files in out_dir under a name not taken yet.

    `rendered` holds charts drawn in the background during the run; others are drawn here.
    """
    output.ensure_directory(out_dir)
    chart_keys = [c.key for s in report.sections for c in s.charts]
    suffixes = (".md", *(f"-{k}.png" for k in chart_keys))
    stem = output.free_stem(out_dir, report_stem(report), suffixes)
    files: dict[str, str] = {}
    for section in report.sections:
        for chart in section.charts:
            name = f"{stem}-{chart.key}.png"
            png = rendered.png(chart) if rendered else charts.render_png(chart)
            output.write_new(out_dir / name, png)
            files[chart.key] = name
    path = out_dir / f"{stem}.md"
    output.write_new(path, markdown.render(report, files).encode())
    return path


def write_json(report: Report, target: str, force: bool) -> Path | None:
    """`-` prints to stdout; anything else is a file path (not replaced unless force)."""
    text = json_report.render(report)
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    path = Path(target)
    output.write(path, text.encode(), force)
    return path

"""Turn a Report into files: the Markdown report with its PNG charts, and the JSON report."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from sentinel import interrupt
from sentinel.report import charts, json_report, markdown, output
from sentinel.report.model import Report


def stem_at(moment: dt.datetime) -> str:
    return f"sentinel-report-{moment.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%S')}"


def report_stem(report: Report) -> str:
    compact = report.generated_at.replace("-", "").replace(":", "").replace("Z", "")
    return f"sentinel-report-{compact}"


class ReportFiles:
    """The files one run writes: names taken before the analysis, contents written together after it.

    `out_dir`: the Markdown report `<stem>.md` and its charts `<stem>-<chart>.png`, under a stem not taken
    yet; `json_target`: the JSON report (`-`: stdout). Call `abort` if the run fails: every name taken is
    given back and nothing half written stays.
    """

    def __init__(
        self,
        stem: str,
        chart_keys: Sequence[str] = (),
        out_dir: Path | None = None,
        json_target: str | None = None,
        force: bool = False,
    ) -> None:
        self._batch = output.Batch()
        self._out_dir = out_dir
        self._json = Path(json_target) if json_target and json_target != "-" else None
        self._json_kind = output.destination(self._json, force) if self._json else None
        try:
            if self._json is not None and self._json_kind is output.Destination.NEW:
                self._batch.reserve(self._json)
            if out_dir is not None:
                output.ensure_directory(out_dir)
                suffixes = (".md", *(f"-{k}.png" for k in chart_keys))
                self._stem = self._batch.reserve_stem(out_dir, stem, suffixes)
        except BaseException:
            self._batch.abort()
            raise

    def write(self, report: Report, rendered: charts.BackgroundCharts | None = None) -> list[Path]:
        """Write the reports; the paths written, Markdown first. `rendered` holds charts drawn during the run."""
        files: dict[Path, bytes] = {}
        markdown_path = None
        if self._out_dir is not None:
            names: dict[str, str] = {}
            for section in report.sections:
                for chart in section.charts:
                    names[chart.key] = f"{self._stem}-{chart.key}.png"
                    png = rendered.png(chart) if rendered else charts.render_png(chart)
                    files[self._out_dir / names[chart.key]] = png
            markdown_path = self._out_dir / f"{self._stem}.md"
            files[markdown_path] = markdown.render(report, names).encode()
        if self._json is not None and self._json_kind is output.Destination.STREAM:
            data = json_report.render(report).encode()
            with interrupt.raising():  # a FIFO blocks until read: an interrupt must stop the waiting
                output.write_stream(self._json, data)  # before the files: its failure aborts them all
        elif self._json is not None:
            files[self._json] = json_report.render(report).encode()
        replacing = frozenset(
            [self._json] if self._json is not None and self._json_kind is output.Destination.REPLACE else []
        )
        self._batch.commit(files, replacing)
        return [p for p in (markdown_path, self._json) if p is not None]

    def abort(self) -> None:
        self._batch.abort()


def write_markdown(report: Report, out_dir: Path, rendered: charts.BackgroundCharts | None = None) -> Path:
    """Write `<stem>.md` and `<stem>-<chart>.png` files in out_dir under a name not taken yet."""
    keys = [c.key for s in report.sections for c in s.charts]
    files = ReportFiles(report_stem(report), keys, out_dir=out_dir)
    try:
        [path] = files.write(report, rendered)
    except BaseException:
        files.abort()
        raise
    return path


def write_json(report: Report, target: str, force: bool) -> Path | None:
    """`-` prints to stdout; anything else is a file path (not replaced unless force)."""
    if target == "-":
        sys.stdout.write(json_report.render(report))
        sys.stdout.flush()
        return None
    files = ReportFiles(report_stem(report), json_target=target, force=force)
    try:
        [path] = files.write(report)
    except BaseException:
        files.abort()
        raise
    return path

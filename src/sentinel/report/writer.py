"""Turn a Report into files: the Markdown report with its PNG charts, the JSON report, the alerts as ECS
JSON lines, CSV tables, the HTML report and its PDF print."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sentinel import interrupt
from sentinel.errors import OutputError
from sentinel.report import charts, csv_export, ecs, json_report, markdown, output
from sentinel.report.evidence_charts import alert_chart
from sentinel.report.model import Report

# The single-file reports, in the order "wrote ..." lines name them (Markdown comes first).
FILE_KINDS = ("json", "jsonl", "html", "pdf")


def stem_at(moment: dt.datetime) -> str:
    return f"sentinel-report-{moment.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%S')}"


def report_stem(report: Report) -> str:
    compact = report.generated_at.replace("-", "").replace(":", "").replace("Z", "")
    return f"sentinel-report-{compact}"


def render_file(kind: str, report: Report, rendered: charts.BackgroundCharts | None = None) -> bytes:
    """The bytes of one single-file report: json, jsonl (the alerts as ECS JSON lines), html, or pdf (the
    HTML report printed by Chromium)."""
    if kind == "json":
        return json_report.render(report).encode()
    if kind == "jsonl":
        return ecs.render(report).encode()
    from sentinel.report import html

    if kind == "html":
        return html.render(report, rendered).encode()
    from sentinel.report import pdf

    if kind == "pdf":
        return pdf.render(html.render(report, rendered).encode(), report.generated_at)
    raise ValueError(f"no {kind} report")


class ReportFiles:
    """The files one run writes: names taken before the analysis, contents written together after it.

    `out_dir`: the Markdown report `<stem>.md` and its charts `<stem>-<chart>.png`, under a stem not taken
    yet; `targets`: single-file reports by kind (json, jsonl, html, pdf) and path (`-`: stdout, written by
    the caller); `csv_dir`: a new directory (an existing one with `force`) for one CSV per table. Call
    `abort` if the run fails: every name taken is given back and nothing half written stays.
    """

    def __init__(
        self,
        stem: str,
        chart_keys: Sequence[str] = (),
        out_dir: Path | None = None,
        json_target: str | None = None,
        force: bool = False,
        targets: dict[str, str | None] | None = None,
        csv_dir: Path | None = None,
    ) -> None:
        self._batch = output.Batch()
        self._out_dir = out_dir
        self._force = force
        self._csv_dir = csv_dir
        self._chart_keys = tuple(chart_keys)
        self._created_dir: Path | None = None
        wanted = dict(targets or {})
        if json_target is not None:
            wanted["json"] = json_target
        self._targets: dict[str, tuple[Path, output.Destination]] = {}
        try:
            for kind in FILE_KINDS:
                target = wanted.get(kind)
                if target and target != "-":
                    path = Path(target)
                    if any(path == p for p, _ in self._targets.values()):
                        raise OutputError(f"{path}: named for two reports; give each its own file")
                    self._targets[kind] = (path, output.destination(path, force))
            for path, kind_of in self._targets.values():
                if kind_of is output.Destination.NEW:
                    self._batch.reserve(path)
            if csv_dir is not None:
                self._take_csv_dir(csv_dir, force)
            if out_dir is not None:
                output.ensure_directory(out_dir)
                suffixes = (".md", *(f"-{k}.png" for k in chart_keys))
                self._stem = self._batch.reserve_stem(out_dir, stem, suffixes)
        except BaseException:
            self.abort()
            raise

    def _take_csv_dir(self, directory: Path, force: bool) -> None:
        try:
            directory.mkdir()
            self._created_dir = directory
        except FileExistsError:
            if not directory.is_dir() or directory.is_symlink():
                raise OutputError(f"{directory}: is not a directory; --csv-dir makes a new directory") from None
            if not force:
                raise OutputError(
                    f"{directory}: exists already; --csv-dir makes a new directory (or pass --force to write "
                    "into this one, replacing its CSV files of the same names)"
                ) from None
        except OSError as exc:
            raise OutputError(f"{directory}: cannot create ({exc.strerror or type(exc).__name__})") from exc

    def write(self, report: Report, rendered: charts.BackgroundCharts | None = None) -> list[Path]:
        """Write the reports; the paths written, Markdown first. `rendered` holds charts drawn during the run."""
        files: dict[Path, bytes] = {}
        replacing: set[Path] = set()
        markdown_path = None
        unused: list[Path] = []
        if self._out_dir is not None:
            names: dict[str, str] = {}
            for section in report.sections:
                for chart in section.charts:
                    names[chart.key] = f"{self._stem}-{chart.key}.png"
                    png = rendered.png(chart) if rendered else charts.render_png(chart)
                    files[self._out_dir / names[chart.key]] = png
            for alert in report.alerts:  # the "why" chart of each alert, named after the report's stem
                why = alert_chart(alert)
                if why is not None:
                    key = markdown.alert_chart_key(alert)
                    names[key] = f"{self._stem}-{key}.png"
                    path = self._out_dir / names[key]
                    self._batch.reserve(path)  # the stem is ours: only a file made since could be there
                    files[path] = rendered.png(why) if rendered else charts.render_png(why)
            markdown_path = self._out_dir / f"{self._stem}.md"
            files[markdown_path] = markdown.render(report, names).encode()
            unused = [self._out_dir / f"{self._stem}-{k}.png" for k in self._chart_keys if k not in names]
        streams: list[tuple[Path, bytes]] = []
        for kind, (path, kind_of) in self._targets.items():
            data = render_file(kind, report, rendered)
            if kind_of is output.Destination.STREAM:
                streams.append((path, data))
            else:
                files[path] = data
                if kind_of is output.Destination.REPLACE:
                    replacing.add(path)
        if self._csv_dir is not None:
            for name, data in csv_export.files(report).items():
                path = self._csv_dir / name
                files[path] = data
                if self._force and os.path.lexists(path):
                    replacing.add(path)
        for path, data in streams:
            with interrupt.raising():  # a FIFO blocks until read: an interrupt must stop the waiting
                output.write_stream(path, data)  # before the files: its failure aborts them all
        self._batch.commit(files, frozenset(replacing))
        for path in unused:
            self._batch.release(path)  # a chart reserved but not drawn (no data for it): no empty file stays
        written = [markdown_path, *(path for path, _ in self._targets.values())]
        if self._csv_dir is not None:
            written.append(self._csv_dir)
        return [p for p in written if p is not None]

    def abort(self) -> None:
        self._batch.abort()
        if self._created_dir is not None and not self._batch.committed:
            with contextlib.suppress(OSError):
                self._created_dir.rmdir()  # only if empty: never what someone else put in it since


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
    return write_file(report, "json", target, force)


def write_file(report: Report, kind: str, target: str, force: bool) -> Path | None:
    """One single-file report (json, jsonl, html, pdf) at `target`; `-` prints json or jsonl on stdout."""
    if target == "-":
        if kind not in ("json", "jsonl"):
            raise OutputError(f"-: the {kind} report is a file; give its path")
        sys.stdout.write(json_report.render(report) if kind == "json" else ecs.render(report))
        sys.stdout.flush()
        return None
    files = ReportFiles(report_stem(report), targets={kind: target}, force=force)
    try:
        [path] = files.write(report)
    except BaseException:
        files.abort()
        raise
    return path

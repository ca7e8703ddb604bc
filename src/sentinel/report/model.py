"""The Report: everything a run found, as plain data (raw numbers, raw times, typed evidence). Every renderer
(console, Markdown, JSON, JSONL, CSV, HTML, PDF) reads only this, and its JSON form (schema v1) is the
canonical one; charts are built from it in report/section_charts.py and report/evidence_charts.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sentinel.report.evidence import Evidence
from sentinel.timefmt import Instant

SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | ip | int | bytes | float | rate | percent | list | time


@dataclass
class Table:
    """Rows of raw values (ints, floats, Instants, lists): renderers format them by Column.kind. The same rows
    are the JSON report's list `analyses[section][json_key]`, so a unit writes them once."""

    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    note: str = ""  # how to read it: definitions, what was cut
    json_key: str | None = None  # where the rows go in the section's JSON; None: in no JSON list
    json_fields: tuple[str, ...] | None = None  # the keys of a row the JSON carries, in order; None: all
    limit: int | None = None  # rows the reading renderers show (console, Markdown, HTML); JSON and CSV have all

    @property
    def shown(self) -> list[dict[str, Any]]:
        """The rows a reader sees: the first `limit` (all without one)."""
        return self.rows if self.limit is None else self.rows[: self.limit]

    def json_rows(self) -> list[dict[str, Any]]:
        if self.json_fields is None:
            return self.rows
        return [{k: row[k] for k in self.json_fields if k in row} for row in self.rows]


@dataclass
class Series:
    """One more series of a chart over its labels: series of the same unit share a panel (bars side by side),
    each unit has a panel of its own under the chart's first one."""

    label: str  # the legend's text
    values: list[float]
    unit: str = "flows"  # flows | bytes | ... : the axis it is read on (bytes get kB/MB/GB ticks)


@dataclass
class Chart:
    """What a renderer draws. `kind`:

    * bar: `values` over `labels` (and `series`), e.g. flows per country, bytes per hour;
    * heatmap: `matrix[i][j]` for row `rows[i]` and column `labels[j]` (hosts x hours); `values` unused;
    * graph: nodes `labels` (with `values` their weight), `edges` (a, b, weight) between them.
    """

    key: str
    title: str
    labels: list[str]
    values: list[float]
    xlabel: str
    ylabel: str
    kind: str = "bar"
    unit: str = "flows"  # of `values`: flows | bytes | ... (bytes get kB/MB/GB ticks)
    series: list[Series] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)  # heatmap row labels
    matrix: list[list[float]] = field(default_factory=list)  # heatmap values, one list per row
    edges: list[tuple[str, str, float]] = field(default_factory=list)  # graph edges: labels and weight
    note: str = ""  # one line under the chart: how to read it, what was cut


@dataclass
class Section:
    """What one analysis or detector contributes: tables, charts, and its JSON payload."""

    key: str
    title: str
    description: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)  # scalars and counters for JSON analyses[key]

    def json(self) -> dict[str, Any]:
        """The section's JSON object: title, params, the payload and every table's rows under its json_key."""
        out = {"title": self.title, "params": self.params, **self.payload}
        out.update({t.json_key: t.json_rows() for t in self.tables if t.json_key is not None})
        return out


@dataclass
class Alert:
    """A finding: who and when (raw Instants), how sure (score, severity) and why (its type's evidence, which
    also holds the data its chart is drawn from)."""

    type: str
    severity: str
    score: float
    hosts: list[str]
    summary: str
    src_ip: str | None = None
    dst_ip: str | None = None
    first_seen: Instant | None = None  # raw times: renderers format them
    last_seen: Instant | None = None
    evidence: Evidence = field(default_factory=Evidence)  # typed per alert type (report/evidence.py)
    proto: str | None = None  # of the counterpart's service, where one service is implicated
    port: int | None = None
    id: int = 0  # numbered by the pipeline, in report order

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} outside [0, 1]")
        if not self.hosts:
            raise ValueError("an alert implicates at least one internal host")


@dataclass(frozen=True)
class HostInfo:
    ip: str
    scope: str | None  # internal | public | special | None (unparseable)
    country: str | None
    as_org: str | None  # "AS15169 Google LLC"
    dns_name: str | None  # from the reverse DNS (untrusted text: renderers escape it)
    address_class: str | None = None  # netclass.ADDRESS_CLASSES: internal, private, loopback, ..., public
    asn: int | None = None
    city: str | None = None
    intel: list[str] = field(default_factory=list)  # threat-intel lists naming the address


@dataclass
class InputSummary:
    sources: list[str]
    format: str
    rows: int
    flows: int
    rejected_rows: int
    rejected_by_reason: dict[str, int]
    first_seen: Instant | None
    last_seen: Instant | None
    rejected_examples: list[str] = field(default_factory=list)  # file:line (reason) of the first few
    optional_columns: list[str] = field(default_factory=list)  # optional canonical columns the input has


@dataclass(frozen=True)
class Skipped:
    """A unit asked for but not run, and why (e.g. the input lacks a column it needs)."""

    key: str
    title: str
    reason: str


@dataclass
class Report:
    version: str
    generated_at: str  # RFC 3339 UTC; the only part of a report that changes between identical runs
    input: InputSummary
    enrichment: dict[str, Any]  # role -> source description (country, as_org, dns); databases: their details
    settings: dict[str, Any]  # what the run was asked to do, for the record
    sections: list[Section] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    hosts: dict[str, HostInfo] = field(default_factory=dict)  # every address named by an alert
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings a reader must see (rejected rows, ...)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

"""The pipeline: units that need optional columns are skipped, with the reason, where the input lacks them."""

import dataclasses
import threading
from dataclasses import dataclass
from typing import ClassVar

import pytest

from sentinel import pipeline
from sentinel.config import Config
from sentinel.registry import UNITS, default_params
from sentinel.report import console, json_report, markdown
from sentinel.report.model import Alert, Section
from sentinel.units import UnitResult
from tests.flows import flow, write_flows


@dataclass(frozen=True)
class _Params:
    pass


class _NeedsDuration:
    key: ClassVar[str] = "long_sessions"
    title: ClassVar[str] = "Long sessions"
    kind: ClassVar[str] = "detector"
    Params: ClassVar[type] = _Params
    needs: ClassVar[tuple[str, ...]] = ("duration",)

    def run(self, ctx, params):
        return UnitResult(Section(self.key, self.title, "ran"))


def test_a_unit_needing_a_column_the_input_lacks_is_skipped_and_said_everywhere(tmp_path, monkeypatch):
    monkeypatch.setitem(UNITS, "long_sessions", _NeedsDuration())
    path = write_flows(tmp_path / "d.parquet", [flow(1, "192.168.1.2", "8.8.8.8")])
    report = pipeline.run(Config(data=path, units={"hourly": default_params("hourly"), "long_sessions": _Params()}))
    assert [s.key for s in report.sections] == ["hourly"]
    assert [(s.key, s.reason) for s in report.skipped] == [
        ("long_sessions", "the input has no duration column (formats such as Zeek do)")
    ]
    assert json_report.to_dict(report)["skipped"][0]["key"] == "long_sessions"
    assert "Long sessions: not run, the input has no duration column" in console.render(report)
    assert "Not run: the input has no duration column" in markdown.render(report, {})


class _Raises:
    """A detector that raises one alert per host of `hosts`."""

    kind: ClassVar[str] = "detector"
    Params: ClassVar[type] = _Params

    def __init__(self, key: str, hosts: list[str]) -> None:
        self.key, self.title, self.hosts = key, key, hosts

    def run(self, ctx, params):
        alerts = [Alert(self.key, "low", 0.1, [h], f"{self.key} {h}") for h in self.hosts]
        return UnitResult(Section(self.key, self.title, "ran"), alerts)


def test_alerts_are_numbered_in_report_order_as_each_unit_ends(tmp_path, monkeypatch):
    monkeypatch.setitem(UNITS, "first", _Raises("first", ["192.168.1.2", "192.168.1.3"]))
    monkeypatch.setitem(UNITS, "second", _Raises("second", ["192.168.1.4"]))
    path = write_flows(tmp_path / "d.parquet", [flow(1, "192.168.1.2", "8.8.8.8")])
    seen: list[list[tuple[str, int]]] = []
    report = pipeline.run(
        Config(data=path, units={"first": _Params(), "second": _Params()}),
        on_alerts=lambda alerts: seen.append([(a.type, a.id) for a in alerts]),
    )
    assert seen == [[("first", 1), ("first", 2)], [("second", 3)]]  # final ids, given before the run ends
    assert [(a.type, a.id) for a in report.alerts] == [("first", 1), ("first", 2), ("second", 3)]


class _StartsSlowly(_Raises):
    """A detector whose scoring (what `start` returns) runs past the next unit's work, or fails."""

    def __init__(self, key: str, hosts: list[str], gate: threading.Event, fails: bool = False) -> None:
        super().__init__(key, hosts)
        self.gate, self.fails = gate, fails

    def start(self, ctx, params):
        def finish():
            assert self.gate.wait(timeout=30)  # the next unit has run: this scoring was beside it
            if self.fails:
                raise RuntimeError("scoring failed")
            return _Raises.run(self, ctx, params)

        return finish


class _Opens(_Raises):
    def __init__(self, key: str, hosts: list[str], gate: threading.Event) -> None:
        super().__init__(key, hosts)
        self.gate = gate

    def run(self, ctx, params):
        self.gate.set()
        return super().run(ctx, params)


def test_a_unit_scoring_beside_the_next_ones_keeps_the_report_order(tmp_path, monkeypatch):
    gate = threading.Event()
    monkeypatch.setitem(UNITS, "slow", _StartsSlowly("slow", ["192.168.1.2", "192.168.1.3"], gate))
    monkeypatch.setitem(UNITS, "next", _Opens("next", ["192.168.1.4"], gate))
    path = write_flows(tmp_path / "d.parquet", [flow(1, "192.168.1.2", "8.8.8.8")])
    seen: list[list[tuple[str, int]]] = []
    report = pipeline.run(
        Config(data=path, units={"slow": _Params(), "next": _Params()}),
        on_section=lambda section: seen.append([(section.key, 0)]),
        on_alerts=lambda alerts: seen.append([(a.type, a.id) for a in alerts]),
    )
    assert seen == [[("slow", 0)], [("slow", 1), ("slow", 2)], [("next", 0)], [("next", 3)]]
    assert [s.key for s in report.sections] == ["slow", "next"]
    assert [(a.type, a.id) for a in report.alerts] == [("slow", 1), ("slow", 2), ("next", 3)]


def test_a_unit_scoring_beside_the_others_starts_first_and_keeps_its_place(tmp_path, monkeypatch):
    """Its scoring overlaps the passes of units listed before it too; sections and alert numbers stay in the
    units' order."""
    gate = threading.Event()
    calls: list[str] = []
    slow = _StartsSlowly("slow", ["192.168.1.2", "192.168.1.3"], gate)
    first = _Opens("first", ["192.168.1.4"], gate)
    monkeypatch.setattr(slow, "start", lambda ctx, p, start=slow.start: (calls.append("slow"), start(ctx, p))[1])
    monkeypatch.setattr(first, "run", lambda ctx, p, run=first.run: (calls.append("first"), run(ctx, p))[1])
    monkeypatch.setitem(UNITS, "first", first)
    monkeypatch.setitem(UNITS, "slow", slow)
    path = write_flows(tmp_path / "d.parquet", [flow(1, "192.168.1.2", "8.8.8.8")])
    report = pipeline.run(Config(data=path, units={"first": _Params(), "slow": _Params()}))
    assert calls == ["slow", "first"]
    assert [s.key for s in report.sections] == ["first", "slow"]
    assert [(a.type, a.id) for a in report.alerts] == [("first", 1), ("slow", 2), ("slow", 3)]


def test_a_failure_of_scoring_beside_the_next_units_is_the_runs(tmp_path, monkeypatch):
    gate = threading.Event()
    monkeypatch.setitem(UNITS, "slow", _StartsSlowly("slow", ["192.168.1.2"], gate, fails=True))
    monkeypatch.setitem(UNITS, "next", _Opens("next", ["192.168.1.4"], gate))
    path = write_flows(tmp_path / "d.parquet", [flow(1, "192.168.1.2", "8.8.8.8")])
    with pytest.raises(RuntimeError, match="scoring failed"):
        pipeline.run(Config(data=path, units={"slow": _Params(), "next": _Params()}))


def test_rows_past_a_tables_limit_get_their_country_and_as_too(tmp_path):
    """The JSON and CSV have every row of a table cut for reading: each gets its "country, AS" field."""
    rows = [
        flow(i, f"192.168.1.{2 + i % 3}", resolver, port=53, proto="udp")
        for i in range(30)
        for resolver in ("8.8.8.8", "9.9.9.9", "1.1.1.1")
    ]
    params = dataclasses.replace(default_params("dns"), table_rows=1)
    report = pipeline.run(Config(data=write_flows(tmp_path / "f.parquet", rows), units={"dns": params}))
    table = next(t for s in report.sections for t in s.tables if t.json_key == "resolvers")
    assert table.limit == 1 and len(table.rows) == 3
    assert all("resolver_where" in row for row in table.rows)

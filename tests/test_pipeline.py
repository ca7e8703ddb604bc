"""The pipeline: units that need optional columns are skipped, with the reason, where the input lacks them."""

from dataclasses import dataclass
from typing import ClassVar

from sentinel import pipeline
from sentinel.config import Config
from sentinel.registry import UNITS, default_params
from sentinel.report import console, json_report, markdown
from sentinel.report.model import Section
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

"""DuckDB and Spark give the same report: every table and every alert of a full --all run.

Compared exactly: counts, bytes, hosts, alert sets, times, text. Floating-point fields (shares, ratios,
rates, scores, z values) are computed in Python from exact integer aggregates on both engines, so they are
compared exactly too; the comparison helper reports any field that differs, with its path. One documented
difference is left out: Spark cannot number rows in file order, so its malformed-row examples name the file
without the line (`input.rejected_examples` and the "First: ..." tail of the malformed-rows note).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sentinel import pipeline
from sentinel.config import Config
from sentinel.importer import import_flows
from sentinel.registry import UNITS, default_params
from sentinel.report import json_report

pytestmark = pytest.mark.spark


def _report(data, engine: str, **settings) -> dict:
    units = {k: default_params(k) for k in UNITS}
    report = json_report.to_dict(pipeline.run(Config(data=data, units=units, engine=engine, **settings)))
    report.pop("generated_at")
    report["input"].pop("rejected_examples")
    report["notes"] = [n.split(" First: ")[0] for n in report["notes"]]
    return report


def _differences(a: object, b: object, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: duckdb {a!r} != spark {b!r}"]


def _same(data, **settings) -> dict:
    duck = _report(data, "duckdb", **settings)
    spark = _report(data, "spark", **settings)
    assert _differences(duck, spark) == []
    return duck


def test_a_simulated_day_with_attacks(spark_session, tmp_path):
    from sentinel.simulate import SimulationConfig, simulate, write_simulation

    sim = simulate(SimulationConfig(hosts=60, flows=60_000, seed=3, attacks=True))
    data, _ = write_simulation(sim, tmp_path / "day.parquet")
    report = _same(data, timezone="Europe/Lisbon", date=dt.date(2024, 3, 31))  # a daylight-saving day
    # Every kind of attack the simulator injected raised its alert, on both engines alike.
    assert {a["type"] for a in report["alerts"]} >= {a["alert_type"] for a in sim.labels["attacks"]}


def test_the_real_captures(spark_session, shared_data: Path):
    captures = sorted((shared_data / "derived-course-schema").glob("*.parquet"))
    assert len(captures) == 9
    for capture in captures:
        _same(capture)


def test_an_imported_zeek_dataset_with_malformed_rows(spark_session, shared_data: Path, tmp_path, monkeypatch):
    from sentinel.context import Context
    from sentinel.sources.summaries import SUMMARIES

    used: list[tuple[str, list[str]]] = []
    prepare = Context._prepare
    monkeypatch.setattr(
        Context,
        "_prepare",
        lambda ctx, geoip: (
            prepare(ctx, geoip),
            used.append((ctx.engine.name, sorted(n for n in SUMMARIES if ctx.summary(n)))),
        ),
    )
    logs = shared_data / "rita-missing-host" / "2024-04-20"
    import_flows(Config(data=str(logs)), tmp_path / "ds")
    used.clear()  # the import's own context
    report = _same(str(tmp_path / "ds"), internal=_internal("64.225.56.201/32"))
    assert report["input"]["flows"] == 39_073
    assert used == [(name, sorted(SUMMARIES)) for name in ("duckdb", "spark")]  # both read the summaries


def test_malformed_rows_are_counted_alike(spark_session, tmp_path):
    from tests.flows import flow, write_flows

    rows = [flow(i, "192.168.1.2", "8.8.8.8") for i in range(5)] + [
        flow(10, "192.168.1.2", "8.8.8.8", up=-5),
        flow(11, "not-an-ip", "8.8.8.8"),
        {**flow(12, "192.168.1.2", "8.8.8.8"), "proto": "TCP\n"},
        flow(13, "192.168.001.002", "8.8.8.8"),
    ]
    report = _same(write_flows(tmp_path / "f.parquet", rows))
    assert report["input"]["rejected_rows"] == 3 and report["input"]["flows"] == 6


def _internal(*cidrs: str):
    from sentinel.enrich import netclass

    return netclass.parse_cidrs(list(cidrs), "--internal")


def test_byte_sums_past_int64_are_exact_on_both(spark_session, tmp_path):
    from tests.flows import flow, write_flows

    big = 2**62 + 1
    rows = [flow(i, "192.168.1.2", "8.8.8.8", up=big, down=1) for i in range(4)]
    report = _same(write_flows(tmp_path / "f.parquet", rows))
    assert report["analyses"]["country_volume"]["rows"][0]["up_bytes"] == 4 * big


def test_spark_reads_uris_as_duckdb_reads_the_local_files(spark_session, tmp_path, monkeypatch):
    """hdfs://, s3a://, file://: Spark reads what its Hadoop settings reach; file:// stands for them here. The
    dataset's address ids are used on both (its address table read by Spark for the URI), and so are its
    footers (rows proven clean: no validating pass) and its summaries (found through copies of the footers).
    The course file's footer proves its rows clean on both too."""
    from sentinel.context import Context
    from sentinel.simulate import SimulationConfig, simulate, write_simulation
    from sentinel.sources.summaries import SUMMARIES

    keyed: list[str] = []
    proven: list[tuple[str, bool, list[str]]] = []
    prepare = Context._prepare

    cleans: list[tuple[str, bool]] = []

    def prepare_and_note(ctx: Context, geoip) -> None:  # which engines' runs were keyed by ids
        prepare(ctx, geoip)
        cleans.append((ctx.engine.name, ctx.source.proven_clean))  # the course file's too
        if ctx.keys.ids:
            keyed.append(ctx.engine.name)
            summaries = sorted(n for n in SUMMARIES if ctx.summary(n))
            proven.append((ctx.engine.name, ctx.source.proven_clean, summaries))

    monkeypatch.setattr(Context, "_prepare", prepare_and_note)

    sim = simulate(SimulationConfig(hosts=40, flows=40_000, seed=5, attacks=True))
    day, _ = write_simulation(sim, tmp_path / "day.parquet")
    # With --date the times are absolute; without, the dataset's files carry the day-relative mark, which
    # the footers copied for the URI give too.
    import_flows(Config(data=day, date=dt.date(2024, 4, 19)), tmp_path / "ds")
    import_flows(Config(data=day), tmp_path / "relative")
    cleans.clear()  # the imports' own reading
    for local in (day, tmp_path / "ds", tmp_path / "relative"):
        duck = _report(str(local), "duckdb")
        spark = _report(local.as_uri(), "spark")
        for report in (duck, spark):  # the names differ by design: the path and its URI
            report["input"].pop("sources")
            report["notes"] = [n for n in report["notes"] if "course-schema" not in n]
        assert _differences(duck, spark) == []
    assert keyed == ["duckdb", "spark"] * 2  # the datasets, on each engine; the course file has no ids
    assert proven == [(name, True, sorted(SUMMARIES)) for name in ("duckdb", "spark")] * 2
    assert cleans == [("duckdb", True), ("spark", True)] * 3


@pytest.mark.filterwarnings("ignore")
def test_duckdb_says_a_uri_is_for_spark(tmp_path, capsys):
    from sentinel.cli import main

    assert main(["--data", "hdfs:///flows/dataset", "-q"]) == 3
    err = capsys.readouterr().err.strip()
    assert err == (
        "sentinel: error: hdfs:///flows/dataset: is a URI: --engine duckdb reads local files; --engine spark reads URIs"
    )

"""The analysis context: how a run keyed by address ids finds the ids of addresses given as text, and when its
passes can skip testing each flow's source against the internal addresses."""

import pyarrow as pa
import pytest

from sentinel import pipeline
from sentinel.config import Config
from sentinel.context import Context
from sentinel.importer import import_flows
from sentinel.registry import default_params
from tests.flows import flow, write_flows

DAY0 = 1_713_484_800 * 100  # 2024-04-19 00:00 UTC in hundredths


@pytest.fixture(scope="module")
def keyed_context(tmp_path_factory):
    """A context on an imported dataset of 40 sources and 40 destinations (keyed by ids), and its address table."""
    tmp = tmp_path_factory.mktemp("ctx")
    rows = [flow(DAY0 + 100 * i, f"192.168.1.{i % 40 + 1}", f"8.8.{i % 40}.1") for i in range(400)]
    units = {"country_volume": default_params("country_volume")}
    config = Config(data=write_flows(tmp / "day.parquet", rows), units=units)
    import_flows(config, tmp / "ds")
    seen: list[Context] = []
    prepare = Context._prepare
    mp = pytest.MonkeyPatch()
    mp.setattr(Context, "_prepare", lambda ctx, geoip: (prepare(ctx, geoip), seen.append(ctx)))
    try:
        pipeline.run(Config(data=str(tmp / "ds"), units=config.units))
    finally:
        mp.undo()
    (ctx,) = seen
    assert ctx.keys.ids
    table = ctx.ip_dim.table
    return ctx, dict(zip(table["ip"].to_pylist(), table["id"].to_pylist(), strict=True))


@pytest.mark.parametrize("count", [3, 80])  # a few addresses (filtered first) and all of them (looked up directly)
def test_ids_of_texts_are_the_dimensions_in_order_with_null_for_unknown(keyed_context, count, monkeypatch):
    ctx, ids = keyed_context
    known = sorted(ids)[:count]
    texts = [*reversed(known), "203.0.113.9", None, known[0]]
    table = pa.table({"ip": pa.array(texts, pa.string())})
    registered: dict[str, pa.Table] = {}
    monkeypatch.setattr(ctx.engine, "register", lambda name, t: registered.update({name: t}))  # the run is over
    ctx.register_keyed("probe", table, {"ip": "ip_key"})
    got = registered["probe"].to_pylist()
    assert got == [{"ip": t, "ip_key": ids.get(t) if t else None} for t in texts]
    assert ctx.key_literals([*known[:2], "203.0.113.9"]) == [str(ids[known[0]]), str(ids[known[1]]), "NULL"]


def _report_and_condition(path, engine, monkeypatch, force_test: bool = False):
    """A run of -td, -dx and -bn (and --dns) on `path`: the JSON report's findings, and the condition the
    context gave for an internal source (`force_test`: the membership test whatever the input)."""
    from sentinel.report.json_report import to_dict
    from tests import flows as flows_module

    monkeypatch.setattr(flows_module, "ENGINE", engine)
    conditions: list[str] = []
    given = Context.internal_source

    def condition(ctx: Context) -> str:
        if force_test:
            ctx._only_internal_sources = False
        conditions.append(given(ctx))
        return conditions[-1]

    monkeypatch.setattr(Context, "internal_source", condition)
    config = flows_module.config_for(path, "hourly", "exfiltration", "botnet", "dns")
    out = to_dict(pipeline.run(config))
    return {k: out[k] for k in ("analyses", "alerts", "hosts")}, set(conditions)


def _office(hosts: int, extra: list[dict] | None = None) -> list[dict]:
    rows = [
        flow(DAY0 + 360_000 * (i % 20) + i, f"192.168.1.{i % hosts + 1}", dst, up=up, port=port, proto=proto)
        for i in range(300)
        for dst, up, port, proto in [
            (f"8.8.{i % 7}.1", 100 + i * (50_000 if i % hosts == 0 else 1), 443, "tcp"),
            ("192.168.1.200", 60, 53, "udp"),
            (f"192.168.1.{(i + 1) % hosts + 1}", 500, 445, "tcp"),
        ]
    ]
    return rows + (extra or [])


def test_only_internal_sources_spare_the_membership_test_with_the_same_results(tmp_path, engine, monkeypatch):
    path = write_flows(tmp_path / "office.parquet", _office(hosts=12))
    sections, conditions = _report_and_condition(path, engine, monkeypatch)
    assert conditions == {"TRUE"}
    tested, conditions = _report_and_condition(path, engine, monkeypatch, force_test=True)
    assert conditions == {"src_ip IN (SELECT ip FROM ip_dim WHERE class = 'internal')"}
    assert sections == tested
    assert sections["alerts"] and sections["analyses"]["botnet"]  # the runs found something to compare


def test_an_external_source_keeps_the_membership_test(tmp_path, engine, monkeypatch):
    inbound = [flow(DAY0 + 7_200_000 + i, "203.0.113.5", "192.168.1.3", up=7, port=22) for i in range(50)]
    path = write_flows(tmp_path / "office.parquet", _office(hosts=12, extra=inbound))
    sections, conditions = _report_and_condition(path, engine, monkeypatch)
    assert conditions == {"src_ip IN (SELECT ip FROM ip_dim WHERE class = 'internal')"}
    assert "203.0.113.5" not in str(sections["analyses"]["hourly"])  # in the hours' totals, never as a host

"""The analysis context: how a run keyed by address ids finds the ids of addresses given as text."""

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

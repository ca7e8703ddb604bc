"""The analysis context: how a run keyed by address ids finds the ids of addresses given as text, and when its
passes can skip testing each flow's source against the internal addresses."""

import pyarrow as pa
import pytest

from sentinel import pipeline
from sentinel.config import Config
from sentinel.context import Context, non_public_prefixes
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
    """A run of -td, -dx and -bn (and --dns) on `path`: the JSON report's findings, and the conditions the
    context gave for an internal source and a non-public destination (`force_test`: the membership tests
    whatever the input)."""
    from sentinel.report.json_report import to_dict
    from tests import flows as flows_module

    monkeypatch.setattr(flows_module, "ENGINE", engine)
    conditions: list[str] = []
    given = {name: getattr(Context, name) for name in ("internal_source", "non_public_destination")}

    def recording(name: str):
        def condition(ctx: Context) -> str:
            if force_test:
                ctx._only_internal_sources = False
                ctx.__dict__["_non_public_prefixes"] = None
            conditions.append(given[name](ctx))
            return conditions[-1]

        return condition

    for name in given:
        monkeypatch.setattr(Context, name, recording(name))
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


INTERNAL_TEST = "src_ip IN (SELECT ip FROM ip_dim WHERE class = 'internal')"
NON_PUBLIC_TEST = "dst_ip IN (SELECT ip FROM ip_dim WHERE class IS DISTINCT FROM 'public')"


def test_an_office_spares_the_membership_tests_with_the_same_results(tmp_path, engine, monkeypatch):
    path = write_flows(tmp_path / "office.parquet", _office(hosts=12))
    sections, conditions = _report_and_condition(path, engine, monkeypatch)
    assert conditions == {"TRUE", "(dst_ip LIKE '192.168.1.%')"}
    tested, conditions = _report_and_condition(path, engine, monkeypatch, force_test=True)
    assert conditions == {INTERNAL_TEST, NON_PUBLIC_TEST}
    assert sections == tested
    assert sections["alerts"] and sections["analyses"]["botnet"]  # the runs found something to compare


def test_an_external_source_keeps_the_membership_test(tmp_path, engine, monkeypatch):
    inbound = [flow(DAY0 + 7_200_000 + i, "45.33.32.156", "192.168.1.3", up=7, port=22) for i in range(50)]
    path = write_flows(tmp_path / "office.parquet", _office(hosts=12, extra=inbound))
    sections, conditions = _report_and_condition(path, engine, monkeypatch)
    assert conditions == {INTERNAL_TEST, "(dst_ip LIKE '192.168.1.%')"}
    assert "45.33.32.156" not in str(sections["analyses"]["hourly"])  # in the hours' totals, never as a host


def _prefixes(rows: dict[str, str | None]) -> tuple[str, ...] | None:
    table = pa.table({"ip": list(rows), "class": pa.array(list(rows.values()), pa.string())})
    return non_public_prefixes(table["ip"], table["class"])


def test_non_public_prefixes_tell_exactly_the_non_public_addresses():
    office = {"192.168.4.1": "internal", "192.168.4.20": "internal", "8.8.8.8": "public", "192.168.40.9": "public"}
    assert _prefixes(office) == ("192.168.4.",)  # "192.168.40.9" does not begin with "192.168.4."
    two = {**office, "10.1.2.3": "internal", "224.0.0.251": "other", "1.1.1.1": "public"}
    assert _prefixes(two) == ("10.1.2.", "192.168.4.", "224.0.0.")
    # Five /24s of one /16: the /16, where no public address is under it.
    wide = {f"172.16.{n}.1": "internal" for n in range(5)} | {"8.8.8.8": "public"}
    assert _prefixes(wide) == ("172.16.",)
    # A public address under the only prefixes that would do; a class unknown counts as not public.
    assert _prefixes(wide | {"172.16.9.9": "public"}) is None
    assert _prefixes({"192.168.4.1": None, "8.8.8.8": "public"}) == ("192.168.4.",)
    assert _prefixes({"200.0.0.11": "internal", "200.0.0.50": "public"}) is None
    # Not IPv4 text, or no non-public address at all: the membership test.
    assert _prefixes({"fd00::1": "internal", "8.8.8.8": "public"}) is None
    assert _prefixes({"8.8.8.8": "public"}) is None

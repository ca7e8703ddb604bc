"""The scan detector's engine queries against their pure references, on random inputs (DuckDB).

The detector counts in the engine (scan.hot_windows_sql, chart_sql; ipdim.address_order) and brings back per-scanner
figures only; the pure functions (window_stats, new_targets_series, netclass.ip_sort_key) say what those
figures must be. Spark runs the same queries: tests/detectors/test_scan.py and tests/engines/test_parity.py
compare whole reports across engines.
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.detectors import scan
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.enrich import ipdim, netclass
from sentinel.enrich.geo import open_country_db


@pytest.fixture(scope="module")
def engine():
    engine = DuckDBEngine(threads=1)
    yield engine
    engine.close()


HOSTS = [f"10.0.0.{i}" for i in range(1, 9)] + ["203.0.113.1", "203.0.113.2"]
_targets = st.lists(
    st.fixed_dictionaries(
        {
            "src_ip": st.sampled_from(["10.0.0.50", "10.0.0.51"]),
            "w": st.integers(0, 2),
            "dst_ip": st.sampled_from(HOSTS),
            "proto": st.sampled_from(["tcp", "udp"]),
            "port": st.integers(1, 5),
            "probes": st.integers(1, 6),
        }
    ),
    max_size=60,
    unique_by=lambda t: (t["src_ip"], t["w"], t["dst_ip"], t["proto"], t["port"]),
)


@settings(max_examples=60, deadline=None)
@given(_targets, st.integers(1, 6), st.integers(1, 6))
def test_hot_windows_count_as_window_stats_does(engine, targets, min_hosts, min_ports):
    engine.register(
        "ip_dim", pa.table({"ip": HOSTS, "class": ["internal" if h.startswith("10.") else "public" for h in HOSTS]})
    )
    engine.register(
        scan.TARGETS,
        pa.table(
            {
                "src_ip": pa.array([t["src_ip"] for t in targets], pa.string()),
                "w": pa.array([t["w"] for t in targets], pa.int64()),
                "dst_ip": pa.array([t["dst_ip"] for t in targets], pa.string()),
                "proto": pa.array([t["proto"] for t in targets], pa.string()),
                "port": pa.array([t["port"] for t in targets], pa.int32()),
                "probes": pa.array([t["probes"] for t in targets], pa.int64()),
            }
        ),
    )
    params = scan.Params(min_hosts=min_hosts, min_ports=min_ports)
    got = {
        (r["src_ip"], r["w"]): scan.Window(
            r["w"], r["width"], r["depth"], int(r["swept"]), r["targets"], int(r["probes"])
        )
        for r in engine.query(scan.hot_windows_sql(params)).to_pylist()
    }
    by_window: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for t in targets:
        by_window[(t["src_ip"], t["w"])].append(t | {"internal": t["dst_ip"].startswith("10.")})
    expected = {}
    for (src, w), rows in by_window.items():
        stats = scan.window_stats(w, rows)
        if scan.kinds(stats, min_hosts, min_ports):
            expected[(src, w)] = stats
    assert got == expected


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.ip_addresses(), st.sampled_from(["not-an-ip", "zz"])), min_size=1, max_size=30, unique=True)
)
def test_ip_order_is_ip_sort_key_order(engine, addresses):
    texts = sorted({str(a) for a in addresses})
    local = DuckDBEngine(threads=1)
    try:
        local.register("x", pa.table({"ip": pa.array(texts, pa.string())}))
        dimension = ipdim.build(local, "SELECT ip FROM x", (), open_country_db(None), None)
    finally:
        local.close()
    order = ipdim.address_order(dimension.table, pa.array(texts))
    assert order["ip"].to_pylist() == sorted(texts, key=netclass.ip_sort_key)
    assert order["ord"].to_pylist() == list(range(len(texts)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3 * 86_400 * 1_000_000), min_size=1, max_size=50))
def test_chart_counts_as_new_targets_series(engine, first_seen):
    first, last = min(first_seen), max(first_seen)
    start, step = scan.chart_steps(first, last)
    engine.register(
        scan.FOUND,
        pa.table({"src_ip": ["10.0.0.50"] * len(first_seen), "first_ts": pa.array(first_seen, pa.int64())}),
    )
    engine.register(scan.STEPS, pa.table({"src_ip": ["10.0.0.50"], "start_ts": [start], "step": [step]}))
    buckets = {r["bucket"]: r["targets"] for r in engine.query(scan.chart_sql()).to_pylist()}
    starts, counts = scan.bucket_series(start, step, buckets)
    assert (starts, counts) == scan.new_targets_series(first_seen, scan.chart_bucket_minutes(first, last))
    assert len(counts) <= scan.CHART_BARS + 1 and sum(counts) == len(first_seen)


def test_ip_order_of_a_few_addresses():
    local = DuckDBEngine(threads=1)
    texts = ["10.0.0.10", "9.0.0.100", "10.0.0.9", "2001:db8::10", "2001:db8::9", "::ffff:1.2.3.4", "bogus"]
    try:
        local.register("x", pa.table({"ip": texts}))
        dimension = ipdim.build(local, "SELECT ip FROM x", (), open_country_db(None), None)
    finally:
        local.close()
    got = ipdim.address_order(dimension.table, pa.array(texts))["ip"].to_pylist()
    # Numeric order, not text order: 9.x before 10.x, ::9 before ::10; IPv4 before IPv6; non-addresses first.
    assert got == ["bogus", "9.0.0.100", "10.0.0.9", "10.0.0.10", "::ffff:1.2.3.4", "2001:db8::9", "2001:db8::10"]

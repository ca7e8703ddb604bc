"""Same input, same output: reports differ only in their generation time."""

import json
import os
import subprocess
import sys

from sentinel import pipeline
from sentinel.report import json_report, markdown
from sentinel.simulate import SimulationConfig, simulate, write_simulation
from tests.flows import config_for, flow, write_flows
from tests.report.schema_check import check_report


def test_two_runs_give_identical_reports(tmp_path):
    sim = simulate(SimulationConfig(hosts=60, flows=80_000, seed=3, attacks=True))
    path, _ = write_simulation(sim, tmp_path / "day.parquet")
    config = config_for(path, "country_volume", "hourly", "exfiltration", "botnet")
    first, second = pipeline.run(config), pipeline.run(config)
    a, b = (check_report(json.loads(json_report.render(r))) for r in (first, second))
    a.pop("generated_at"), b.pop("generated_at")
    assert a == b
    assert markdown.render(first, {}).split("\n", 3)[3] == markdown.render(second, {}).split("\n", 3)[3]


def _ipv6_office() -> list[dict]:
    """An IPv6 office: browsing to external hosts, a DNS server, a P2P group, one host sending data out."""
    hosts = [f"fd00:104::{i:x}" for i in range(0x10, 0x20)]
    external = ["2001:4860::8888", "2a00:1450:4003::200e", "2606:4700::1111", "2a03:2880:f003::1", "2620:1ec::6"]
    rows = []
    for i, host in enumerate(hosts):
        rows += [flow(100 * i + k, host, external[(i + k) % len(external)], up=300, down=90_000) for k in range(12)]
        rows += [flow(100 * i + 50 + k, host, "fd00:104::53", port=53, proto="udp") for k in range(3)]
    peers = ["fd00:104::1a", "fd00:104::11", "FD00:104::1F", "fd00:104::14"]  # spelt as a capture may spell them
    rows += [
        flow(5000 + i, a, b, port=40_000) for i, (a, b) in enumerate((a, b) for a in peers for b in peers if a != b)
    ]
    rows += [flow(9000 + k, hosts[3], "2a05:d018::5", up=60_000_000, down=20_000) for k in range(3)]
    return rows


def test_reports_do_not_depend_on_the_hash_seed(tmp_path):
    """Two processes with different PYTHONHASHSEED give the same JSON report on an IPv6 capture."""
    data = write_flows(tmp_path / "v6.parquet", _ipv6_office())
    reports = []
    for seed in ("1", "2"):
        out = tmp_path / f"report-{seed}.json"
        argv = ["--data", str(data), "--internal", "fd00:104::/64", "--all", "--json", str(out), "-q"]
        done = subprocess.run(
            [sys.executable, "-m", "sentinel", *argv],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        report = check_report(json.loads(out.read_text()))
        report.pop("generated_at")
        reports.append(report)
    assert reports[0] == reports[1]
    [botnet] = [a for a in reports[0]["alerts"] if a["type"] == "botnet"]
    assert botnet["hosts"] == ["fd00:104::11", "fd00:104::14", "fd00:104::1a", "fd00:104::1f"]  # canonical text
    assert any(a["type"] == "exfiltration" for a in reports[0]["alerts"])

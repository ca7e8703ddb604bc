"""Same input, same output: reports differ only in their generation time."""

import json

from sentinel import pipeline
from sentinel.report import json_report, markdown
from sentinel.simulate import SimulationConfig, simulate, write_simulation
from tests.flows import config_for


def test_two_runs_give_identical_reports(tmp_path):
    sim = simulate(SimulationConfig(hosts=60, flows=80_000, seed=3, attacks=True))
    path, _ = write_simulation(sim, tmp_path / "day.parquet")
    config = config_for(path, "country_volume", "hourly", "exfiltration", "botnet")
    first, second = pipeline.run(config), pipeline.run(config)
    a, b = json.loads(json_report.render(first)), json.loads(json_report.render(second))
    a.pop("generated_at"), b.pop("generated_at")
    assert a == b
    assert markdown.render(first, {}).split("\n", 3)[3] == markdown.render(second, {}).split("\n", 3)[3]

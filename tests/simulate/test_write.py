"""write_simulation: Parquet + labels JSON, atomic, never overwriting by accident."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sentinel.errors import OutputError
from sentinel.schema import COURSE_ARROW_SCHEMA as ARROW_SCHEMA
from sentinel.simulate import SimulationConfig, labels_path_for, simulate, write_simulation


@pytest.fixture(scope="module")
def sim():
    return simulate(SimulationConfig(hosts=30, flows=40_000, attacks=True))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("out/day.parquet", "out/day.labels.json"),
        ("day.PARQUET", "day.labels.json"),
        ("out/day", "out/day.labels.json"),
        ("day.pq", "day.pq.labels.json"),
    ],
)
def test_labels_path_for(given, expected):
    assert labels_path_for(Path(given)) == Path(expected)


def test_writes_parquet_and_labels(sim, tmp_path):
    parquet, labels = write_simulation(sim, tmp_path / "day.parquet")
    assert (parquet, labels) == (tmp_path / "day.parquet", tmp_path / "day.labels.json")
    table = pq.read_table(parquet)
    assert table.schema.remove_metadata() == ARROW_SCHEMA and table.equals(sim.flows)
    assert pq.ParquetFile(parquet).metadata.row_group(0).column(0).compression == "ZSTD"
    text = labels.read_text(encoding="utf-8")
    assert json.loads(text) == sim.labels
    assert text == json.dumps(sim.labels, indent=2, sort_keys=True) + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.labels.json", "day.parquet"]  # no temp files


@pytest.mark.parametrize("existing", ["day.parquet", "day.labels.json"])
def test_refuses_to_overwrite(sim, tmp_path, existing):
    (tmp_path / existing).write_text("keep me")
    with pytest.raises(OutputError, match="exists already") as caught:
        write_simulation(sim, tmp_path / "day.parquet")
    assert str(caught.value).startswith(str(tmp_path / existing))
    assert "\n" not in str(caught.value)
    assert (tmp_path / existing).read_text() == "keep me"
    assert len(list(tmp_path.iterdir())) == 1


def test_overwrite_replaces(sim, tmp_path):
    (tmp_path / "day.parquet").write_text("old")
    (tmp_path / "day.labels.json").write_text("old")
    write_simulation(sim, tmp_path / "day.parquet", overwrite=True)
    assert pq.read_table(tmp_path / "day.parquet").num_rows == 40_000
    assert json.loads((tmp_path / "day.labels.json").read_text())["version"] == 1


def test_missing_folder_is_an_output_error(sim, tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_simulation(sim, tmp_path / "nope" / "day.parquet")

"""Writing a simulation: Parquet (zstd) plus OUT.labels.json, atomically, never clobbering by accident."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from sentinel.errors import OutputError
from sentinel.report.output import exists_error, temp_beside
from sentinel.schema import DST_IP, PORT, PROTO, SRC_IP

if TYPE_CHECKING:
    from sentinel.simulate.simulation import Simulation

LABELS_SUFFIX = ".labels.json"
# Dictionary-encode only columns with few distinct values; timestamps and byte counts hardly repeat.
DICTIONARY_COLUMNS = [SRC_IP, DST_IP, PROTO, PORT]


def labels_path_for(parquet_path: Path) -> Path:
    """OUT.parquet -> OUT.labels.json; a name without the .parquet suffix gets .labels.json appended."""
    path = Path(parquet_path)
    stem = path.name[: -len(".parquet")] if path.name.lower().endswith(".parquet") else path.name
    return path.with_name(stem + LABELS_SUFFIX)


def write_simulation(sim: Simulation, path: Path, overwrite: bool = False) -> tuple[Path, Path]:
    """Write the flows to `path` and the labels next to it; returns (parquet path, labels path)."""
    path = Path(path)
    labels_path = labels_path_for(path)
    if not overwrite:
        for target in (path, labels_path):
            if target.exists():
                raise exists_error(target)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist")
    labels_text = json.dumps(sim.labels, indent=2, sort_keys=True) + "\n"
    temps: list[Path] = []
    try:
        temps.append(
            temp_beside(
                path, lambda t: pq.write_table(sim.flows, t, compression="zstd", use_dictionary=DICTIONARY_COLUMNS)
            )
        )
        temps.append(temp_beside(labels_path, lambda t: t.write_text(labels_text, encoding="utf-8")))
        os.replace(temps[0], path)
        os.replace(temps[1], labels_path)
    except OSError as exc:
        raise OutputError(f"{exc.filename or path}: cannot write ({exc.strerror or exc})") from exc
    finally:
        for temp in temps:  # left over only when something failed (or Ctrl-C)
            temp.unlink(missing_ok=True)
    return path, labels_path

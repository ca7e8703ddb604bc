"""Building tiny flow files for tests: exact inputs, so tests can state exact expected results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sentinel import schema
from sentinel.config import Config
from sentinel.registry import default_params


def flow(ts: int, src: str, dst: str, up: int = 100, down: int = 1000, port: int = 443, proto: str = "tcp") -> dict:
    return {
        "timestamp": ts,
        "src_ip": src,
        "dst_ip": dst,
        "proto": proto,
        "port": port,
        "up_bytes": up,
        "down_bytes": down,
    }


def write_flows(path: Path, rows: list[dict[str, Any]], arrow_schema: pa.Schema = schema.COURSE_ARROW_SCHEMA) -> Path:
    columns = {name: [r[name] for r in rows] for name in arrow_schema.names}
    pq.write_table(pa.table(columns, schema=arrow_schema), path)
    return path


#: The engine config_for() asks for; tests/analyses and tests/detectors set it per test (every engine).
ENGINE = "duckdb"


def config_for(path: Path, *keys: str, **params: Any) -> Config:
    """A Config running the given units with default parameters, overridden per unit by params[key]."""
    units = {k: params.get(k, default_params(k)) for k in keys}
    return Config(data=path, units=units, engine=ENGINE)

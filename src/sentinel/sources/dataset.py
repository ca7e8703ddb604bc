"""The layout of a dataset written by `sentinel import`, shared by the importer and the reader.

    DATASET/day=2024-04-19/part-<id>-0.parquet   canonical columns (+ src_id, dst_id), zstd, sorted by ts
    DATASET/_sentinel/import-<id>.json           what each import read and set aside (malformed rows)
    DATASET/_sentinel/addresses.parquet          id (int32), ip (text): one row per address of the dataset
    DATASET/_sentinel/summaries/NAME/day=2024-04-19/part-<id>-0.parquet
                                                 that file's flows summed per key (sentinel.sources.summaries)

Address ids are the dataset's own: an import that appends gives new addresses the next free ids and never
renumbers old ones, so files of every import share one address table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sentinel.sources.summaries import SUMMARIES, SUMMARISED_BYTES, SUMMARISED_ROWS

META_DIR = "_sentinel"
ADDRESS_TABLE = "addresses.parquet"
ADDRESS_SCHEMA = pa.schema([pa.field("id", pa.int32(), nullable=False), pa.field("ip", pa.string(), nullable=False)])
SUMMARY_DIR = "summaries"

_DAY_DIR = re.compile(r"^day=\d{4}-\d{2}-\d{2}$")


def address_table_path(root: Path) -> Path:
    return root / META_DIR / ADDRESS_TABLE


def read_addresses(path: str | Path) -> pa.Table:
    """A dataset's address table (ParquetFile, not read_table: that imports pyarrow.dataset, 0.2 s a run)."""
    return pq.ParquetFile(path).read(columns=list(ADDRESS_SCHEMA.names)).cast(ADDRESS_SCHEMA)


def root_of(path: str) -> str | None:
    """The dataset folder of a file in one of its day partitions (".../DATASET/day=YYYY-MM-DD/part.parquet")."""
    parent = os.path.dirname(os.path.abspath(path))
    if not _DAY_DIR.match(os.path.basename(parent)):
        return None
    return os.path.dirname(parent)


def summary_path(part: str, name: str) -> Path | None:
    """Where summary `name` (sentinel.sources.summaries) of a dataset's file would be (None for a file outside
    a day partition)."""
    root = root_of(part)
    if root is None:
        return None
    day = os.path.basename(os.path.dirname(os.path.abspath(part)))
    return Path(root) / META_DIR / SUMMARY_DIR / name / day / os.path.basename(part)


def summaries_of(parts: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each summary every one of `parts` has, written for exactly it: the summary's columns and the part's row
    count (a summary of a file since replaced, or cut short, is not used): name -> one file per part."""
    marks = [summary_marks(p) for p in parts]
    found: dict[str, tuple[str, ...]] = {}
    for name, summary in SUMMARIES.items():
        paths = [summary_path(p, name) for p in parts]
        if all(
            path is not None and sums_exactly(path, summary.schema, m) for path, m in zip(paths, marks, strict=True)
        ):
            found[name] = tuple(str(p) for p in paths)
    return found


def summary_marks(part: str) -> dict[bytes, bytes]:
    """What a summary records of the file it sums (key-value metadata): its row count and size."""
    path = os.path.abspath(part)
    return {
        SUMMARISED_ROWS: str(pq.ParquetFile(path).metadata.num_rows).encode(),
        SUMMARISED_BYTES: str(os.path.getsize(path)).encode(),
    }


def sums_exactly(path: Path, expected: pa.Schema, marks: dict[bytes, bytes]) -> bool:
    """Whether the summary file at `path` has the columns `expected` and records the `marks` (row count and
    size) of the file it is to sum."""
    try:
        summary = pq.ParquetFile(path)
    except Exception:  # missing or damaged: proves nothing, the run reads the flows
        return False
    fields = [(f.name, f.type) for f in summary.schema_arrow]
    kv = summary.metadata.metadata or {}
    return fields == [(f.name, f.type) for f in expected] and all(kv.get(k) == v for k, v in marks.items())


def summary_uri(part: str, name: str) -> str | None:
    """summary_path of a file named by URI (hdfs://.../DATASET/day=.../part.parquet), as a URI."""
    head, _, base = part.rpartition("/")
    root, _, day = head.rpartition("/")
    return f"{root}/{META_DIR}/{SUMMARY_DIR}/{name}/{day}/{base}" if _DAY_DIR.match(day) and root else None


def address_table_uri(uri: str) -> str:
    """Where the address table of a dataset named by URI would be (hdfs://.../DATASET, or one of its day
    partitions): for an engine to look, as nothing is read on this machine."""
    root = uri.rstrip("/")
    head, _, last = root.rpartition("/")
    if _DAY_DIR.match(last):
        root = head
    return f"{root}/{META_DIR}/{ADDRESS_TABLE}"


def shared_address_table(paths: Sequence[str]) -> str | None:
    """The address table every one of `paths` belongs to, or None when they do not share one (files of
    several datasets, files moved out of their dataset, a dataset imported before ids existed)."""
    roots = {root_of(p) for p in paths}
    if len(roots) != 1:
        return None
    (root,) = roots
    if root is None:
        return None
    table = address_table_path(Path(root))
    return str(table) if table.is_file() else None

"""`sentinel import`: read flows once, in any format, into a canonical Parquet dataset partitioned by day.

What SiLK, nfdump and RITA do with their stores: later runs (`--data DATASET/`) skip format detection and
text parsing, read only the columns and days they need (`--from`/`--to` prune whole partitions), and see
files sorted by time. Layout (Hive style, readable by DuckDB, Spark, pandas):

    DATASET/day=2024-04-19/part-<id>-0.parquet   canonical columns, zstd, sorted by ts
    DATASET/_sentinel/import-<id>.json           what each import read and set aside (malformed rows)
    DATASET/_sentinel/addresses.parquet          the dataset's address ids (src_id, dst_id in the files)

Only well-formed rows are written; the accounting of the others stays beside the data. Each flow also gets
integer ids for its two addresses (sentinel.sources.dataset), so that runs on the dataset group and join
on integers instead of text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sentinel import schema
from sentinel.config import Config
from sentinel.context import Context
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.enrich.geodb import GeoStack
from sentinel.errors import InputError, OutputError, UnreadableData, first_line
from sentinel.sources.base import sql_string
from sentinel.sources.dataset import (
    ADDRESS_SCHEMA,
    META_DIR,
    SUMMARY_DIR,
    address_table_path,
    read_addresses,
    summaries_of,
    summary_marks,
    summary_path,
)
from sentinel.sources.parquet import BYTES_UNKNOWN_KEY, RELATIVE_KEY, address_table_problem
from sentinel.sources.registry import open_sources
from sentinel.sources.summaries import SUMMARIES
from sentinel.timefmt import Instant

try:
    import fcntl
except ImportError:  # not POSIX: appends are not kept apart
    fcntl = None  # type: ignore[assignment]

DEFAULT_MEMORY_LIMIT = "4GB"


@dataclass(frozen=True)
class ImportResult:
    dataset: Path
    rows: int
    flows: int
    rejected_rows: int
    rejected_by_reason: dict[str, int]
    days: list[str]
    files: int
    accounting: Path


def import_flows(config: Config, target: Path, mode: str = "new") -> ImportResult:
    """Read `config`'s inputs and write their well-formed flows into the dataset at `target`.

    mode: "new" (target must not exist or be empty), "append" (add to an existing dataset) or "replace"
    (build a new dataset beside it, then swap: the old one stays intact until the new one is complete).
    """
    _check_target(target, mode)
    with _appending(target) if mode == "append" else contextlib.nullcontext():
        return _import(config, target, mode)


def _import(config: Config, target: Path, mode: str) -> ImportResult:
    with_ids = _takes_ids(target, mode)
    # Sorting a capture by time holds it in memory unless told otherwise: 4 GB by default (DuckDB spills the
    # rest to disk), so that importing 100M flows does not take most of the machine.
    engine = DuckDBEngine(threads=config.threads, memory_limit=config.memory_limit or DEFAULT_MEMORY_LIMIT)
    engine.execute("SET preserve_insertion_order = true")  # files come out sorted by ts
    import_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    # Everything is written into `build`, laid out as a dataset, and moved in once complete: a new dataset
    # beside the target (then swapped in), an append under the target's _sentinel/ (then its files moved in),
    # so that a failed or interrupted import leaves the dataset as it was and a retry counts no flow twice.
    build = (
        target / META_DIR / f".incoming-{import_id}"
        if mode == "append"
        else target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    )
    try:
        source = open_sources(engine, config.inputs, config.read_options, config.format)
        ctx = Context(engine, config, source, lambda: GeoStack([]))  # no enrichment: only rows are written
        q = ctx.quality
        columns = [*schema.REQUIRED_NAMES, *sorted(source.optional, key=schema.OPTIONAL_NAMES.index)]
        day = f"strftime(make_timestamp({schema.TS}), '%Y-%m-%d')"
        with _writing_files(target):
            build.mkdir(parents=True, exist_ok=True)
        ids = ""
        joins = ""
        if with_ids:
            # An append extends the dataset's own table at once: new ids only grow it, and one no flow uses
            # (this import failing later) is harmless.
            with _writing_files(target):
                addresses = _extend_addresses(target if mode == "append" else build, ctx.ip_dim.table)
            engine.register("addresses", addresses)
            ids = ", s.id AS src_id, d.id AS dst_id"
            joins = " JOIN addresses s ON f.src_ip = s.ip JOIN addresses d ON f.dst_ip = d.ip"
        relative = "true" if source.relative_time else "false"
        unknown = "true" if source.bytes_unknown else "false"
        write = _writing(target, engine.execute)
        write(
            f"""
            COPY (
                SELECT {", ".join(f"f.{c}" for c in columns)}{ids}, {day} AS day FROM flows f{joins}
                ORDER BY f.{schema.TS}
            )
            TO {sql_string(str(build))} (
                FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day), APPEND,
                FILENAME_PATTERN 'part-{import_id}-{{uuid}}',
                KV_METADATA {{'{RELATIVE_KEY.decode()}': '{relative}', '{BYTES_UNKNOWN_KEY.decode()}': '{unknown}'}}
            )
            """
        )
        parts = sorted(build.glob(f"day=*/part-{import_id}-*.parquet"))
        written = len(parts)
        with _writing_files(target):
            for part in parts if with_ids else []:
                _summarise(write, part)
            # Any earlier file of the dataset without its summaries (imported before they existed): one append
            # completes the dataset. Each summary is written whole or not at all, in place.
            for part in sorted(target.glob("day=*/*.parquet")) if with_ids and mode == "append" else []:
                if set(summaries_of([str(part)])) != set(SUMMARIES):
                    _summarise(write, part)
            accounting = build / META_DIR / f"import-{import_id}.json"
            accounting.parent.mkdir(exist_ok=True)
        record = {
            "import_id": import_id,
            "inputs": list(source.sources),
            "formats": list(source.formats),
            "rows": q.rows,
            "flows_written": q.flows,
            "rejected_rows": q.rejected_rows,
            "rejected_by_reason": q.rejected_by_reason,
            "rejected_examples": list(q.examples),
            "first_seen": _text(q.first_ts, source.relative_time),
            "last_seen": _text(q.last_ts, source.relative_time),
            "relative_time": source.relative_time,
            "optional_columns": sorted(source.optional),
            "bytes_unknown": source.bytes_unknown,
            "notes": list(source.notes),
            "address_ids": with_ids,
        }
        with _writing_files(target):
            accounting.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            if mode == "append":
                _move_in(build, target)
            else:
                _swap_in(build, target)
        days = sorted(p.name.removeprefix("day=") for p in target.glob("day=*"))
        final = target / META_DIR / accounting.name
        return ImportResult(target, q.rows, q.flows, q.rejected_rows, q.rejected_by_reason, days, written, final)
    except UnreadableData as exc:
        raise InputError(", ".join(config.inputs), f"cannot be read: {exc}") from exc
    finally:
        engine.close()
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)  # a failed or interrupted import leaves nothing behind


def _takes_ids(target: Path, mode: str) -> bool:
    """Whether this import writes address ids: always, except when it appends to a dataset imported before
    ids existed (its files have none; one dataset keeps one layout, and runs read it by text)."""
    if mode != "append" or address_table_path(target).is_file():
        return True
    return not any(target.glob("day=*/*.parquet"))


def _extend_addresses(build: Path, dim: pa.Table) -> pa.Table:
    """The dataset's address table with this import's new addresses added (the next free ids, in text order),
    written in place of the old one: old ids are never renumbered. Every canonical spelling of the run's
    address dimension is in it, so every flow written finds its two ids."""
    path = address_table_path(build)
    old = read_addresses(path) if path.is_file() else ADDRESS_SCHEMA.empty_table()
    canonical = dim.filter(pc.equal(dim["canonical"], dim["ip"]))["ip"].combine_chunks()
    new = canonical.filter(pc.invert(pc.is_in(canonical, old["ip"])))
    new = new.take(pc.sort_indices(new))
    start = int(pc.max(old["id"]).as_py()) + 1 if old.num_rows else 0
    if start + len(new) > np.iinfo(np.int32).max:
        raise OutputError(f"{build}: more than {np.iinfo(np.int32).max} distinct addresses in one dataset")
    added = pa.table({"id": pa.array(np.arange(start, start + len(new), dtype=np.int32)), "ip": new}, ADDRESS_SCHEMA)
    table = pa.concat_tables([old, added])
    path.parent.mkdir(exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    pq.write_table(table, partial, compression="zstd")
    os.replace(partial, path)  # a reader never sees half a table
    return table


def _writing(target: Path, execute: Callable[[str], None]) -> Callable[[str], None]:
    """`execute` for statements that write the dataset: a failed write (disk full, ...) is the output's error,
    naming the dataset, not an internal one."""

    def write(sql: str) -> None:
        with _writing_files(target):
            execute(sql)

    return write


def _summarise(write: Callable[[str], None], part: Path) -> None:
    """Write the summaries of one written file (sentinel.sources.summaries), each whole or not at all."""
    marks = ", ".join(f"'{k.decode()}': '{v.decode()}'" for k, v in summary_marks(str(part)).items())
    for name, summary in SUMMARIES.items():  # a summary computed from another comes after it
        path = summary_path(str(part), name)
        source = summary_path(str(part), summary.of) if summary.of else part
        assert path is not None and source is not None  # written under day=...
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        write(
            f"""
            COPY ({summary.sql(f"read_parquet({sql_string(str(source))})")})
            TO {sql_string(str(partial))} (
                FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{marks}}}
            )
            """
        )
        os.replace(partial, path)  # a reader never sees half a summary


def _text(us: int | None, relative: bool) -> str | None:
    return None if us is None else Instant(us, relative).text()


def _check_target(target: Path, mode: str) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputError(f"{target}: exists and is not a directory")
    present = target.is_dir() and any(target.iterdir())
    if mode == "new" and present:
        raise OutputError(f"{target}: exists and is not empty; pass --append to add to it or --force to replace it")
    if mode in ("append", "replace") and present and not (target / META_DIR).is_dir():
        raise OutputError(f"{target}: is not a Sentinel dataset (no {META_DIR}/); refusing to change it")
    table = address_table_path(target)
    why = address_table_problem(str(table), -1) if mode == "append" and table.is_file() else None
    if why:  # new ids could not continue its numbering
        rebuild = "import its inputs again with --force to rebuild it"
        raise OutputError(f"{table}: {why}; refusing to append to it ({rebuild})")
    parent = target.resolve().parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(f"{target}: cannot write (no writable directory {parent})")


@contextlib.contextmanager
def _appending(target: Path) -> Iterator[None]:
    """One append to a dataset at a time: two at once would number their new addresses from the same address
    table. Held as a lock on a file of the dataset (released when the process ends, however it ends), so
    the folders of an earlier append that could not clean up (killed) are stale, and removed."""
    meta = target / META_DIR
    lock = meta / ".append.lock"
    new = [p for p in (target, meta) if not p.exists()]  # an append may start a dataset
    with _writing_files(target):
        meta.mkdir(parents=True, exist_ok=True)
        handle = lock.open("a+b")
    try:
        with handle:
            if fcntl is not None:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise OutputError(f"{target}: another import is appending to it; run this one after it") from None
            for stale in meta.glob(".incoming-*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield
    finally:
        with contextlib.suppress(OSError):
            if new and list(meta.iterdir()) == [lock]:  # a dataset this append started, and nothing came of it
                lock.unlink()
                for folder in reversed(new):
                    folder.rmdir()


@contextlib.contextmanager
def _writing_files(target: Path) -> Iterator[None]:
    """A block that writes the dataset, by the engine (`_writing`) or by Python (address table, accounting,
    moves): a failed write (disk full, ...) is the output's error, naming the dataset, not an internal one."""
    try:
        yield
    except (OSError, duckdb.IOException) as exc:
        raise OutputError(f"{target}: cannot write the dataset ({first_line(exc)})") from exc


def _move_in(build: Path, target: Path) -> None:
    """An append's files into the dataset: summaries, then flows, then the accounting record, so that no
    reader sees a file of flows without its summaries. Renames within one file system, a moment in all:
    Ctrl-C waits for them (the import is then complete). A rename that fails takes back those before it."""

    def rank(path: Path) -> int:
        first = path.relative_to(build).parts[0]
        return 1 if first.startswith("day=") else 0 if path.is_relative_to(build / META_DIR / SUMMARY_DIR) else 2

    moved: list[Path] = []
    with _ignoring_ctrl_c():
        try:
            for path in sorted((p for p in build.rglob("*") if p.is_file()), key=lambda p: (rank(p), p)):
                destination = target / path.relative_to(build)
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, destination)
                moved.append(destination)
        except OSError:
            for destination in moved:
                with contextlib.suppress(OSError):
                    destination.unlink()
            raise


@contextlib.contextmanager
def _ignoring_ctrl_c() -> Iterator[None]:
    """SIGINT ignored for the block (where the signal can be handled: the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _swap_in(build: Path, target: Path) -> None:
    """Put the complete new dataset in place; the old one is removed only after the rename succeeded."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{secrets.token_hex(6)}.old")
        os.rename(target, old)
    os.rename(build, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

"""Every input format Sentinel reads, and how a run's files become one canonical `raw_flows` view.

Formats are tried in registry order on each file's first bytes; --format forces one. Files of one format
and layout are read by one scan; the scans are united by column name, so a directory may mix days and
formats. A new format is one module with a Reader, added to READERS.
"""

from __future__ import annotations

from collections.abc import Sequence

from sentinel import schema
from sentinel.engines.base import Engine
from sentinel.errors import ConfigError, InputError
from sentinel.sources import inputs
from sentinel.sources.base import Reader, ReadOptions, Sample, Scan, SourceInfo
from sentinel.sources.parquet import CanonicalParquet, CourseParquet, explain_unrecognised
from sentinel.sources.zeek import ZeekConn

READERS: dict[str, Reader] = {r.name: r for r in (CanonicalParquet(), CourseParquet(), ZeekConn())}


def register(reader: Reader) -> None:
    READERS[reader.name] = reader


def detect(sample: Sample, forced: str | None = None) -> Reader | None:
    if forced:
        return READERS[forced]
    for reader in READERS.values():
        if reader.sniff(sample):
            return reader
    return None


def check_format(name: str | None) -> str | None:
    if name is not None and name not in READERS:
        raise ConfigError(f"--format: unknown format {name!r}; known: {', '.join(sorted(READERS))}")
    return name


def plan(data: Sequence[str], options: ReadOptions, forced: str | None = None) -> tuple[list[Scan], list[str]]:
    """The scans that read every input file, and notes for the report (globs matched, files skipped)."""
    check_format(forced)
    files, notes = inputs.expand(data)
    groups: dict[tuple[str, object], list[Sample]] = {}
    skipped: list[str] = []
    for path, how in files:
        sample = inputs.sample(path)
        reader = detect(sample, forced)
        if reader is None:
            if how == "dir":  # a directory may hold READMEs, labels, ...: skipped, and said
                skipped.append(path)
                continue
            why = explain_unrecognised(sample)
            if why:
                raise why
            raise InputError(path, "is not a flow file Sentinel recognises (" + ", ".join(READERS) + "); see --format")
        groups.setdefault((reader.name, reader.group_key(sample)), []).append(sample)
    if skipped:
        shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        notes.append(f"{len(skipped)} file(s) in the given directories are not flow files and were skipped: {shown}.")
    if not groups:
        raise InputError(", ".join(data), "holds no flow file Sentinel recognises")
    scans = [READERS[name].scan(samples, options) for (name, _), samples in groups.items()]
    return scans, notes


def open_sources(engine: Engine, data: Sequence[str], options: ReadOptions, forced: str | None = None) -> SourceInfo:
    """Define the `raw_flows` view over every input (nothing is read yet: the engine scans lazily)."""
    scans, notes = plan(data, options, forced)
    optional = frozenset.intersection(*(s.optional for s in scans))
    wanted = [*schema.REQUIRED_NAMES, *sorted(optional, key=schema.OPTIONAL_NAMES.index), schema.FILE]
    parts = [f"SELECT {', '.join(wanted)} FROM ({s.sql})" for s in scans]
    engine.execute("CREATE OR REPLACE VIEW raw_flows AS " + " UNION ALL ".join(parts))
    relative = {s.relative_time for s in scans}
    if len(relative) > 1:
        notes.append(
            "Course-schema files without --date are mixed with files of known dates: their times are shown "
            "from 1970-01-01; give --date to place them."
        )
    rows = [s.rows for s in scans]
    firsts = [s.first_ts for s in scans]
    lasts = [s.last_ts for s in scans]
    clean = all(s.proven_clean for s in scans)
    partial = sorted(set().union(*(s.optional for s in scans)) - optional)
    if partial:
        notes.append(
            f"Column(s) {', '.join(partial)} are present in some inputs only, so analyses treat them as absent."
        )
    return SourceInfo(
        sources=tuple(f for s in scans for f in s.files),
        formats=tuple(dict.fromkeys(s.format for s in scans)),
        rows=sum(r for r in rows if r is not None) if all(r is not None for r in rows) else None,
        optional=optional,
        relative_time=relative == {True},
        extra_columns=tuple(sorted({c for s in scans for c in s.extra_columns})),
        proven_clean=clean,
        first_ts=min(f for f in firsts if f is not None) if clean and None not in firsts else None,
        last_ts=max(la for la in lasts if la is not None) if clean and None not in lasts else None,
        notes=tuple(notes) + tuple(n for s in scans for n in s.notes),
        scans=tuple(scans),
    )

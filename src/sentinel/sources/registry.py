"""Every input format Sentinel reads, and how a run's files become one canonical `raw_flows` view.

Formats are tried in registry order on each file's first bytes; --format forces one. Files of one format
and layout are read by one scan; the scans are united by column name, so a directory may mix days and
formats. A new format is one module with a Reader, added to READERS.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from sentinel import schema
from sentinel.engines.base import Engine
from sentinel.errors import ConfigError, InputError
from sentinel.sources import inputs
from sentinel.sources.argus import Argus
from sentinel.sources.base import MIXED_CLOCKS, Reader, ReadOptions, Sample, Scan, SourceInfo, view_columns
from sentinel.sources.mapped import MappedReader, explain_unmapped
from sentinel.sources.nfdump import Nfdump
from sentinel.sources.parquet import CanonicalParquet, CourseParquet, explain_unrecognised
from sentinel.sources.remote import remote_scans
from sentinel.sources.zeek import ZeekConn

READERS: dict[str, Reader] = {
    r.name: r for r in (CanonicalParquet(), CourseParquet(), ZeekConn(), Argus(), Nfdump(), MappedReader())
}


def register(reader: Reader) -> None:
    READERS[reader.name] = reader


def detect(sample: Sample, forced: str | None = None, options: ReadOptions | None = None) -> Reader | None:
    """--format's reader; else one that claims the file given the user's options (a reader may define
    `claims(sample, options)`: with --map, the mapped reader takes files that have the mapped columns);
    else the first whose `sniff` recognises it."""
    if forced:
        return READERS[forced]
    if options is not None:
        for reader in READERS.values():
            claims = getattr(reader, "claims", None)
            if claims is not None and claims(sample, options):
                return reader
    for reader in READERS.values():
        if reader.sniff(sample):
            return reader
    return None


def check_format(name: str | None) -> str | None:
    if name is not None and name not in READERS:
        raise ConfigError(f"--format: unknown format {name!r}; known: {', '.join(sorted(READERS))}")
    return name


def plan(
    data: Sequence[str], options: ReadOptions, forced: str | None = None, engine: Engine | None = None
) -> tuple[list[Scan], list[str]]:
    """The scans that read every input file, and notes for the report (globs matched, files skipped)."""
    check_format(forced)
    files, notes = inputs.expand(data)
    if options.since or options.until:
        kept = [(path, how) for path, how in files if _in_period(path, options)]
        if len(kept) < len(files):
            notes.append(f"{len(files) - len(kept)} day partition file(s) outside --from/--to were not read.")
        files = kept
        if not files:
            raise InputError(", ".join(data), "has no day partition within --from/--to")
    groups: dict[tuple[str, object], list[Sample]] = {}
    skipped: list[str] = []
    uris = [path for path, how in files if how == "uri"]
    files = [(path, how) for path, how in files if how != "uri"]
    remote: list[Scan] = []
    if uris:
        if engine is None:
            raise InputError(uris[0], "is a URI: only an engine that reads URIs (--engine spark) can open it")
        remote = remote_scans(engine, uris, options)
    for path, how in files:
        sample = inputs.sample(path)
        reader = detect(sample, forced, options)
        if reader is None:
            if how == "dir":  # a directory may hold READMEs, labels, ...: skipped, and said
                skipped.append(path)
                continue
            why = explain_unmapped(sample, options) or explain_unrecognised(sample)
            if why:
                raise why
            raise InputError(path, "is not a flow file Sentinel recognises (" + ", ".join(READERS) + "); see --format")
        groups.setdefault((reader.name, reader.group_key(sample)), []).append(sample)
    if skipped:
        shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        notes.append(f"{len(skipped)} file(s) in the given directories are not flow files and were skipped: {shown}.")
    if not groups and not remote:
        raise InputError(", ".join(data), "holds no flow file Sentinel recognises")
    scans = [READERS[name].scan(samples, options) for (name, _), samples in groups.items()]
    return scans + remote, notes


_DAY_DIR = re.compile(r"(?:^|[/\\])day=(\d{4}-\d{2}-\d{2})(?:[/\\]|$)")


def _in_period(path: str, options: ReadOptions) -> bool:
    """False for a file of a day partition (".../day=YYYY-MM-DD/...") outside --from/--to: pruned unread."""
    match = _DAY_DIR.search(path)
    if not match:
        return True
    try:
        day = dt.date.fromisoformat(match.group(1))
    except ValueError:
        return True
    return not ((options.since and day < options.since) or (options.until and day > options.until))


def period_sql(options: ReadOptions) -> str | None:
    """The row filter of --from/--to (UTC days, both included), or None."""
    conditions = []
    if options.since:
        start = dt.datetime.combine(options.since, dt.time(), tzinfo=dt.UTC)
        conditions.append(f"ts >= {int(start.timestamp()) * schema.US_PER_SECOND}")
    if options.until:
        end = dt.datetime.combine(options.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        conditions.append(f"ts < {int(end.timestamp()) * schema.US_PER_SECOND}")
    return " AND ".join(conditions) or None


def open_sources(engine: Engine, data: Sequence[str], options: ReadOptions, forced: str | None = None) -> SourceInfo:
    """Define the `raw_flows` view over every input (nothing is read yet: the engine scans lazily)."""
    scans, notes = plan(data, options, forced, engine)
    optional = frozenset.intersection(*(s.optional for s in scans))
    tables = {s.address_table for s in scans}
    address_table = tables.pop() if len(tables) == 1 else None  # ids of one dataset only
    wanted = view_columns(optional, address_table is not None)
    period = period_sql(options)
    where = f" WHERE {period}" if period else ""
    parts = [f"SELECT {', '.join(wanted)} FROM ({s.sql}){where}" for s in scans]
    engine.create_view("raw_input", " UNION ALL ".join(parts))
    engine.create_view("raw_flows", "SELECT * FROM raw_input")  # the context may read it through aliases
    relative = {s.relative_time for s in scans}
    if len(relative) > 1:
        notes.append(MIXED_CLOCKS)
    rows = [s.rows for s in scans]
    firsts = [s.first_ts for s in scans]
    lasts = [s.last_ts for s in scans]
    clean = all(s.proven_clean for s in scans) and period is None  # a period filter: rows are counted
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
        bytes_unknown=not all(s.bytes_known for s in scans),
        address_table=address_table,
        summaries=_summaries(scans) if address_table is not None and period is None else {},
    )


def _summaries(scans: Sequence[Scan]) -> dict[str, tuple[str, ...]]:
    """The summaries every scan's files have: name -> all their files."""
    names = set.intersection(*(set(s.summaries) for s in scans))
    return {n: tuple(f for s in scans for f in s.summaries[n]) for n in sorted(names)}

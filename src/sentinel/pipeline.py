"""The one path of a run: source -> engine view -> enrichment -> analyses and detectors -> Report."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from sentinel import __version__, interrupt
from sentinel.config import Config
from sentinel.context import Context
from sentinel.engines import open_engine
from sentinel.enrich import netclass
from sentinel.enrich.databases import open_stack
from sentinel.enrich.geo import check_file
from sentinel.enrich.geodb import DatabaseInfo
from sentinel.enrich.ipdim import HostRow
from sentinel.enrich.rdns import Resolver, no_resolver
from sentinel.errors import InputError, UnreadableData
from sentinel.registry import UNITS
from sentinel.report.model import Alert, Column, HostInfo, InputSummary, Report, Section, Skipped
from sentinel.sources.registry import open_sources
from sentinel.units import UnitResult, check_params


def run(
    config: Config,
    resolver: Resolver | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    on_section: Callable[[Section], None] | None = None,
    on_step: Callable[[str], None] | None = None,
    on_alerts: Callable[[Sequence[Alert]], None] | None = None,
) -> Report:
    """Analyse the inputs of `config.data` with the units in `config.units`; the Python API behind the CLI.

    `on_section` sees each section as soon as it is complete, and `on_alerts` each unit's alerts, numbered
    (the CLI draws their charts meanwhile); `on_step` is told what the run starts doing next (the CLI shows
    it as progress).
    """
    named = [(config.country_db, "-gi"), (config.org_db, "-gin"), *((p, "--geoip-db") for p in config.geoip_dbs)]
    for path, option in named:
        if path is not None:
            check_file(path, option)  # the cheap mistakes (no such file, a directory) fail before any work
    for key, params in config.units.items():
        check_params(UNITS[key], params, config)
    engine = open_engine(config.engine, config.threads, config.memory_limit, config.spark_master)
    # The GeoIP databases are read and checked on a worker thread while the engine makes its first pass.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentinel-geoip")
    geoip = pool.submit(
        lambda: open_stack(config.country_db, config.org_db, config.geoip_dbs, use_cache=config.geoip_cache)
    )
    pool.submit(_warm_pyarrow)  # after the databases: their result is wanted first
    try:
        source = open_sources(engine, config.inputs, config.read_options, config.format)
        ctx = Context(engine, config, source, geoip.result)
        report = Report(
            version=__version__,
            generated_at=now().isoformat(timespec="seconds").replace("+00:00", "Z"),
            input=_input_summary(ctx),
            enrichment={
                "country": ctx.geo.describe("country"),
                "as_org": ctx.geo.describe("asn", "none (give -gin or --geoip-db for AS organisations)"),
                "dns": "reverse DNS (--resolve)" if config.resolve_dns else "not resolved (--resolve to enable)",
                "databases": [i.as_dict() for i in ctx.geo.infos if _used(ctx, i)],
            },
            settings={
                "internal": [str(n) for n in config.internal],
                "timezone": config.timezone,
                "date": config.date.isoformat() if config.date else None,
            },
        )
        # Results are taken in the units' order; a unit with `start` has its Python scoring done on a worker
        # thread while the other units make their passes over the flows (the engine runs without the GIL).
        results: dict[str, Future[UnitResult]] = {}
        pending = list(config.units)  # keys whose results are not taken yet, in the units' order

        def take(wait: bool) -> None:
            while pending and pending[0] in results and (wait or results[pending[0]].done()):
                result = interrupt.wait(results.pop(pending.pop(0)))
                if on_section:
                    on_section(result.section)
                report.sections.append(result.section)
                for alert in result.alerts:  # numbered in order (post-steps add none): final ids for their charts
                    report.alerts.append(alert)
                    alert.id = len(report.alerts)
                if on_alerts and result.alerts:
                    on_alerts(result.alerts)

        for key in config.units:
            unit = UNITS[key]
            missing = [c for c in getattr(unit, "needs", ()) if c not in source.optional]
            if missing:  # not an error, not silence: the report says what was not run and why
                report.skipped.append(
                    Skipped(key, unit.title, f"the input has no {', '.join(missing)} column (formats such as Zeek do)")
                )
                pending.remove(key)
        # Units with Python scoring to do beside the engine (`start`) run first: it overlaps the others' passes.
        for key in sorted(pending, key=lambda k: getattr(UNITS[k], "start", None) is None):
            params = config.units[key]
            unit = UNITS[key]
            if on_step:
                on_step(unit.title)
            start = getattr(unit, "start", None)
            results[key] = _beside(start(ctx, params)) if start is not None else _done(unit.run(ctx, params))
            take(wait=False)
        take(wait=True)
        for key, params in config.units.items():  # post-steps: a unit may amend others' findings (threat intel)
            amend = getattr(UNITS[key], "amend", None)
            if amend is not None and report.section(key) is not None:
                amend(ctx, params, report)
        # One look-up for every address the report names: each scans the whole dimension (millions of rows).
        known = ctx.ip_dim.lookup(sorted(_table_addresses(report) | set(_alert_addresses(report))))
        _annotate_addresses(report, known)
        if on_step:
            on_step("looking up the addresses alerts name")
        report.hosts = _host_details(report, known, resolver or no_resolver, config.resolve_dns)
        report.notes.extend(_notes(ctx))
        return report
    except UnreadableData as exc:
        raise InputError(", ".join(config.inputs), f"cannot be read: {exc}") from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        engine.close()


def _done(result: UnitResult) -> Future[UnitResult]:
    future: Future[UnitResult] = Future()
    future.set_result(result)
    return future


def _beside(finish: Callable[[], UnitResult]) -> Future[UnitResult]:
    """`finish()` on a daemon thread (an interrupted run does not wait for it); its error is raised where its
    result is taken."""
    future: Future[UnitResult] = Future()

    def work() -> None:
        try:
            future.set_result(finish())
        except BaseException as exc:  # handed to the pipeline, which raises it in order
            future.set_exception(exc)

    threading.Thread(target=work, name="sentinel-scoring", daemon=True).start()
    return future


def _warm_pyarrow() -> None:
    """pyarrow imports pandas (0.2-0.3 s) the first time it converts numpy data, which every run does (the IP
    dimension first): done here, on the worker, while the engine's first pass leaves the GIL free."""
    pa.array(np.zeros(1, np.uint8))


def _input_summary(ctx: Context) -> InputSummary:
    q = ctx.quality
    return InputSummary(
        sources=list(ctx.source.sources),
        format=ctx.source.format,
        rows=q.rows,
        flows=q.flows,
        rejected_rows=q.rejected_rows,
        rejected_by_reason=q.rejected_by_reason,
        first_seen=ctx.instant(q.first_ts),
        last_seen=ctx.instant(q.last_ts),
        rejected_examples=list(q.examples),
        optional_columns=sorted(ctx.source.optional),
    )


def _used(ctx: Context, info: DatabaseInfo) -> bool:
    return any(info in ctx.geo.used_for(name) for name in info.provides)


def _notes(ctx: Context) -> list[str]:
    q = ctx.quality
    notes = list(ctx.source.notes) + ctx.notes
    cached = [i for i in ctx.geo.infos if i.name.startswith("cache: ") and _used(ctx, i)]
    if cached:
        notes.append(
            "Using the DB-IP Lite databases 'sentinel geoip update' downloaded: "
            + ", ".join(f"{i.name[len('cache: ') :]} ({i.date})" for i in cached)
            + f". {cached[0].licence}."
        )
    if q.rejected_rows:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(q.rejected_by_reason.items()))
        where = f" First: {'; '.join(q.examples)}." if q.examples else ""
        notes.append(f"{q.rejected_rows} malformed rows were set aside and not analysed ({reasons}).{where}")
    if ctx.source.extra_columns:
        notes.append(f"Columns not used: {', '.join(ctx.source.extra_columns)}.")
    if ctx.config.timezone != "UTC" and ctx.source.relative_time and "hourly" in ctx.config.units:
        notes.append(
            f"Hours in {ctx.config.timezone} use its UTC offset on 1970-01-01, the capture day being unknown: "
            "give --date for the offset (daylight saving time) of the real day."
        )
    return notes


def where(row: HostRow | None) -> str:
    """'US, AS15169 Google LLC', 'internal', '(multicast)': where an address is, in a table cell."""
    if not row:
        return "(invalid)"
    if row.get("class") == netclass.INTERNAL:
        return "internal"
    bits = [b for b in (row.get("country"), row.get("as_org")) if b]
    return ", ".join(bits) if bits else f"({row.get('address_class') or 'unknown'})"


def _table_addresses(report: Report) -> set[str]:
    """The addresses of the report's table columns of addresses and of its alerts' evidence records."""
    wanted: set[str] = set()
    for table in (t for s in report.sections for t in s.tables):
        for column in table.columns:
            if column.kind == "ip":
                wanted.update(r[column.key] for r in table.rows if isinstance(r.get(column.key), str))
    for record in (r for a in report.alerts for r in a.evidence.records()):
        wanted.update(v for k, v in record.items() if k.endswith("ip") and isinstance(v, str))
    return wanted


def _alert_addresses(report: Report) -> list[str]:
    """The addresses alerts name (their hosts, source and destination), sorted, once each."""
    named: list[str] = []
    for alert in report.alerts:
        named.extend(alert.hosts)
        named.extend(ip for ip in (alert.src_ip, alert.dst_ip) if ip)
    return sorted(set(named), key=netclass.ip_sort_key)


def _annotate_addresses(report: Report, known: dict[str, HostRow]) -> None:
    """Every table column of addresses (but those listing internal hosts only) gets a "country, AS" column beside
    it, and every evidence record naming an address a `<key>_where` field, from `known` (the dimension's rows)."""
    tables = [t for s in report.sections for t in s.tables]
    records = [r for a in report.alerts for r in a.evidence.records()]
    for table in tables:
        for column in [c for c in table.columns if c.kind == "ip"]:
            key = f"{column.key}_where"
            if any(c.key == key for c in table.columns):
                continue
            values = [row.get(column.key) for row in table.rows]  # all rows: the JSON and CSV have them all
            rows = [known.get(v) for v in values if isinstance(v, str)]
            if all(r is None or r.get("class") == netclass.INTERNAL for r in rows):
                continue  # a column of internal hosts only (exfiltration's, the servers'): nothing to add
            table.columns.insert(table.columns.index(column) + 1, Column(key, "country, AS"))
            for row in table.rows:
                if isinstance(row.get(column.key), str) and row[column.key] in known:
                    row[key] = where(known[row[column.key]])
    for record in records:
        for k, v in list(record.items()):
            if not (k.endswith("ip") and isinstance(v, str) and v in known) or f"{k}_where" in record:
                continue
            if known[v].get("class") != netclass.INTERNAL:  # an internal host is where it is
                record[f"{k}_where"] = where(known[v])


def _host_details(report: Report, known: dict[str, HostRow], resolver: Resolver, resolve: bool) -> dict[str, HostInfo]:
    """Country, AS organisation and (optionally) DNS name of every address an alert names."""
    ips = _alert_addresses(report)
    listed: dict[str, list[str]] = {}
    for section in report.sections:  # units that match lists say which addresses they name (payload "listed")
        for ip, labels in (section.payload.get("listed") or {}).items():
            listed.setdefault(ip, []).extend(labels)
    names = resolver(ips) if resolve and ips else {}
    hosts: dict[str, HostInfo] = {}
    for ip in ips:
        row = known.get(ip)
        hosts[ip] = HostInfo(
            ip=ip,
            scope=row.get("class") if row else None,
            country=row.get("country") if row else None,
            as_org=row.get("as_org") if row else None,
            dns_name=names.get(ip),
            address_class=row.get("address_class") if row else None,
            asn=row.get("asn") if row else None,
            city=row.get("city") if row else None,
            intel=listed.get(ip, []),
        )
    return hosts

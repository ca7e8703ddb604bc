"""The one path of a run: source -> engine view -> enrichment -> analyses and detectors -> Report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sentinel import __version__
from sentinel.config import Config
from sentinel.context import Context
from sentinel.engines import open_engine
from sentinel.enrich import netclass
from sentinel.enrich.geo import check_file, open_country_db, open_org_db
from sentinel.enrich.rdns import Resolver, no_resolver
from sentinel.errors import InputError, UnreadableData
from sentinel.registry import UNITS
from sentinel.report.model import HostInfo, InputSummary, Report, Section, Skipped
from sentinel.sources.registry import open_sources
from sentinel.units import check_params


def run(
    config: Config,
    resolver: Resolver | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    on_section: Callable[[Section], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Report:
    """Analyse the inputs of `config.data` with the units in `config.units`; the Python API behind the CLI.

    `on_section` sees each section as soon as it is complete (the CLI draws charts meanwhile); `on_step` is
    told what the run starts doing next (the CLI shows it as progress).
    """
    for path, option in ((config.country_db, "-gi"), (config.org_db, "-gin")):
        if path is not None:
            check_file(path, option)  # the cheap mistakes (no such file, a directory) fail before any work
    for key, params in config.units.items():
        check_params(UNITS[key], params, config)
    engine = open_engine(config.engine, config.threads, config.memory_limit, config.spark_master)
    # The GeoIP databases are read and checked on a worker thread while the engine makes its first pass.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentinel-geoip")
    geoip = pool.submit(lambda: (open_country_db(config.country_db), open_org_db(config.org_db)))
    try:
        source = open_sources(engine, config.inputs, config.read_options, config.format)
        ctx = Context(engine, config, source, geoip.result)
        report = Report(
            version=__version__,
            generated_at=now().isoformat(timespec="seconds").replace("+00:00", "Z"),
            input=_input_summary(ctx),
            enrichment={
                "country": ctx.country_db.source,
                "as_org": ctx.org_db.source if ctx.org_db else "none (give -gin for AS organisations)",
                "dns": "reverse DNS (--resolve)" if config.resolve_dns else "not resolved (--resolve to enable)",
            },
            settings={
                "internal": [str(n) for n in config.internal],
                "timezone": config.timezone,
                "date": config.date.isoformat() if config.date else None,
            },
        )
        for key, params in config.units.items():
            unit = UNITS[key]
            missing = [c for c in getattr(unit, "needs", ()) if c not in source.optional]
            if missing:  # not an error, not silence: the report says what was not run and why
                report.skipped.append(
                    Skipped(key, unit.title, f"the input has no {', '.join(missing)} column (formats such as Zeek do)")
                )
                continue
            if on_step:
                on_step(unit.title)
            result = unit.run(ctx, params)
            if on_section:
                on_section(result.section)
            report.sections.append(result.section)
            report.alerts.extend(result.alerts)
        for number, alert in enumerate(report.alerts, start=1):
            alert.id = number
        if on_step:
            on_step("looking up the addresses alerts name")
        report.hosts = _host_details(ctx, report, resolver or no_resolver, config.resolve_dns)
        report.notes.extend(_notes(ctx))
        return report
    except UnreadableData as exc:
        raise InputError(", ".join(config.inputs), f"cannot be read: {exc}") from exc
    finally:
        pool.shutdown(wait=True)
        engine.close()


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


def _notes(ctx: Context) -> list[str]:
    q = ctx.quality
    notes = list(ctx.source.notes) + ctx.notes
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


def _host_details(ctx: Context, report: Report, resolver: Resolver, resolve: bool) -> dict[str, HostInfo]:
    """Country, AS organisation and (optionally) DNS name of every address an alert names."""
    named: list[str] = []
    for alert in report.alerts:
        named.extend(alert.hosts)
        named.extend(ip for ip in (alert.src_ip, alert.dst_ip) if ip)
    ips = sorted(set(named), key=netclass.ip_sort_key)
    known = ctx.ip_dim.lookup(ips)
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
        )
    return hosts

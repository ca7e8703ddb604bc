"""Command line: parse, call the library, render, map errors to exit codes. No analysis here.

The original course command line is a compatibility contract and keeps working unchanged:
    sentinel --data F.parquet -gi GeoIP.dat -gin GeoIPASNum.dat -cv -td -dx 90 -bn 192.168.104.0/24 -o
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sentinel import __version__, interrupt
from sentinel.errors import ConfigError, ExitStatus, SentinelError
from sentinel.report.escape import visible
from sentinel.values import given, positive_int

if TYPE_CHECKING:  # the library is imported when a command runs, so --help and --version stay instant
    from sentinel.report.charts import BackgroundCharts
    from sentinel.report.console import Progress
    from sentinel.report.model import Report
    from sentinel.report.writer import ReportFiles

EXIT_CODES = """exit status:
  0    success (alerts or not)
  1    internal error (a bug: rerun with --debug and report the traceback)
  2    usage error: unknown option or invalid value (CIDR, percentile, time zone, ...)
  3    input error: a data file missing, unreadable, of no known format, or lacking the needed columns
       (and, with --strict, malformed rows)
  4    GeoIP error: a database file missing, unreadable or of no known kind (or `geoip update` failed)
  5    output error: a report file exists already (see --force) or cannot be written
  10   --fail-on SEVERITY: the run succeeded (reports written) and raised an alert at or above SEVERITY
  130  interrupted (Ctrl-C)"""

SUBCOMMANDS = ("simulate", "demo", "import", "schema", "geoip")
SEVERITY_CHOICES = ("info", "low", "medium", "high", "critical")  # sentinel.report.model.SEVERITIES


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (and exit status 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see '{self.prog} --help')")


def max_threads() -> int:
    """Engine threads allowed: beyond a few per core they only cost memory and switching (and at tens of
    thousands exhaust the process's threads)."""
    return min(1024, 8 * (os.cpu_count() or 1))


def _threads(text: str) -> int:
    value = positive_int("--threads")(text)
    if value > max_threads():
        raise ConfigError(f"--threads: {value} is more than {max_threads()} (8 per core, at most 1024)")
    return value


def analysis_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="sentinel",
        description="Network-flow threat hunting: traffic per country and hour, possible exfiltration and "
        "internal botnets, from flow records (course-schema Parquet, Zeek conn logs, nfdump, Argus, CSV).",
        epilog="subcommands:\n  sentinel simulate OUT.parquet   write a simulated office day (see "
        "'sentinel simulate --help')\n  sentinel demo                   simulate a day with attacks and "
        "report on it\n  sentinel import INPUT... --to DIR  import flows once into a Parquet dataset, "
        "partitioned by day\n  sentinel schema                 print the JSON Schema of the --json "
        "report\n  sentinel geoip lookup|info|update  GeoIP/AS answers for addresses, the databases "
        "in use, download DB-IP Lite\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_options(p)
    add_database_options(p)
    from sentinel.registry import UNITS  # the units generate their own options
    from sentinel.unit_options import add_unit_options

    add_unit_options(p, UNITS)
    o = p.add_argument_group("output")
    o.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing on stdout (but the report that --json - or --alerts-jsonl - asks for)",
    )
    o.add_argument(
        "-o",
        "--outfileMd",
        action="store_true",
        help="write a Markdown report with PNG charts into --out-dir, under a new name (never overwrites)",
    )
    o.add_argument(
        "--out-dir",
        metavar="DIR",
        default=".",
        type=given("--out-dir"),
        help="where -o writes (default: current directory)",
    )
    o.add_argument(
        "--json",
        metavar="PATH",
        type=given("--json"),
        help="write the JSON report (schema v1) to PATH; '-' prints it on stdout instead of the tables",
    )
    o.add_argument(
        "--html",
        metavar="PATH",
        type=given("--html"),
        help="write the HTML report to PATH: one self-contained file (charts inside, no network needed) with "
        "sortable tables and a 'why' panel for each alert",
    )
    o.add_argument(
        "-p",
        "--pdf",
        metavar="PATH",
        type=given("--pdf"),
        help="write the HTML report printed to PDF (needs Chromium: apt-get install chromium)",
    )
    o.add_argument(
        "--alerts-jsonl",
        metavar="PATH",
        type=given("--alerts-jsonl"),
        help="write the alerts as JSON lines with Elastic Common Schema field names (one alert per line) for a "
        "SIEM; '-' prints them on stdout instead of the tables",
    )
    o.add_argument(
        "--csv-dir",
        metavar="DIR",
        type=given("--csv-dir"),
        help="create DIR and write every table into it as CSV (<table>.csv, alerts.csv); an existing DIR only "
        "with --force",
    )
    o.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        choices=SEVERITY_CHOICES,
        help="exit with status 10 when an alert at or above SEVERITY (info, low, medium, high, critical) was "
        "raised, reports written as usual: for cron jobs and CI pipelines",
    )
    o.add_argument(
        "--force",
        action="store_true",
        help="allow --json, --alerts-jsonl, --html and --pdf to replace an existing file, and --csv-dir to "
        "write into an existing directory",
    )
    s = p.add_argument_group("settings")
    s.add_argument(
        "--internal",
        metavar="CIDR[,CIDR...]",
        default="10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
        help="internal networks (default: RFC 1918 and IPv6 ULA: %(default)s)",
    )
    s.add_argument(
        "--tz",
        metavar="ZONE",
        default="UTC",
        help="time zone for hours of the day, an IANA name (default: %(default)s, the original's definition)",
    )
    s.add_argument(
        "--resolve",
        action="store_true",
        help="look up DNS names of alert addresses (off by default: "
        "a reverse lookup tells your resolver what you are investigating)",
    )
    s.add_argument(
        "--threads",
        metavar="N",
        type=_threads,
        help="engine threads, at most 8 per core and 1024 (default: all cores)",
    )
    s.add_argument(
        "--memory-limit",
        metavar="SIZE",
        type=given("--memory-limit"),
        help="engine memory before spilling to disk, e.g. 4GB (default: DuckDB's, 80%% of RAM)",
    )
    s.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="query engine: duckdb (embedded, default) or spark (pip install 'sentinel-analysis[spark]'; "
        "reads Parquet inputs and datasets)",
    )
    s.add_argument(
        "--spark-master",
        metavar="URL",
        type=given("--spark-master"),
        help="Spark master for --engine spark, e.g. spark://host:7077 or yarn (default: SPARK_REMOTE for "
        "Spark Connect if set, else local[*])",
    )
    s.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    s.add_argument("--version", action="version", version=f"sentinel {__version__}")
    return p


def add_database_options(p: argparse.ArgumentParser) -> None:
    """Which GeoIP/AS databases answer: shared by the analysis and `sentinel geoip`."""
    p.add_argument(
        "-gi",
        metavar="GeoIP.dat",
        help="legacy MaxMind country database (default: embedded offline country data)",
    )
    p.add_argument(
        "-gin",
        metavar="GeoIPASNum.dat",
        help="legacy MaxMind AS-number/organisation database (default: the embedded AS data)",
    )
    p.add_argument(
        "--geoip-db",
        metavar="PATH",
        action="append",
        default=[],
        type=given("--geoip-db"),
        help="a GeoIP/AS database: MaxMind DB .mmdb (GeoLite2, GeoIP2, DB-IP, ip-location-db: country, city, "
        "ASN), legacy .dat or CSV ranges (start,end,value), detected by content; repeatable. Named databases "
        "win over the embedded ones; among them the more specific network",
    )


def add_input_options(p: argparse.ArgumentParser, analysis: bool = True) -> None:
    """How to read the inputs: shared by the analysis (with --data and --from/--to) and `sentinel import`."""
    if analysis:
        p.add_argument(
            "--data",
            metavar="INPUT",
            nargs="+",
            action="extend",
            help="flow files, directories (read recursively) or globs to analyse, formats mixed (required)",
        )
    p.add_argument(
        "--format",
        metavar="NAME",
        help="read every input as this format instead of detecting it from the content (see README: Formats)",
    )
    p.add_argument(
        "--map",
        metavar="COL=NAME[,...]|FILE",
        help="column mapping for CSV/Parquet with other column names, e.g. src_ip=SrcAddr,dst_ip=DstAddr; "
        "or a file with one COL=NAME per line",
    )
    p.add_argument(
        "--time-unit",
        metavar="UNIT",
        choices=("s", "ms", "us", "ns", "cs-midnight", "iso"),
        help="unit of a mapped time column: s, ms, us, ns (since the epoch), cs-midnight (course hundredths), "
        "iso (text); default: guessed from the values",
    )
    p.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        type=given("--date"),
        help="the capture day of course-schema files: their timestamps count from its 00:00 UTC "
        "(default: unknown; times are shown relative to 00:00)",
    )
    if analysis:
        p.add_argument(
            "--from",
            dest="since",
            metavar="YYYY-MM-DD",
            help="only flows from this day on (UTC); a dataset's other day partitions are not read",
        )
        p.add_argument("--to", dest="until", metavar="YYYY-MM-DD", help="only flows up to this day, included (UTC)")
    p.add_argument("--strict", action="store_true", help="stop at malformed rows (exit 3) instead of counting them")


def input_settings(args: argparse.Namespace) -> dict[str, object]:
    """How to read the inputs, validated the same way for the analysis and `sentinel import`."""
    from sentinel.config import parse_date, parse_mapping
    from sentinel.sources.registry import check_format

    return {
        "format": check_format(args.format),
        "mapping": parse_mapping(args.map) if args.map is not None else {},
        "time_unit": args.time_unit,
        "strict": args.strict,
        "date": parse_date(args.date) if args.date is not None else None,
        "threads": args.threads,
        "memory_limit": args.memory_limit,
    }


def build_config(args: argparse.Namespace):
    from sentinel.config import Config, parse_date
    from sentinel.enrich import netclass
    from sentinel.registry import UNITS
    from sentinel.unit_options import selected_units
    from sentinel.units import check_params

    if not args.data:
        raise ConfigError("--data INPUT is required (see 'sentinel --help')")
    units = selected_units(args, UNITS)
    internal = netclass.parse_cidrs(args.internal, "--internal")
    config = Config(
        data=tuple(args.data),
        since=parse_date(args.since, "--from") if args.since is not None else None,
        until=parse_date(args.until, "--to") if args.until is not None else None,
        country_db=args.gi,
        org_db=args.gin,
        geoip_dbs=tuple(args.geoip_db),
        internal=internal,
        timezone=args.tz,
        units=units,
        resolve_dns=args.resolve,
        engine=args.engine,
        spark_master=args.spark_master,
        **input_settings(args),  # type: ignore[arg-type]
    )
    for key, params in units.items():
        check_params(UNITS[key], params, config)
    return config


def run_analysis(argv: Sequence[str]) -> int:
    args = analysis_parser().parse_args(argv)  # before the heavy imports: --help and --version stay instant
    if args.list_params:
        from sentinel.registry import UNITS
        from sentinel.unit_options import describe_units

        sys.stdout.write(describe_units(UNITS))
        return ExitStatus.OK
    from sentinel import pipeline
    from sentinel.enrich.rdns import RdnsCache, system_resolver
    from sentinel.registry import UNITS
    from sentinel.report import charts, console, writer

    config = build_config(args)
    if args.json == "-" and args.alerts_jsonl == "-":
        raise ConfigError("--json - and --alerts-jsonl -: only one of them can be printed on stdout")
    for option, target in (("--html", args.html), ("--pdf", args.pdf)):
        if target == "-":
            raise ConfigError(f"{option}: give a file name ('-', stdout, is for --json and --alerts-jsonl)")
    if args.pdf:
        from sentinel.report.pdf import require_chromium

        require_chromium("--pdf")  # before the analysis: a long run must not end in "no Chromium"
    started = dt.datetime.now(dt.UTC)
    # Report names are taken before the analysis: a long run does not end in a refusal to write, and
    # concurrent runs into one --out-dir never pick the same name.
    files = writer.ReportFiles(
        writer.stem_at(started),
        [key for unit in config.units for key in UNITS[unit].charts],
        out_dir=Path(args.out_dir) if args.outfileMd else None,
        force=args.force,
        targets={"json": args.json, "jsonl": args.alerts_jsonl, "html": args.html, "pdf": args.pdf},
        csv_dir=Path(args.csv_dir) if args.csv_dir else None,
    )
    formats = [f for f, wanted in (("png", args.outfileMd), ("svg", args.html or args.pdf)) if wanted]
    drawing = charts.BackgroundCharts(formats) if formats else None
    progress = console.Progress(enabled=not args.quiet)  # on stderr, on a terminal, for runs past 2 s
    try:
        report = pipeline.run(
            config,
            resolver=system_resolver(cache=RdnsCache.default()) if config.resolve_dns else None,
            now=lambda: started,
            on_section=drawing.submit if drawing else None,
            on_step=progress.step,
            on_alerts=drawing.submit_alerts if drawing else None,
        )
        progress.step("writing the reports")
        status = _render(args, report, drawing, files, progress)
        if not args.quiet:
            elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds()
            print(console.summary_line(report, elapsed), file=sys.stderr)
        return status
    except BaseException:
        files.abort()
        raise
    finally:
        progress.close()
        if drawing:
            drawing.close()


def _render(
    args: argparse.Namespace,
    report: Report,
    drawing: BackgroundCharts | None,
    files: ReportFiles,
    progress: Progress,
) -> int:
    from sentinel.report import console, ecs, json_report
    from sentinel.report.model import SEVERITIES

    to_stdout = {"-"} & {args.json, args.alerts_jsonl}  # stdout carries that report alone
    if not args.quiet and not to_stdout:
        text = console.render(report, width=console.width_for(sys.stdout), colour=console.wants_colour(sys.stdout))
        progress.close()  # the tables take the terminal from here
        with interrupt.raising():  # a reader that does not read (a stopped pager) must not make it hang
            sys.stdout.write(text)
            sys.stdout.flush()
    written = files.write(report, drawing)
    if to_stdout:
        text = json_report.render(report) if args.json == "-" else ecs.render(report)
        with interrupt.raising():
            sys.stdout.write(text)
            sys.stdout.flush()
    if not args.quiet:
        for path in written:
            print(f"wrote {visible(path)}", file=sys.stderr)
    if args.fail_on is not None:
        floor = SEVERITIES.index(args.fail_on)
        if any(SEVERITIES.index(a.severity) >= floor for a in report.alerts):
            return ExitStatus.ALERTS
    return ExitStatus.OK


def main(argv: Sequence[str] | None = None) -> int:
    """The `sentinel` command, its exit status returned (the process's entry is sentinel.entry)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        if argv and argv[0] in SUBCOMMANDS:
            from sentinel import cli_tools

            interrupt.uninstall()
            return int(cli_tools.run(argv[0], argv[1:]))
        restore = interrupt.install()
        try:
            return int(run_analysis(argv))
        finally:
            restore()
    except SentinelError as exc:
        if debug:
            traceback.print_exc()
        print(f"sentinel: error: {visible(exc)}", file=sys.stderr)  # it may quote a file name or data
        return int(exc.status)
    except KeyboardInterrupt:
        print("sentinel: interrupted", file=sys.stderr)
        return int(ExitStatus.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitStatus.OK)  # `sentinel ... | head` closed the pipe: not an error of ours
    except Exception as exc:  # the one boundary where an unexpected error becomes a message
        if debug:
            traceback.print_exc()
        print(
            f"sentinel: internal error: {type(exc).__name__}: {visible(exc)} (rerun with --debug for a traceback)",
            file=sys.stderr,
        )
        return int(ExitStatus.ERROR)

"""`sentinel simulate` and `sentinel demo`: a capture to run on, always at hand."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sentinel.errors import ConfigError, ExitStatus, OutputError
from sentinel.report.escape import visible

if TYPE_CHECKING:
    from sentinel.enrich.geodb import GeoStack


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    from sentinel.cli import _Parser
    from sentinel.values import positive_int

    p = _Parser(prog=prog, description=description)
    p.add_argument(
        "--hosts",
        type=positive_int("--hosts"),
        default=200,
        help="internal client workstations (default: %(default)s)",
    )
    p.add_argument(
        "--flows",
        type=positive_int("--flows"),
        default=1_000_000,
        help="flows in the day (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed; the same seed gives the same day (default: %(default)s)",
    )
    p.add_argument("--network", default="192.168.104.0/24", help="office network (default: %(default)s)")
    return p


def simulate_main(argv: Sequence[str]) -> int:
    from sentinel.simulate import SimulationConfig, simulate, write_simulation

    p = _parser(
        "sentinel simulate",
        "Write a simulated office day of flows (course-schema Parquet) and, "
        "beside it, OUT.labels.json with the ground truth.",
    )
    p.add_argument("out", metavar="OUT.parquet", help="file to write (not replaced unless --force)")
    p.add_argument(
        "--attacks",
        action="store_true",
        help="inject labelled attacks: bulk and low-and-slow exfiltration, a P2P group",
    )
    p.add_argument("--force", action="store_true", help="replace OUT and its labels if they exist")
    args = p.parse_args(argv)
    config = SimulationConfig(
        hosts=args.hosts, flows=args.flows, seed=args.seed, network=args.network, attacks=args.attacks
    )
    sim = simulate(config)
    data, labels = write_simulation(sim, Path(args.out), overwrite=args.force)
    print(f"wrote {visible(data)} ({sim.flows.num_rows:,} flows) and {visible(labels)}", file=sys.stderr)
    return ExitStatus.OK


def demo_main(argv: Sequence[str]) -> int:
    from sentinel import pipeline, quality
    from sentinel.cli import analysis_parser, build_config
    from sentinel.report import console, writer
    from sentinel.simulate import SimulationConfig, simulate, write_simulation

    p = _parser(
        "sentinel demo",
        "Simulate an office day with attacks into a fresh folder, run every "
        "analysis on it and write the reports there.",
    )
    p.add_argument(
        "--out-dir",
        metavar="DIR",
        help="folder to create (default: sentinel-demo-<time> in the current directory); must not exist yet",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on stdout")
    args = p.parse_args(argv)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    folder = Path(args.out_dir or f"sentinel-demo-{stamp}")
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        raise OutputError(f"{folder}: exists already; the demo writes into a new folder") from None
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create ({exc.strerror})") from exc
    sim = simulate(
        SimulationConfig(hosts=args.hosts, flows=args.flows, seed=args.seed, network=args.network, attacks=True)
    )
    data, labels = write_simulation(sim, folder / "office-day.parquet")
    # The office's own vulnerability scanner is a known one: allow-listed, as a site would (README: scan).
    known = [b["allow"] for b in sim.labels["benign"] if b["kind"] == "vulnerability_scanner"]
    allow = ["--set", f"scan.allow={','.join(known)}"] if known else []
    # So are the admin hosts the labels declare (the backup host pulling from every client, the scanner's
    # authenticated sessions): `lateral.admin_hosts` (README: lateral).
    for key, declared in quality.allow_lists(sim.labels).items():
        allow += [f"--set={key}.{param}={','.join(ips)}" for param, ips in declared.items()]
    config = build_config(analysis_parser().parse_args(["--data", str(data), "--all", *allow]))
    report = pipeline.run(config)
    if not args.quiet:
        sys.stdout.write(
            console.render(report, width=console.width_for(sys.stdout), colour=console.wants_colour(sys.stdout))
        )
        print("\nground truth (what the simulator injected):")
        width = max(len(attack["kind"]) for attack in sim.labels["attacks"])
        for attack in sim.labels["attacks"]:
            print(f"  {attack['kind']:{width}s}  {', '.join(attack['hosts'])}")
        if known:
            print(f"  (the office's vulnerability scanner {', '.join(known)} is allow-listed: --set scan.allow=...)")
            print("  (its backup host and scanner are declared admin hosts: --set lateral.admin_hosts=...)")
    md = writer.write_markdown(report, folder)
    page = writer.write_file(report, "html", str(folder / "report.html"), force=False)
    js = writer.write_json(report, str(folder / "report.json"), force=False)
    assert js is not None and page is not None  # file targets ("-" alone means stdout)
    print(
        f"\ndemo written to {visible(folder)}/: {data.name}, {labels.name}, {md.name} (+ charts), {page.name}, "
        f"{js.name}",
        file=sys.stderr,
    )
    return ExitStatus.OK


def import_main(argv: Sequence[str]) -> int:
    from sentinel.cli import _Parser, _threads, add_input_options, input_settings
    from sentinel.config import Config
    from sentinel.importer import import_flows
    from sentinel.values import given

    p = _Parser(
        prog="sentinel import",
        description="Read flow files once (any format, many files and days) into a canonical Parquet dataset "
        "partitioned by day, for fast repeated runs: sentinel --data DATASET/ ...",
    )
    p.add_argument("inputs", metavar="INPUT", nargs="+", help="flow files, directories or globs")
    p.add_argument("--to", dest="target", metavar="DATASET", required=True, help="dataset directory to write")
    add_input_options(p, analysis=False)
    p.add_argument("--append", action="store_true", help="add to an existing dataset")
    p.add_argument("--force", action="store_true", help="replace an existing dataset (once the new one is complete)")
    p.add_argument("--threads", metavar="N", type=_threads, help="engine threads, at most 8 per core and 1024")
    p.add_argument(
        "--memory-limit",
        metavar="SIZE",
        type=given("--memory-limit"),
        help="engine memory before spilling to disk (default: 4GB; sorting by time spills)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    args = p.parse_args(argv)
    if args.append and args.force:
        raise ConfigError("--append and --force exclude each other")
    if args.target == "":
        raise ConfigError("--to: empty; give the dataset directory")
    config = Config(data=tuple(args.inputs), **input_settings(args))  # type: ignore[arg-type]
    mode = "append" if args.append else "replace" if args.force else "new"
    result = import_flows(config, Path(args.target), mode)
    if not args.quiet:
        rejected = f", {result.rejected_rows:,} malformed rows set aside" if result.rejected_rows else ""
        days = f"{result.days[0]} .. {result.days[-1]}" if result.days else "no day"
        print(
            f"imported {result.flows:,} of {result.rows:,} rows{rejected} into {visible(str(result.dataset))}/ "
            f"({len(result.days)} day(s): {days}; {result.files} file(s)); "
            f"accounting: {visible(str(result.accounting))}",
            file=sys.stderr,
        )
    return ExitStatus.OK


def _stack(args: argparse.Namespace) -> GeoStack:
    from sentinel.enrich.databases import open_stack

    return open_stack(args.gi, args.gin, tuple(args.geoip_db))


def geoip_lookup_main(argv: Sequence[str]) -> int:
    import ipaddress

    import numpy as np

    from sentinel.cli import add_database_options
    from sentinel.enrich import netclass
    from sentinel.enrich.geodb import as_org_text

    p = _Parser_("sentinel geoip lookup", "Country, AS and address class of addresses, and which database answered.")
    p.add_argument("ips", metavar="IP", nargs="+", help="IPv4 or IPv6 addresses")
    p.add_argument(
        "--internal",
        metavar="CIDR[,CIDR...]",
        default=",".join(netclass.DEFAULT_INTERNAL),
        help="internal networks, as in an analysis (default: %(default)s)",
    )
    add_database_options(p)
    p.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    args = p.parse_args(argv)
    addresses = []
    for text in args.ips:
        try:
            addresses.append(ipaddress.ip_address(text.strip()))
        except ValueError:
            raise ConfigError(f"geoip lookup: {text!r} is not an IPv4 or IPv6 address") from None
    internal = netclass.parse_cidrs(args.internal, "--internal")
    stack = _stack(args)
    version = np.array([a.version for a in addresses], dtype=np.int8)
    ipv4 = np.array([int(a) if a.version == 4 else 0 for a in addresses], dtype=np.uint32)
    hi = np.array([int(a) >> 64 if a.version == 6 else 0 for a in addresses], dtype=np.uint64)
    lo = np.array([int(a) & (2**64 - 1) if a.version == 6 else 0 for a in addresses], dtype=np.uint64)
    for i, a in enumerate(addresses):  # IPv4-mapped and NAT64: the IPv4 address inside answers
        if a.version == 6 and (a.ipv4_mapped or a in ipaddress.ip_network("64:ff9b::/96")):
            version[i], ipv4[i] = 4, int(a) & 0xFFFF_FFFF
    chosen = stack.lookup(version, ipv4, hi, lo, [str(a) for a in addresses])
    names = [db.info.name for db in stack.databases]
    for i, a in enumerate(addresses):
        answers = chosen.answers
        row = {
            "ip": args.ips[i].strip(),
            "class": netclass.address_class_one(a, internal),
            "country": answers.country[i],
            "city": answers.city[i],
            "asn": answers.asn[i],
            "as_org": as_org_text(answers.asn[i], answers.as_name[i]),
            "country_from": _source(names, chosen.source["country"][i]),
            "as_from": _source(names, chosen.source["asn"][i]),
        }
        if args.json:
            import json

            print(json.dumps(row, ensure_ascii=False))
            continue
        where = ", ".join(str(v) for v in (row["country"], row["city"]) if v) or "-"
        print(f"{visible(row['ip'])}  {row['class']}")
        print(
            f"  country  {visible(where)}" + (f"  (from {visible(row['country_from'])})" if row["country_from"] else "")
        )
        print(
            f"  AS       {visible(row['as_org'] or '-')}"
            + (f"  (from {visible(row['as_from'])})" if row["as_from"] else "")
        )
    return ExitStatus.OK


def _source(names: list[str], index: int) -> str | None:
    return names[int(index)] if index >= 0 else None


def geoip_info_main(argv: Sequence[str]) -> int:
    from sentinel.cli import add_database_options
    from sentinel.enrich.databases import geoip_cache

    p = _Parser_("sentinel geoip info", "The GeoIP and AS databases a run would use: kinds, dates and licences.")
    add_database_options(p)
    args = p.parse_args(argv)
    stack = _stack(args)
    print(f"country: {visible(stack.describe('country'))}")
    print(f"AS:      {visible(stack.describe('asn'))}")
    for info in stack.infos:
        used = [f for f in info.provides if info in stack.used_for(f)]
        print()
        print(visible(info.name))
        print(f"  kind      {visible(info.kind)}{' (named)' if info.explicit else ''}")
        print(f"  provides  {', '.join(info.provides)}" + ("" if used else " (not used: a named database answers)"))
        if info.description:
            print(f"  about     {visible(info.description)}")
        print(f"  data of   {visible(info.date or 'unknown')}")
        print(f"  licence   {visible(info.licence or 'unknown: see where the file came from')}")
    cache = geoip_cache()
    print(f"\ncache: {visible(cache)} ('sentinel geoip update' downloads DB-IP Lite there; later runs use it)")
    return ExitStatus.OK


def geoip_update_main(argv: Sequence[str]) -> int:
    from sentinel.enrich import update

    p = _Parser_(
        "sentinel geoip update",
        "Download the free monthly DB-IP Lite country and ASN databases (CC BY 4.0, IP Geolocation by DB-IP, "
        "https://db-ip.com) into the user cache; later runs use them automatically.",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only errors")
    args = p.parse_args(argv)
    bar = None if args.quiet else update.Bar(sys.stderr)
    try:
        done = update.update(progress=bar)
    finally:
        if bar:
            bar.close()
    if not args.quiet:
        for u in done:
            print(
                f"installed {visible(u.path)} ({u.bytes / 1e6:.1f} MB, data of {u.date}) from {visible(u.url)}",
                file=sys.stderr,
            )
    return ExitStatus.OK


def geoip_main(argv: Sequence[str]) -> int:
    commands = {"lookup": geoip_lookup_main, "info": geoip_info_main, "update": geoip_update_main}
    if not argv or argv[0] not in commands:
        if argv and argv[0] in ("-h", "--help"):
            print("usage: sentinel geoip {lookup IP...|info|update} [options]; see 'sentinel geoip lookup --help'")
            return ExitStatus.OK
        raise ConfigError("geoip: give a command: lookup IP..., info or update (see 'sentinel geoip --help')")
    return commands[argv[0]](argv[1:])


def _Parser_(prog: str, description: str) -> argparse.ArgumentParser:
    from sentinel.cli import _Parser

    return _Parser(prog=prog, description=description)


def run(command: str, argv: Sequence[str]) -> int:
    commands = {
        "simulate": simulate_main,
        "demo": demo_main,
        "import": import_main,
        "schema": schema_main,
        "geoip": geoip_main,
    }
    return commands[command](argv)


def schema_main(argv: Sequence[str]) -> int:
    from sentinel.cli import _Parser
    from sentinel.report import json_report

    p = _Parser(
        prog="sentinel schema",
        description="Print the JSON Schema (draft 2020-12) of the JSON report that --json writes (schema v1).",
    )
    p.parse_args(argv)
    sys.stdout.write(json_report.schema_text())
    return ExitStatus.OK

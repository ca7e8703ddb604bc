"""`sentinel simulate` and `sentinel demo`: a capture to run on, always at hand."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from sentinel.errors import ConfigError, ExitStatus, OutputError
from sentinel.report.escape import visible


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    from sentinel.cli import _Parser, _positive_int

    p = _Parser(prog=prog, description=description)
    p.add_argument(
        "--hosts",
        type=_positive_int("--hosts"),
        default=200,
        help="internal client workstations (default: %(default)s)",
    )
    p.add_argument(
        "--flows",
        type=_positive_int("--flows"),
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
    from sentinel.cli import _given, _Parser, _threads, add_input_options, input_settings
    from sentinel.config import Config
    from sentinel.importer import import_flows

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
        type=_given("--memory-limit"),
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


def run(command: str, argv: Sequence[str]) -> int:
    commands = {"simulate": simulate_main, "demo": demo_main, "import": import_main, "schema": schema_main}
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

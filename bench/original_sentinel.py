"""The 2023 course version of Sentinel, re-implemented the way its report's code did it: a benchmark reference.

    python bench/original_sentinel.py --data day.parquet -gi GeoIP.dat -gin GeoIPASNum.dat \\
        -cv -td -dx 90 -bn 192.168.104.0/24 [-o] [-q] [--out-dir DIR]

Written from the "Code" blocks of the course report (June 2023, University of Aveiro): pandas ``read_parquet``,
legacy GeoIP databases opened with ``pygeoip.GeoIP(path)`` (default, file-reading mode), the destination country
looked up per row with ``.apply``, hours with ``pd.to_datetime``, the download/upload ratio cut with
``head(int(len * (1 - P/100)))``, the botnet filter parsing every address with ``ipaddress`` per row, then a
groupby with ``list`` aggregation and a frequency per destination. Like the original's report step, every alerted
address gets a country and an organisation lookup. The ``..`` parts of the report (charts, report file) are filled
in plainly.

It exists only so bench/bench_speed.py can time the original's approach as a whole process; Sentinel neither
imports nor uses it, and it keeps the original's quirks (it mutates the one DataFrame it loaded, ratio of download
over upload, frequency in flows per timestamp tick) because those are what is being measured.
"""

from __future__ import annotations

import argparse
import ipaddress
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the charts only go to PNG files

import matplotlib.pyplot as plt
import pandas as pd
import pygeoip


class OriginalSentinel:
    """The original's module-level globals (data, gi, gin, quiet, alerts) gathered in one object."""

    def __init__(self, data_path: str, gi_path: str, gin_path: str, quiet: bool, out_dir: Path) -> None:
        self.data = pd.read_parquet(data_path)
        self.gi = pygeoip.GeoIP(gi_path)
        self.gin = pygeoip.GeoIP(gin_path)
        self.quiet = quiet
        self.out_dir = out_dir
        self.charts: list[tuple[str, str, str]] = []  # (title, text, PNG file name) for the Markdown report
        self.alerts: list[dict[str, object]] = []

    def printq(self, *values: object) -> None:
        if not self.quiet:
            print(*values)

    def save(self, fig: plt.Figure, name: str) -> str:
        filename = f"{name}.png"
        fig.savefig(fname=self.out_dir / filename)
        plt.close(fig)
        return filename

    def country_volume(self) -> None:
        self.printq(
            "[!] Calculate the country of origin of the destination IPs and the connection volume for each country."
            " Generating a PNG with the bar graph.\n"
        )
        gi = self.gi
        # As in the report: the new column is added to the one loaded DataFrame, one GeoIP lookup per flow.
        countries = self.data
        countries["country"] = countries["dst_ip"].apply(lambda ip: gi.country_code_by_addr(ip))
        volume = countries.groupby(["country"]).agg({"dst_ip": ["count"], "down_bytes": ["sum"]})
        volume = volume.sort_values(("dst_ip", "count"), ascending=False)

        fig, ax = plt.subplots(figsize=(10, 6))
        ax.bar(volume.index.astype(str), volume[("dst_ip", "count")].values)
        ax.set_xlabel("Country")
        ax.set_ylabel("Number of connections")
        ax.set_title("Connections per country of destination")
        ax.tick_params(axis="x", labelrotation=90)
        png = self.save(fig, "connectionsxcountry")
        self.charts.append(
            (
                "Connection volume by country",
                "The correlation between connection volume and country of destination can be viewed in the "
                "graphic bellow.",
                png,
            )
        )
        self.printq(volume)

    def traffic_distribution(self) -> None:
        self.printq("[!] Distribution of connection volume during the day.\n")
        traffic = self.data
        traffic["hour"] = pd.to_datetime(traffic["timestamp"] / 100.0, unit="s").dt.hour
        hourly = traffic["hour"].value_counts().sort_index()
        fig, ax = plt.subplots(figsize=(10, 6))
        ax.bar(hourly.index, hourly.values)
        ax.set_xlabel("Hours")
        ax.set_ylabel("Number of connections")
        ax.set_title("Connections per hour during a day")
        ax.set_xticks(range(24))
        png = self.save(fig, "connectionsxhour")
        self.charts.append(
            ("Connection volume per hour", "This graph illustrates the number of connection per hour during a day", png)
        )
        self.printq(hourly)

    def data_exfiltration(self, percentage: int) -> None:
        self.printq(f"[!] IPs above the {percentage} percentile of the downloads over uploads in this session.\n")
        share = 1 - (percentage / 100)
        ratios = self.data.groupby(["src_ip"], as_index=False)[["down_bytes", "up_bytes"]].sum()
        ratios["ratio"] = ratios["down_bytes"] / ratios["up_bytes"]
        ratios = ratios.sort_values(["ratio"], ascending=False)
        outliers = ratios.head(int(len(ratios) * share))
        self.printq(outliers)
        for row in outliers.itertuples(index=False):
            self.alerts.append(
                {
                    "kind": "exfiltration",
                    "ip": row.src_ip,
                    "percentile": percentage,
                    "down_bytes": row.down_bytes,
                    "up_bytes": row.up_bytes,
                }
            )

    def botnet(self, subnet_text: str) -> None:
        self.printq(
            "[!] Flows between internal host to common destinations in the same subnet "
            f"({subnet_text}), may indicate the existence of a internal botnet.\n"
        )
        subnet = ipaddress.IPv4Network(subnet_text)
        data = self.data
        same_subnet = data
        same_subnet["src_ip"] = same_subnet["src_ip"].astype(str)
        # The original's filter: every source and every destination parsed by ipaddress, one row at a time.
        same_subnet = same_subnet.loc[
            (data["src_ip"].apply(lambda x: ipaddress.IPv4Address(x) in subnet))
            & (data["dst_ip"].apply(lambda x: ipaddress.IPv4Address(x) in subnet))
        ]
        same_subnet = same_subnet.groupby(["dst_ip"], as_index=False).agg({"src_ip": list, "timestamp": list})

        def frequency(comms: list[str], period: list[int]) -> float:
            # numpy int64 elements: one flow divides by zero into inf (with a warning) rather than raising.
            return len(comms) / (period[-1] - period[0])

        same_subnet["frequency"] = same_subnet.apply(lambda x: frequency(x.src_ip, x.timestamp), axis=1)
        same_subnet = same_subnet.drop(["timestamp"], axis=1)
        same_subnet["src_ip"] = same_subnet["src_ip"].apply(lambda x: list(set(x)))
        same_subnet = same_subnet.sort_values(["frequency"], ascending=False)
        self.printq(same_subnet)
        for row in same_subnet.itertuples(index=False):
            self.alerts.append(
                {
                    "kind": "botnet",
                    "ip": row.dst_ip,
                    "subnet": subnet_text,
                    "frequency": row.frequency,
                    "peers": len(row.src_ip),
                }
            )

    def lookup_alerts(self) -> None:
        """The report step's per-alert lookups: country (gi) and organisation (gin) of each alerted address."""
        for alert in self.alerts:
            ip = str(alert["ip"])
            alert["origin"] = self.gi.country_code_by_addr(ip) or "Unknown"
            alert["name"] = self.gin.org_by_addr(ip) or "Unknown"

    def write_markdown(self) -> Path:
        lines = [
            "# Sentinel traffic report",
            "",
            f"This report was automatically generated at **{datetime.now()}** by the **Sentinel** service.",
            "",
        ]
        for title, text, png in self.charts:
            lines += [f"## {title}", "", text, "", f"![{title}]({png})", ""]
        lines += ["## Alerts Detected", ""]
        for number, alert in enumerate(self.alerts):
            lines += [
                f"### Alert - nº {number}",
                "",
                f"Traffic generated by a possible **{alert['kind']}**.",
                "",
                "#### Details",
                "",
                "| IP Address | Origin | DNS name |",
                "|---|---|---|",
                f"| {alert['ip']} | {alert['origin']} | {alert['name']} |",
                "",
            ]
            if alert["kind"] == "exfiltration":
                lines += [
                    "Flow shows a ratio of downloaded bytes over uploaded bytes above the "
                    f"**{alert['percentile']} percentile** for downloads over uploads in this session.",
                    "",
                    "| Downloaded bytes | Uploaded bytes |",
                    "|---|---|",
                    f"| {alert['down_bytes']} | {alert['up_bytes']} |",
                    "",
                ]
            else:
                lines += [
                    "Flows between internal host to common destinations in the same subnet, may indicate the "
                    "existence of a internal botnet.",
                    "",
                    "| Subnet | Rate of communications (per second) | Number of peers in the network |",
                    "|---|---|---|",
                    f"| {alert['subnet']} | {float(alert['frequency']):.4f} | {alert['peers']} |",
                    "",
                ]
        path = self.out_dir / f"sentinel-report-{datetime.now():%Y%m%d-%H%M%S}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        return path


def main() -> None:
    parser = argparse.ArgumentParser(description="Traffic analysis tool (the 2023 course version, for benchmarks).")
    parser.add_argument("--data", required=True, help="Path to datafile to analyze")
    parser.add_argument("-gi", required=True, help="Geolocation IP database")
    parser.add_argument("-gin", required=True, help="Geolocation IP database with nameserver")
    parser.add_argument(
        "-dx",
        "--dataExfiltration",
        type=int,
        help="Threshold percentage for outliers in upload/download byte amount. Example '-dx 90' will return the "
        "top 10%%",
    )
    parser.add_argument(
        "-bn", "--botnet", help="Detecting possible botnet communication in specified networks (e.g. 192.168.1.0/24)"
    )
    parser.add_argument(
        "-cv", "--countryVolume", action="store_true", help="Measures the connection volume per country"
    )
    parser.add_argument(
        "-td", "--trafficDistribution", action="store_true", help="Hourly distribution of the volume of connections"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="Suppress stdout")
    parser.add_argument("-o", "--outfileMd", action="store_true", help="Export to markdown file")
    parser.add_argument("--out-dir", default=".", help="where the PNG charts and the Markdown file go")
    args = parser.parse_args()

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sentinel = OriginalSentinel(args.data, args.gi, args.gin, args.quiet, out_dir)
    if args.countryVolume:
        sentinel.country_volume()
    if args.trafficDistribution:
        sentinel.traffic_distribution()
    if args.dataExfiltration is not None:
        sentinel.data_exfiltration(args.dataExfiltration)
    if args.botnet:
        sentinel.botnet(args.botnet)
    sentinel.lookup_alerts()
    if args.outfileMd:
        sentinel.write_markdown()


if __name__ == "__main__":
    main()

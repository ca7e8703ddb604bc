"""A report whose every data-derived string carries terminal and bidi control characters."""

from sentinel.report.evidence import BotnetEvidence, ExfiltrationEvidence, UploadTimeline
from sentinel.report.model import Alert, Column, HostInfo, InputSummary, Report, Section, Table
from sentinel.timefmt import Instant

# ESC sequence (red), BEL, NUL, DEL, a C1 CSI, a right-to-left override and a newline, as a hostile
# capture file, GeoIP database or DNS answer could put them in a protocol, AS or host name.
HOSTILE = "ok\x1b[31mred\x07bell\x00nul\x7fdel\x9bcsi\u202eevil\nnext\u2066iso"
CONTROLS = ("\x1b", "\x07", "\x00", "\x7f", "\x9b", "\u202e", "\u2066")


def exfiltration_evidence(text: str, **figures: object) -> ExfiltrationEvidence:
    """An exfiltration's evidence whose record (a destination's AS name) and chart (its destination) say `text`."""
    values: dict = dict(
        transfer_out_bytes=10**9,
        alert_threshold_bytes=10**6,
        transfers=[{"dst_ip": "8.8.8.8", "flows": 2, "up_bytes": 10**9, "down_bytes": 0, "as_org": text}],
        host_up_bytes=10**9,
        host_down_bytes=10**6,
        host_ratio_up_down=1000.0,
        peer_median_ratio=0.1,
        excess_up_bytes=10**9,
        ratio_robust_z=9.0,
        external_flows=2,
        percentile=90.0,
        quiet_hours_share=None,
        timeline=UploadTimeline(
            hours=[0, 1], width=1, up_bytes=[10**9, 0], down_bytes=[0, 10**6], destinations=[text], relative=True
        ),
    )
    return ExfiltrationEvidence(**(values | figures))


def botnet_evidence(members: list[str], edges: list[tuple[str, str, int]], **figures: object) -> BotnetEvidence:
    """A P2P finding's evidence among `members` with graph `edges` (a, b, flows); its flows and connected pairs
    follow from the edges, the other figures are small defaults unless given."""
    values: dict = dict(
        ports=["tcp/6881"],
        flows=sum(flows for _, _, flows in edges),
        up_bytes=1,
        down_bytes=1,
        connected_pairs=len(edges),
        density=1.0,
        reciprocity=0.0,
        rate_per_second=None,
    )
    return BotnetEvidence(members=members, edges=edges, **(values | figures))


def hostile_report() -> Report:
    report = Report(
        version="t",
        generated_at="2026-01-01T00:00:00Z",
        input=InputSummary([f"/data/{HOSTILE}.parquet"], HOSTILE, 1, 1, 0, {}, Instant(0, True), Instant(0, True)),
        enrichment={"country": HOSTILE, "as_org": "a", "dns": "d"},
        settings={"internal": ["10.0.0.0/8"]},
        notes=[f"Columns not used: {HOSTILE}."],
    )
    columns = [Column("proto", "proto"), Column("as_org", "AS organisation"), Column("flows", "flows", "int")]
    rows = [{"proto": HOSTILE, "as_org": HOSTILE, "flows": 3}]
    report.sections.append(Section("s", "Section", "desc", tables=[Table("t", HOSTILE, columns, rows)]))
    report.alerts.append(
        Alert(
            "exfiltration",
            "high",
            0.9,
            ["10.0.0.1"],
            HOSTILE,
            dst_ip="8.8.8.8",
            id=1,
            evidence=exfiltration_evidence(HOSTILE),
        )
    )
    report.hosts = {
        "10.0.0.1": HostInfo("10.0.0.1", "internal", None, None, HOSTILE),
        "8.8.8.8": HostInfo("8.8.8.8", "public", "US", HOSTILE, None),
    }
    return report

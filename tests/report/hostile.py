"""A report whose every data-derived string carries terminal and bidi control characters."""

from sentinel.report.model import Alert, Column, HostInfo, InputSummary, Report, Section, Table
from sentinel.timefmt import Instant

# ESC sequence (red), BEL, NUL, DEL, a C1 CSI, a right-to-left override and a newline, as a hostile
# capture file, GeoIP database or DNS answer could put them in a protocol, AS or host name.
HOSTILE = "ok\x1b[31mred\x07bell\x00nul\x7fdel\x9bcsi\u202eevil\nnext\u2066iso"
CONTROLS = ("\x1b", "\x07", "\x00", "\x7f", "\x9b", "\u202e", "\u2066")


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
        Alert("exfiltration", "high", 0.9, ["10.0.0.1"], HOSTILE, dst_ip="8.8.8.8", id=1, evidence={"n": HOSTILE})
    )
    report.hosts = {
        "10.0.0.1": HostInfo("10.0.0.1", "internal", None, None, HOSTILE),
        "8.8.8.8": HostInfo("8.8.8.8", "public", "US", HOSTILE, None),
    }
    return report

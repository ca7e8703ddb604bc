"""The HTML report: self-contained, every data string inert (parsed back to prove it), deterministic."""

import base64
import re
from html.parser import HTMLParser

from sentinel.report import html
from sentinel.report.model import Alert, Chart, Column, HostInfo, InputSummary, Report, Section, Series, Table
from sentinel.timefmt import Instant
from tests.report.hostile import CONTROLS, HOSTILE, botnet_evidence, exfiltration_evidence

IMG = "<img src=x onerror=alert(1)>"
MARKUP_DNS = '<script>alert("dns")</script><b onclick="x()">evil.example</b>'
ANSI_PROTO = "\x1b[31mtcp\x1b[0m\x07"


class Elements(HTMLParser):
    """Every start tag and its attributes, and the text, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def hostile_report() -> Report:
    """A report whose file name, DNS name, protocol, AS name and chart labels are hostile."""
    source = f"/cases/{IMG}.parquet"
    report = Report(
        version="t",
        generated_at="2026-01-01T00:00:00Z",
        input=InputSummary([source], HOSTILE, 3, 3, 0, {}, Instant(0, True), Instant(10**6, True)),
        enrichment={"country": IMG, "as_org": "a", "dns": "d"},
        settings={"internal": ["10.0.0.0/8"]},
        notes=[f"Columns not used: {IMG}."],
    )
    columns = [Column("proto", "proto"), Column("as_org", "AS organisation"), Column("flows", "flows", "int")]
    rows = [{"proto": ANSI_PROTO, "as_org": IMG, "flows": 3}, {"proto": HOSTILE, "as_org": MARKUP_DNS, "flows": 1}]
    chart = Chart("c", IMG, [IMG, MARKUP_DNS], [1, 2], "x " + IMG, "flows", series=[Series(IMG, [3, 4], "bytes")])
    report.sections.append(
        Section("s", f"Section {IMG}", MARKUP_DNS, tables=[Table("t", IMG, columns, rows)], charts=[chart])
    )
    report.alerts.append(
        Alert(
            "exfiltration",
            "high",
            0.9,
            ["10.0.0.1"],
            f"sent to {MARKUP_DNS}",
            dst_ip="8.8.8.8",
            proto=ANSI_PROTO,
            port=443,
            id=1,
            evidence=exfiltration_evidence(IMG, transfers=[{"dst_ip": MARKUP_DNS, "flows": 2}]),
        )
    )
    # a graph whose node is hostile
    graph = botnet_evidence(["10.0.0.1", MARKUP_DNS], [("10.0.0.1", MARKUP_DNS, 1)], ports=[ANSI_PROTO], density=0.5)
    report.alerts.append(Alert("botnet", "high", 0.8, ["10.0.0.1"], "peers", id=2, evidence=graph))
    report.hosts = {
        "10.0.0.1": HostInfo("10.0.0.1", "internal", None, None, MARKUP_DNS),
        "8.8.8.8": HostInfo("8.8.8.8", "public", "US", IMG, HOSTILE),
    }
    return report


def test_no_data_string_becomes_markup():
    page = html.render(hostile_report())
    parsed = parse(page)
    tags = {tag for tag, _ in parsed.tags}
    assert "b" not in tags  # the DNS answer's <b> is text
    assert [a for _, a in parsed.tags if any(k.startswith("on") for k in a)] == []  # no event handler anywhere
    scripts = [t for t in parsed.tags if t[0] == "script"]
    assert len(scripts) == 1 and scripts[0][1] == {}  # our one inline script, nothing injected
    images = [a for tag, a in parsed.tags if tag == "img"]
    assert images and all(a["src"].startswith("data:image/svg+xml;base64,") for a in images)  # charts only
    text = "".join(parsed.text)
    assert IMG in text and "evil.example" in text  # shown, literally, as text
    assert not any(c in page for c in CONTROLS)  # controls as escapes, as on the console
    assert "\\x1b[31mtcp\\x1b[0m\\x07" in text


def test_charts_hold_no_markup_either():
    page = html.render(hostile_report())
    for uri in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page):
        svg = base64.b64decode(uri).decode()
        tags = {tag for tag, _ in parse(svg).tags}
        assert "script" not in tags and "img" not in tags and "b" not in tags and "foreignobject" not in tags


def test_self_contained_and_locked_down():
    page = html.render(hostile_report())
    parsed = parse(page)
    for tag, attrs in parsed.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith(("data:", "#")), (tag, name, value)  # nothing to fetch
    [csp] = [a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "unsafe-inline" not in csp.split(";")[3]


def test_same_report_same_page_and_why_panels():
    a, b = html.render(hostile_report()), html.render(hostile_report())
    assert a == b
    assert 'id="alert-1"' in a and "<h4>Why</h4>" in a and 'href="#alert-1"' in a


def test_a_hostile_file_name_through_a_whole_run(tmp_path):
    """A capture named like markup, with ANSI escapes in a protocol: the run's HTML shows both as text."""
    from sentinel import cli
    from tests.flows import flow, write_flows

    rows = [flow(i, "192.168.1.2", "8.8.8.8", proto=ANSI_PROTO if i == 0 else "tcp") for i in range(3)]
    data = write_flows(tmp_path / f"{IMG}.parquet", rows)
    page_path = tmp_path / "r.html"
    assert cli.main(["--data", str(data), "--all", "-q", "--html", str(page_path)]) == 0
    page = page_path.read_text()
    parsed = parse(page)
    assert [t for t, a in parsed.tags if t == "img" and not a["src"].startswith("data:")] == []
    assert [a for _, a in parsed.tags if any(k.startswith("on") for k in a)] == []
    assert f"{IMG}.parquet" in "".join(parsed.text) and "\x1b" not in page


def test_a_table_cut_by_its_limit_says_so_under_it():
    from tests.report.cut import CUT_LINE, cut_report

    page = html.render(cut_report())
    assert "limited024" in page and "limited025" not in page
    assert f'</table></div><p class="note">{CUT_LINE}</p><p class="note">Read me.</p>' in page.replace("\n", "")
    assert "long029" in page and "short004" in page  # no limit: every row, and no line
    assert page.count("rows shown") == 1

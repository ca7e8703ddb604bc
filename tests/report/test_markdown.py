from sentinel.report import markdown
from sentinel.report.escape import md_para, md_text
from sentinel.report.model import Alert, Column, HostInfo, InputSummary, Report, Section, Table
from sentinel.timefmt import Instant
from tests.report.hostile import exfiltration_evidence

HOSTILE = "<img src=x onerror=alert(1)> | **bold** [link](http://evil) `code` _x_"


def _report() -> Report:
    report = Report(
        version="t",
        generated_at="2026-01-01T00:00:00Z",
        input=InputSummary([f"/data/{HOSTILE}.parquet"], "parquet", 1, 1, 0, {}, Instant(0, True), Instant(0, True)),
        enrichment={"country": "c", "as_org": "a", "dns": "d"},
        settings={"internal": ["10.0.0.0/8"]},
    )
    report.sections.append(
        Section("s", "Section", "desc", tables=[Table("t", "T", [Column("name", "name")], [{"name": HOSTILE}])])
    )
    report.alerts.append(
        Alert(
            "exfiltration",
            "high",
            0.9,
            ["10.0.0.1"],
            f"# {HOSTILE}",
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


def test_data_never_becomes_markup():
    text = markdown.render(_report(), {})
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "[link](http://evil)" not in text and "\\[link\\]" in text
    assert "**bold**" not in text
    assert "\n# &lt;img" not in text and "\\# &lt;img" in text  # a summary cannot open a heading
    for line in text.splitlines():
        if line.startswith("|") and "onerror" in line:
            assert line.count(" | ") == line.count("|") - 2 - line.count("\\|")  # no injected columns


def test_escape_helpers():
    assert md_text("a|b\nc") == "a\\|b c"
    assert md_para("1. item") == "1\\. item" and md_para("- x") == "\\- x" and md_para("192.168.1.1") == "192.168.1.1"


def test_report_has_the_parts_users_expect():
    text = markdown.render(_report(), {"s": "chart.png"})
    for heading in (
        "# Sentinel traffic report",
        "## Inputs",
        "## Summary",
        "## Section",
        "## Alerts",
        "### Alert 1: exfiltration (high, score 0.90)",
    ):
        assert heading in text
    assert "2026\\-01" not in text and "2026-01-01T00:00:00Z" in text


def test_control_characters_never_reach_the_document():
    from tests.report.hostile import CONTROLS, hostile_report

    text = markdown.render(hostile_report(), {})
    assert not any(c in text for c in CONTROLS)
    assert "\\\\x1b\\[31mred\\\\x07bell" in text and "\\\\u202eevil next" in text


def test_a_table_cut_by_its_limit_says_so_under_it():
    from tests.report.cut import CUT_LINE, cut_report

    text = markdown.render(cut_report(), {})
    assert "| limited024 |" in text and "limited025" not in text
    assert f"\n*{CUT_LINE}*\n\n*Read me.*\n" in text  # the count first, then the table's own note
    assert "| long029 |" in text and "short004" in text  # no limit: every row, and no line
    assert text.count("rows shown") == 1

from sentinel.report import console
from sentinel.report.escape import visible
from tests.report.hostile import CONTROLS, HOSTILE, hostile_report


def test_visible_escapes_every_control_and_bidi_character():
    assert visible("a\x1b[31mb") == "a\\x1b[31mb"
    assert visible("\x07\x00\x7f\x9b") == "\\x07\\x00\\x7f\\x9b"
    assert visible("\u202e\u200e\u200f\u061c\u2066\u2069\u202a") == "\\u202e\\u200e\\u200f\\u061c\\u2066\\u2069\\u202a"
    assert visible("line\nbreak\ttab") == "line\\x0abreak\\x09tab"
    assert visible("Ünïcode café 東京 -> fine") == "Ünïcode café 東京 -> fine"


def test_console_shows_control_characters_as_escapes():
    text = console.render(hostile_report())
    assert not any(c in text for c in CONTROLS)
    assert "ok\\x1b[31mred\\x07bell\\x00nul\\x7fdel\\x9bcsi\\u202eevil\\x0anext\\u2066iso" in text
    # The newline inside a name did not start a line of its own anywhere.
    assert not any(line.startswith("next") for line in text.splitlines())
    assert text.count(visible(HOSTILE)) >= 5  # sources, first seen, note, table title and cells, alert


class _Terminal(__import__("io").StringIO):
    def isatty(self) -> bool:
        return True


def test_colours_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    import io

    report = hostile_report()
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert console.wants_colour(_Terminal()) and not console.wants_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not console.wants_colour(_Terminal())
    coloured = console.render(report, colour=True)
    assert "\x1b[" in coloured  # styles: ours, made by rich
    assert "\x1b[31mred" not in coloured and "\\x1b[31mred" in coloured  # the data's own escape stays inert
    assert "\x1b[" not in console.render(report)


def test_tables_fit_the_width_and_data_is_never_markup():
    from sentinel.report.model import Column, Table

    table = Table(
        "t", "T", [Column("name", "name"), Column("n", "n", "int")], [{"name": "[bold]x[/bold] " * 8, "n": 1}]
    )
    text = console.render_table(table, width=50)
    assert all(len(line) <= 50 for line in text.splitlines())
    assert "[bold]x[/bold]" in text.replace("\n", "").replace(" ", "")  # shown as typed, folded to fit


def test_summary_line_and_progress():
    report = hostile_report()
    assert console.summary_line(report, 2.345) == "sentinel: 1 flows, 1 alert(s) (1 high) in 2.3 s"
    quick = _Terminal()
    progress = console.Progress(delay=60, stream=quick)
    progress.step("exfiltration")
    progress.close()
    assert quick.getvalue() == ""  # a run shorter than the delay shows no progress
    import time

    slow = _Terminal()
    progress = console.Progress(delay=0.01, stream=slow)
    time.sleep(0.3)
    progress.step("Possible data exfiltration")
    progress.close()
    assert "reading the inputs" in slow.getvalue() or "Possible data exfiltration" in slow.getvalue()
    piped = __import__("io").StringIO()
    progress = console.Progress(delay=0.0, stream=piped)
    time.sleep(0.1)
    progress.close()
    assert piped.getvalue() == ""  # never on a pipe or file


def test_a_cut_table_says_how_many_rows_are_shown_and_where_the_rest_are():
    from tests.report.cut import CUT_LINE, cut_report

    text = console.render(cut_report())
    assert "limited024" in text and "limited025" not in text
    assert CUT_LINE in text
    assert "Read me." in text  # the table's note, as the Markdown and HTML reports print it
    assert "25 of 30 rows shown; all 30 are in the reports (-o, --html, --json, --csv-dir)" in text
    assert "long024" in text and "long025" not in text
    assert "short004" in text and text.count("rows shown") == 2  # the short table: every row, no line
    assert "more rows" not in text


def test_the_consoles_own_cut_under_a_limit_names_both():
    from tests.report.cut import table

    text = console.render_table(table("limited", 38, limit=25), max_rows=10)
    assert "limited009" in text and "limited010" not in text
    assert (
        "10 of 38 rows shown (25 in the Markdown and HTML reports); all 38 are in the JSON report (--json) and the "
        "CSV files (--csv-dir)" in " ".join(text.split())  # rich may wrap the line
    )
    assert "rows shown" not in console.render_table(table("short", 5, limit=25), max_rows=10)

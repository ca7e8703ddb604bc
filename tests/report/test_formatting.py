"""The line under a cut table: how many rows are shown and where all of them are."""

from sentinel.report.formatting import cut_line
from sentinel.report.model import Column, Table


def _table(rows: int, limit: int | None = None, json_key: str | None = "rows") -> Table:
    return Table("t", "T", [Column("n", "n", "int")], [{"n": i} for i in range(rows)], limit=limit, json_key=json_key)


def test_no_line_when_every_row_is_shown() -> None:
    assert cut_line(_table(38)) == ""
    assert cut_line(_table(38, limit=38)) == ""
    assert cut_line(_table(38, limit=100)) == ""
    assert cut_line(_table(0, limit=0)) == ""
    assert cut_line(_table(38, limit=100), max_rows=38) == ""  # the console's cut, not reached


def test_a_limit_sends_the_reader_to_the_json_and_csv() -> None:
    assert cut_line(_table(38, limit=25)) == (
        "25 of 38 rows shown; all 38 are in the JSON report (--json) and the CSV files (--csv-dir)"
    )
    assert cut_line(_table(1212, limit=0)).startswith("0 of 1,212 rows shown; all 1,212 are")
    # the console's cut at or above the limit changes nothing
    assert cut_line(_table(38, limit=25), max_rows=25) == cut_line(_table(38, limit=25))


def test_the_consoles_own_cut_sends_the_reader_to_every_report() -> None:
    assert cut_line(_table(37), max_rows=25) == (
        "25 of 37 rows shown; all 37 are in the reports (-o, --html, --json, --csv-dir)"
    )


def test_the_consoles_cut_under_a_limit_names_both() -> None:
    assert cut_line(_table(212, limit=25), max_rows=10) == (
        "10 of 212 rows shown (25 in the Markdown and HTML reports); all 212 are in the JSON report (--json) and "
        "the CSV files (--csv-dir)"
    )


def test_a_table_in_no_json_list_sends_the_reader_to_the_csv_only() -> None:
    assert (
        cut_line(_table(38, limit=25, json_key=None)) == "25 of 38 rows shown; all 38 are in the CSV files (--csv-dir)"
    )
    assert cut_line(_table(37, json_key=None), max_rows=25) == (
        "25 of 37 rows shown; all 37 are in the reports (-o, --html, --csv-dir)"
    )


def test_byte_counts_in_sentences_reach_exabytes():
    from sentinel.report.formatting import human_bytes

    assert [human_bytes(n) for n in (512, 1_500, 3_100_000_000, 2.7e21, -9.2e18)] == [
        "512 B",
        "1.5 kB",
        "3.1 GB",
        "2700.0 EB",  # no larger unit: the exabytes counted
        "-9.2 EB",
    ]

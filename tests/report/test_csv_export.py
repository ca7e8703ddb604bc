"""--csv-dir: every table as CSV, raw values, text that a spreadsheet would run as a formula neutralised."""

import csv
import io

from sentinel.report import csv_export
from sentinel.report.model import Column, Section, Table
from sentinel.timefmt import Instant
from tests.report.hostile import HOSTILE, hostile_report


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def test_values_are_raw_and_formulas_are_text():
    table = Table(
        "t",
        "T",
        [Column("name", "name"), Column("n", "n", "int"), Column("share", "s", "percent"), Column("at", "at")],
        [
            {"name": '=HYPERLINK("http://x")', "n": -3, "share": 0.25, "at": Instant(0)},
            {"name": "@SUM(A1)", "n": 10**20, "share": None, "at": Instant(3_600_000_000, True)},
            {"name": ["a", "b"], "n": 0, "share": 1.0, "at": None},
        ],
    )
    header, *rows = _rows(csv_export.table_csv(table))
    assert header == ["name", "n", "share", "at"]
    assert rows == [
        ['\'=HYPERLINK("http://x")', "-3", "0.25", "1970-01-01T00:00:00.000Z"],
        ["'@SUM(A1)", str(10**20), "", "+01:00:00.00"],
        ["a; b", "0", "1.0", ""],
    ]


def test_one_file_per_table_and_the_alerts():
    report = hostile_report()
    report.sections.append(Section("x", "X", "", tables=[Table("t", "again", [Column("a", "a")], [{"a": 1}])]))
    files = csv_export.files(report)
    assert sorted(files) == ["alerts.csv", "t-2.csv", "t.csv"]
    [_, row] = _rows(files["t.csv"])
    assert row[0] == HOSTILE  # the data as it is (CSV quotes the newline): a program reads it back exactly
    [_, alert] = _rows(files["alerts.csv"])
    assert alert[:4] == ["1", "exfiltration", "high", "0.9"]


def test_a_table_has_every_row_past_its_limit_as_the_json_does():
    from tests.report.cut import table

    limited = table("limited", 38, limit=25)
    header, *rows = _rows(csv_export.table_csv(limited))
    assert header == ["name", "flows"]
    assert [r[0] for r in rows] == [row["name"] for row in limited.json_rows()]
    assert len(rows) == 38

"""A report with a table cut by its limit (38 rows, 25 shown), one cut by no limit, and one too short to cut."""

from sentinel.report.model import Column, Report, Section, Table
from tests.report.hostile import hostile_report

CUT_LINE = "25 of 38 rows shown; all 38 are in the JSON report (--json) and the CSV files (--csv-dir)"


def rows(n: int, prefix: str) -> list[dict[str, object]]:
    """`n` rows named `<prefix>000`, `<prefix>001`, ...: no name is the start of another."""
    return [{"name": f"{prefix}{i:03d}", "flows": i} for i in range(n)]


def table(key: str, n: int, limit: int | None = None, note: str = "") -> Table:
    columns = [Column("name", "name"), Column("flows", "flows", "int")]
    return Table(key, key.title(), columns, rows(n, key), note=note, json_key=key, limit=limit)


def cut_report() -> Report:
    report = hostile_report()
    report.sections = [
        Section(
            "cut",
            "Cut",
            "tables",
            tables=[
                table("limited", 38, limit=25, note="Read me."),
                table("long", 30),  # no limit: only the console's own cut (25 rows) reaches it
                table("short", 5, limit=25),
            ],
        )
    ]
    return report

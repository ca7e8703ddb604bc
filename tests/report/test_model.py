"""The report model: one set of rows serves the tables and the JSON."""

from sentinel.report.model import Column, Section, Table


def _table(**extra: object) -> Table:
    rows = [{"ip": f"10.0.0.{i}", "flows": i, "label": f"host {i}"} for i in range(5)]
    return Table("t", "T", [Column("ip", "ip", "ip"), Column("flows", "flows", "int")], rows, **extra)  # type: ignore[arg-type]


def test_json_rows_are_the_table_rows_with_the_chosen_fields_in_order() -> None:
    table = _table(json_key="rows", json_fields=("flows", "ip", "absent"))
    assert table.json_rows()[1] == {"flows": 1, "ip": "10.0.0.1"}
    assert list(table.json_rows()[1]) == ["flows", "ip"]
    assert _table().json_rows()[0] == {"ip": "10.0.0.0", "flows": 0, "label": "host 0"}  # all keys


def test_limit_cuts_what_readers_see_not_the_json() -> None:
    table = _table(json_key="rows", limit=2)
    assert [r["flows"] for r in table.shown] == [0, 1]
    assert len(table.json_rows()) == 5
    assert _table().shown == _table().rows


def test_section_json_merges_payload_and_tables_under_their_keys() -> None:
    section = Section(
        "k", "Title", "d", tables=[_table(json_key="rows", json_fields=("ip",)), _table()], payload={"n": 1}
    )
    out = section.json()
    assert out["title"] == "Title" and out["n"] == 1
    assert out["rows"] == [{"ip": f"10.0.0.{i}"} for i in range(5)]
    assert set(out) == {"title", "params", "n", "rows"}  # a table without json_key is in no JSON list

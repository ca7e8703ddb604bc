import json

import jsonschema
import pytest

from sentinel import pipeline
from sentinel.detectors.exfiltration import Params
from sentinel.report import json_report
from tests.conftest import require_shared, shared_data_dir
from tests.flows import config_for, flow, write_flows
from tests.report.schema_check import check_report


@pytest.fixture(scope="module")
def shared_schema():
    return json.loads(require_shared(shared_data_dir().parent / "spec" / "report.schema.json").read_text())


def _report(tmp_path):
    members = ["192.168.1.11", "192.168.1.12", "192.168.1.13"]
    rows = [flow(i, f"192.168.1.{20 + i % 5}", "8.8.8.8") for i in range(20)]
    rows += [flow(100 + i, "192.168.1.99", "193.136.0.1", up=5_000_000, down=100) for i in range(10)]
    rows += [flow(200 + i, a, b, port=40000) for i, a in enumerate(members) for b in members if a != b]
    path = write_flows(tmp_path / "f.parquet", rows)
    # six hosts talk to external addresses: the top half (P50) holds the one with the transfer out
    return pipeline.run(
        config_for(path, "country_volume", "hourly", "exfiltration", "botnet", exfiltration=Params(percentile=50))
    )


def test_report_validates_against_the_packaged_schema_v1(tmp_path):
    report = _report(tmp_path)
    document = check_report(json.loads(json_report.render(report)))
    assert {a["type"] for a in document["alerts"]} == {"exfiltration", "botnet"}
    assert document["input"]["flows"] == 20 + 10 + 6
    assert [a["id"] for a in document["alerts"]] == [1, 2]
    assert document["hosts"]["193.136.0.1"]["country"] == "PT"


def test_json_is_strict_json(tmp_path):
    text = json_report.render(_report(tmp_path))
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard constant {c}"))


def test_packaged_schema_keeps_the_shared_contract(tmp_path, shared_schema):
    """The package's copy may add fields, never change one: every property the shared spec defines is there,
    the same, and a report valid against the package's copy is valid against the shared spec."""
    packaged = json_report.schema()
    assert packaged["$id"] == shared_schema["$id"] and packaged["required"] == shared_schema["required"]

    def same_where_defined(shared, ours, where="schema"):
        for key, value in shared.items():
            assert key in ours, f"{where}.{key} is missing from the packaged schema"
            if isinstance(value, dict) and key != "description":
                same_where_defined(value, ours[key], f"{where}.{key}")
            elif key != "description":
                assert ours[key] == value, f"{where}.{key} changed"

    same_where_defined(shared_schema, packaged)
    document = json.loads(json_report.render(_report(tmp_path)))
    jsonschema.Draft202012Validator(shared_schema).validate(document)


def test_sentinel_schema_prints_the_packaged_schema(capsys):
    from sentinel import cli

    assert cli.main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json_report.schema() and printed["title"].startswith("Sentinel JSON report")


def test_json_lists_are_the_tables_rows_and_alert_charts_come_from_the_evidence(tmp_path):
    report = _report(tmp_path)
    document = json.loads(json_report.render(report))
    listed = 0
    for section in report.sections:
        for table in section.tables:
            if table.json_key is None:
                continue
            rows = document["analyses"][section.key][table.json_key]
            assert len(rows) == len(table.rows)  # every row, whatever the table shows
            if table.json_fields is not None:
                assert all(set(r) <= set(table.json_fields) for r in rows)
            listed += 1
    assert listed == 6  # countries, hours, busiest hosts, exfiltration hosts, botnet groups and servers
    exfil = document["analyses"]["exfiltration"]["rows"]
    assert [r["src_ip"] for r in exfil] == [r["src_ip"] for r in report.section("exfiltration").tables[0].rows]
    for alert, out in zip(report.alerts, document["alerts"], strict=True):
        assert out["chart"]["key"] == f"alert-{alert.id}"
        assert list(out["evidence"]) == list(alert.evidence.figures())

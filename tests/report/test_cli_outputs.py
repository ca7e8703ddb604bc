"""The report options of the command line: --alerts-jsonl, --csv-dir, --fail-on (and their files' safety)."""

import csv
import json

import pytest

from sentinel import cli
from sentinel.errors import ExitStatus
from sentinel.simulate import SimulationConfig, simulate, write_simulation
from tests.report.test_ecs import MANDATORY, field

# The original's four analyses: what these tests expect of the day does not move as detectors are added.
ORIGINAL = ["-cv", "-td", "-dx", "90", "-bn", "0.0.0.0/0"]


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    sim = simulate(SimulationConfig(hosts=60, flows=60_000, seed=2, attacks=True))
    path, _ = write_simulation(sim, tmp_path_factory.mktemp("outputs") / "day.parquet")
    return str(path)


def test_alerts_jsonl_to_stdout_is_only_jsonl(day, capsys):
    assert cli.main(["--data", day, "--date", "2024-05-17", *ORIGINAL, "--alerts-jsonl", "-"]) == 0
    out = capsys.readouterr().out
    docs = [json.loads(line) for line in out.splitlines()]
    assert docs and {d["rule"]["name"] for d in docs} == {"exfiltration", "botnet"}
    for doc in docs:
        for name in MANDATORY:
            field(doc, name)
    exfil = next(d for d in docs if d["rule"]["name"] == "exfiltration")
    assert field(exfil, "source.ip").startswith("192.168.104.") and field(exfil, "destination.ip")
    assert field(exfil, "event.start").startswith("2024-05-17T")


def test_alerts_jsonl_file_and_csv_dir(day, tmp_path, capsys):
    argv = ["--data", day, *ORIGINAL, "-q", "--alerts-jsonl", str(tmp_path / "a.jsonl"), "--csv-dir"]
    assert cli.main([*argv, str(tmp_path / "csv")]) == 0
    assert capsys.readouterr() == ("", "")
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["event"]["kind"] == "alert" for line in lines)
    names = sorted(p.name for p in (tmp_path / "csv").iterdir())
    tables = ["botnet_groups", "botnet_servers", "country_volume", "exfiltration", "host_hours", "hourly"]
    assert names == ["alerts.csv", *(f"{t}.csv" for t in tables)]
    with open(tmp_path / "csv" / "hourly.csv") as fh:
        hours = list(csv.DictReader(fh))
    assert [int(r["hour"]) for r in hours] == list(range(24))
    with open(tmp_path / "csv" / "alerts.csv") as fh:
        assert len(list(csv.DictReader(fh))) == len(lines)
    # Nothing is replaced without --force: the directory and the JSON lines file exist now.
    code = cli.main([*argv, str(tmp_path / "csv2")])
    assert code == ExitStatus.OUTPUT and "a.jsonl: exists already" in capsys.readouterr().err
    assert not (tmp_path / "csv2").exists()  # taken before the analysis, given back on failure
    code = cli.main(["--data", day, "-td", "--csv-dir", str(tmp_path / "csv")])
    assert code == ExitStatus.OUTPUT
    assert "csv: exists already; --csv-dir makes a new directory" in capsys.readouterr().err
    assert cli.main(["--data", day, "-td", "-q", "--csv-dir", str(tmp_path / "csv"), "--force"]) == 0
    assert (tmp_path / "csv" / "country_volume.csv").exists()  # other files stay


@pytest.mark.parametrize(("floor", "status"), [("high", ExitStatus.ALERTS), ("critical", ExitStatus.OK)])
def test_fail_on_has_its_own_exit_status(day, tmp_path, floor, status):
    # -bn on the simulated day raises a high alert (a P2P group of 4-6 members) and no critical one
    argv = ["--data", day, "-bn", "0.0.0.0/0", "-q", "--json", str(tmp_path / "r.json"), "--fail-on", floor]
    assert cli.main(argv) == status
    severities = {a["severity"] for a in json.loads((tmp_path / "r.json").read_text())["alerts"]}  # written anyway
    assert "high" in severities and "critical" not in severities


def test_fail_on_status_is_its_own_and_documented():
    from tests.conftest import REPO

    assert ExitStatus.ALERTS.name == "ALERTS"  # no alias of another status (an IntEnum would merge equal values)
    assert ExitStatus.ALERTS not in (1, 2, 3, 4, 5, 130)
    assert "\n  10   --fail-on SEVERITY" in cli.EXIT_CODES
    assert "| 10 | `--fail-on SEVERITY`" in (REPO / "README.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fail-on", "severe"], "argument --fail-on: invalid choice: 'severe'"),
        (["--json", "-", "--alerts-jsonl", "-"], "only one of them can be printed on stdout"),
        (["--alerts-jsonl", ""], "--alerts-jsonl: the value is empty"),
        (["--csv-dir", ""], "--csv-dir: the value is empty"),
    ],
)
def test_usage_errors(day, capsys, argv, message):
    assert cli.main(["--data", day, *argv]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_one_path_for_two_reports_is_refused(day, tmp_path, capsys):
    same = str(tmp_path / "r.json")
    assert cli.main(["--data", day, "--json", same, "--alerts-jsonl", same]) == ExitStatus.OUTPUT
    assert "named for two reports" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_chart_without_data_leaves_no_file(tmp_path, capsys):
    """-td reserves its heat map's name; with no internal host to show, the name is given back."""
    from tests.flows import flow, write_flows

    data = write_flows(tmp_path / "ext.parquet", [flow(i, "8.8.8.8", "9.9.9.9") for i in range(3)])
    out = tmp_path / "out"
    assert cli.main(["--data", str(data), "-td", "-q", "-o", "--out-dir", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and names[0].endswith("-hourly.png") and names[1].endswith(".md"), names

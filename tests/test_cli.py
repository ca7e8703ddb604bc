"""The command line as users meet it: the original course invocation, -q, -o, --json, errors and codes."""

import json
import os
import re
import stat
import subprocess
import sys

import pytest

from sentinel import cli, registry
from sentinel.errors import ExitStatus
from sentinel.simulate import SimulationConfig, simulate, write_simulation
from tests.report.schema_check import check_report


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    sim = simulate(SimulationConfig(hosts=80, flows=120_000, seed=11, attacks=True))
    path, _ = write_simulation(sim, tmp_path_factory.mktemp("cli") / "data4.parquet")
    return path, sim.labels


@pytest.fixture(scope="module")
def geoip(shared_data):
    folder = shared_data / "geoip-legacy"
    return str(folder / "GeoIP-course-GeoLite2-20230414.dat"), str(folder / "GeoIPASNum-20140916.dat")


def test_original_command_line(capture, geoip, tmp_path, capsys, monkeypatch):
    path, labels = capture
    monkeypatch.chdir(tmp_path)  # -o writes into the current directory, as the original did
    argv = [
        "--data",
        str(path),
        "-gi",
        geoip[0],
        "-gin",
        geoip[1],
        "-cv",
        "-td",
        "-dx",
        "90",
        "-bn",
        "192.168.104.0/24",
        "-o",
    ]
    assert cli.main(argv) == ExitStatus.OK
    out = capsys.readouterr().out
    for title in (
        "Connections per destination country",
        "Connections per hour of the day",
        "Possible data exfiltration",
        "Possible internal botnet",
    ):
        assert title in out
    [report] = tmp_path.glob("sentinel-report-*.md")
    text = report.read_text()
    charts = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert all((tmp_path / c).stat().st_size > 1000 for c in charts)
    alert_charts = [c for c in charts if re.search(r"-alert-\d+\.png$", c)]
    assert len(charts) - len(alert_charts) == 3  # countries, hours, hosts; each alert's "why" chart beside them
    assert len(alert_charts) == len(re.findall(r"^### Alert \d+:", text, re.M))
    assert "### Alert 1:" in text and "AS organisation" in text
    # Every host of an attack the original's analyses address is named (the others need --beacon, --scan, ...).
    truth = {h for a in labels["attacks"] if a["alert_type"] in ("exfiltration", "botnet") for h in a["hosts"]}
    assert truth <= set(re.findall(r"192\.168\.104\.\d+", text))  # every injected host is named
    # A second run never overwrites the first report.
    assert cli.main(argv) == ExitStatus.OK
    assert len(list(tmp_path.glob("sentinel-report-*.md"))) == 2


def test_quiet_prints_nothing(capture, tmp_path, capsys):
    assert cli.main(["--data", str(capture[0]), "-cv", "-q", "--json", str(tmp_path / "r.json")]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert check_report(json.loads((tmp_path / "r.json").read_text()))["schema_version"] == 1


def test_json_to_stdout_is_only_json(capture, capsys):
    assert cli.main(["--data", str(capture[0]), "--all", "--json", "-"]) == 0
    document = check_report(json.loads(capsys.readouterr().out))
    assert set(document["analyses"]) == set(registry.UNITS)


def test_json_never_overwrites_without_force(capture, tmp_path, capsys):
    target = tmp_path / "r.json"
    target.write_text("mine")
    assert cli.main(["--data", str(capture[0]), "-td", "--json", str(target)]) == ExitStatus.OUTPUT
    assert target.read_text() == "mine"
    assert "exists already" in capsys.readouterr().err
    assert cli.main(["--data", str(capture[0]), "-td", "-q", "--json", str(target), "--force"]) == 0
    assert json.loads(target.read_text())["analyses"]["hourly"]


def _error(argv, capsys) -> tuple[int, str]:
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return code, err


@pytest.mark.parametrize(
    ("extra", "status", "message"),
    [
        (["-dx", "150"], ExitStatus.USAGE, "-dx: 150 is outside 0-100"),
        (["-dx", "ninety"], ExitStatus.USAGE, "-dx: 'ninety' is not a number"),
        (["-bn", "192.168.104.0/33"], ExitStatus.USAGE, "-bn: '192.168.104.0/33' is not a valid network"),
        (["--internal", "10.0.0.0/8,nope"], ExitStatus.USAGE, "--internal: 'nope'"),
        (["--tz", "Mars/Base"], ExitStatus.USAGE, "--tz: unknown time zone"),
        (["--memory-limit", "lots"], ExitStatus.USAGE, "--memory-limit: 'lots'"),
        (["--threads", "0"], ExitStatus.USAGE, "--threads: must be positive"),
        (["--threads", "99999"], ExitStatus.USAGE, "--threads: 99999 is more than"),
        (["--tz", "posixrules"], ExitStatus.USAGE, "--tz: unknown time zone 'posixrules'"),
        (["--tz", "localtime"], ExitStatus.USAGE, "--tz: unknown time zone 'localtime'"),
        (["--memory-limit", "1KB"], ExitStatus.USAGE, "--memory-limit: the analysis does not fit in 1KB"),
        (["--date", "2023-13-01"], ExitStatus.USAGE, "--date: '2023-13-01' is not a date"),
        (["--bogus"], ExitStatus.USAGE, "unrecognized arguments: --bogus"),
        (["-bn", ""], ExitStatus.USAGE, "-bn: the value is empty"),
        (["--json", ""], ExitStatus.USAGE, "--json: the value is empty"),
        (["--memory-limit", ""], ExitStatus.USAGE, "--memory-limit: the value is empty"),
        (["--date", ""], ExitStatus.USAGE, "--date: the value is empty"),
        (["-o", "--out-dir", ""], ExitStatus.USAGE, "--out-dir: the value is empty"),
        (["--date", "20240101"], ExitStatus.USAGE, "--date: '20240101' is not a date in YYYY-MM-DD form"),
        (["--date", "2024-W01-1"], ExitStatus.USAGE, "--date: '2024-W01-1' is not a date in YYYY-MM-DD form"),
    ],
)
def test_usage_errors(capture, capsys, extra, status, message):
    code, err = _error(["--data", str(capture[0]), *extra], capsys)
    assert code == status and message in err


def test_input_errors(tmp_path, capsys):
    code, err = _error(["--data", str(tmp_path / "missing.parquet")], capsys)
    assert code == ExitStatus.INPUT and "missing.parquet: no such file" in err
    notparquet = tmp_path / "x.parquet"
    notparquet.write_text("hello")
    code, err = _error(["--data", str(notparquet)], capsys)
    assert code == ExitStatus.INPUT and "not a readable Parquet file" in err
    code, err = _error([], capsys)
    assert code == ExitStatus.USAGE and "--data INPUT is required" in err


def test_geoip_errors(capture, tmp_path, capsys):
    fake = tmp_path / "GeoIP.dat"
    fake.write_bytes(b"this is not a GeoIP database" * 100)
    code, err = _error(["--data", str(capture[0]), "-gi", str(fake)], capsys)
    assert code == ExitStatus.GEOIP and "-gi" in err and "GeoIP.dat" in err
    code, err = _error(["--data", str(capture[0]), "-gin", str(tmp_path / "none.dat")], capsys)
    assert code == ExitStatus.GEOIP and "none.dat" in err


def test_help_documents_options_defaults_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in (
        "--data",
        "-gi",
        "-gin",
        "-cv",
        "-td",
        "-dx",
        "-bn",
        "-q",
        "-o",
        "--all",
        "--json",
        "--internal",
        "--tz",
        "--out-dir",
        "--force",
        "exit status",
        "default: UTC",
    ):
        assert option in text, option


def test_console_script_runs_as_a_process(capture):
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", "--data", str(capture[0]), "-td"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "Connections per hour" in done.stdout


def test_simulate_and_demo(tmp_path, capsys):
    out = tmp_path / "day.parquet"
    assert cli.main(["simulate", str(out), "--flows", "40000", "--hosts", "30", "--attacks"]) == 0
    assert out.exists() and (tmp_path / "day.labels.json").exists()
    assert cli.main(["simulate", str(out), "--flows", "20000", "--hosts", "30"]) == ExitStatus.OUTPUT
    demo = tmp_path / "demo"
    assert cli.main(["demo", "--out-dir", str(demo), "--flows", "100000", "--hosts", "50", "-q"]) == 0
    names = {p.name for p in demo.iterdir()}
    assert {"office-day.parquet", "office-day.labels.json", "report.json", "report.html"} <= names
    assert any(n.endswith(".md") for n in names)
    assert sum(n.endswith(".png") and "-alert-" not in n for n in names) == 3  # the sections' charts
    assert any(n.endswith(".png") and "-alert-" in n for n in names)  # and the alerts' "why" charts
    assert cli.main(["demo", "--out-dir", str(demo)]) == ExitStatus.OUTPUT


def test_botnet_subnet_declared_internal_is_examined(tmp_path, capsys):
    from tests.flows import flow, write_flows

    members = ["100.70.0.1", "100.70.0.2", "100.70.0.3"]  # CGN space: neither RFC 1918 nor public
    rows = [flow(10 * i + j, a, b, port=40000) for i, a in enumerate(members) for j, b in enumerate(members) if a != b]
    path = write_flows(tmp_path / "f.parquet", rows)
    argv = ["--data", str(path), "-bn", "100.70.0.0/16", "--internal", "192.168.0.0/16,100.70.0.0/16", "--json", "-"]
    assert cli.main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert [a["hosts"] for a in document["alerts"]] == [members]
    assert document["settings"]["internal"] == ["192.168.0.0/16", "100.70.0.0/16"]


def test_botnet_subnet_never_becomes_internal(capture, capsys):
    """-bn on the destination of an exfiltration must not declare it internal and so hide the alert."""
    assert cli.main(["--data", str(capture[0]), "-dx", "90", "-bn", "192.168.104.0/24", "--json", "-"]) == 0
    alerts = json.loads(capsys.readouterr().out)["alerts"]
    destination = next(a["dst_ip"] for a in alerts if a["type"] == "exfiltration")
    subnet = destination.rsplit(".", 1)[0] + ".0/24"
    code, err = _error(["--data", str(capture[0]), "-dx", "90", "-bn", subnet, "--json", "-"], capsys)
    assert code == ExitStatus.USAGE
    assert f"-bn: {subnet} is outside the internal networks; add it to --internal" in err


def test_unwritable_destinations_fail_before_the_analysis(capture, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for extra, message in (
        (["-o", "--out-dir", str(blocker / "sub")], "sub"),
        (["--json", str(tmp_path / "no" / "r.json")], "no directory"),
    ):
        assert cli.main(["--data", str(capture[0]), "-td", *extra]) == ExitStatus.OUTPUT
        out, err = capsys.readouterr()
        assert out == "" and message in err and len(err.splitlines()) == 1  # nothing was analysed


def test_quiet_still_prints_the_json_asked_for(capture, capsys):
    assert cli.main(["--data", str(capture[0]), "-td", "-q", "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["analyses"]["hourly"]["timezone"] == "UTC" and captured.err == ""


def test_error_messages_show_control_characters_as_escapes(tmp_path, capsys):
    name = str(tmp_path / "day\x1b[31m\x07\u202e\nx.parquet")
    code, err = _error(["--data", name], capsys)
    assert code == ExitStatus.INPUT and "day\\x1b[31m\\x07\\u202e\\x0ax.parquet: no such file" in err
    assert not any(c in err for c in "\x1b\x07\u202e")
    code, err = _error(["--data", "nul\x00.parquet"], capsys)  # only through the API: argv has no NUL
    assert code == ExitStatus.INPUT and "nul\\x00.parquet: is not a file name" in err


def test_wrote_lines_show_control_characters_as_escapes(capture, tmp_path, capsys):
    target = tmp_path / "r\x1b]0;title\x07.json"
    assert cli.main(["--data", str(capture[0]), "-td", "--json", str(target)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"wrote {tmp_path}/r\\x1b]0;title\\x07.json"
    assert err.splitlines()[1].startswith("sentinel: 120,000 flows, no alerts in ")  # the run's one-line summary


def test_json_onto_special_files(capture, tmp_path, capsys):
    data = ["--data", str(capture[0]), "-td", "-q"]
    assert cli.main([*data, "--json", "/dev/null"]) == 0  # a stream: nothing is replaced, no --force needed
    assert cli.main([*data, "--json", "/dev/null", "--force"]) == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    folder = tmp_path / "dir"
    folder.mkdir()
    code, err = _error([*data, "--json", str(folder), "--force"], capsys)
    assert code == ExitStatus.OUTPUT and "is a directory, not a regular file" in err
    assert folder.is_dir() and [p.name for p in tmp_path.iterdir()] == ["dir"]  # no temp file left


def test_report_names_are_taken_before_the_analysis_and_given_back_on_failure(capture, tmp_path, monkeypatch, capsys):
    from sentinel import pipeline

    real_run, seen = pipeline.run, []

    def run(config, **kwargs):
        seen.append(sorted(p.name for p in tmp_path.iterdir()))  # what exists while the analysis runs
        return real_run(config, **kwargs)

    monkeypatch.setattr(pipeline, "run", run)
    argv = ["--data", str(capture[0]), "-q", "-o", "--out-dir", str(tmp_path), "--json", str(tmp_path / "r.json")]
    assert cli.main(argv) == 0
    [names] = seen
    stem = names[1].removesuffix("-country_volume.png")
    assert names == ["r.json", *(f"{stem}-{c}.png" for c in ("country_volume", "host_hours", "hourly")), f"{stem}.md"]
    assert check_report(json.loads((tmp_path / "r.json").read_text()))["schema_version"] == 1
    assert (tmp_path / f"{stem}.md").stat().st_size > 0

    def fail(config, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "run", fail)
    before = sorted(p.name for p in tmp_path.iterdir())
    argv[-1] = str(tmp_path / "r2.json")
    assert cli.main(argv) == ExitStatus.ERROR
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # every name taken was given back
    capsys.readouterr()


def test_unwritable_out_dir_fails_before_the_analysis(capture, tmp_path, monkeypatch, capsys):
    from sentinel import pipeline
    from sentinel.report import output

    def analysis_started(*args, **kwargs):
        raise AssertionError("the analysis ran")

    monkeypatch.setattr(pipeline, "run", analysis_started)
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes whatever the mode: stand in for the refusal a user would meet
        real = output.create_exclusive

        def refuse(path):
            if path.parent == folder:
                raise output._fail(path, PermissionError(13, "Permission denied"))
            return real(path)

        monkeypatch.setattr(output, "create_exclusive", refuse)
    else:
        folder.chmod(0o555)
    code, err = _error(["--data", str(capture[0]), "-o", "--out-dir", str(folder)], capsys)
    assert code == ExitStatus.OUTPUT and "cannot write (Permission denied)" in err
    assert list(folder.iterdir()) == []


def test_geoip_db_and_by_asn(capture, shared_data, capsys):
    asn = shared_data / "mmdb" / "maxmind-test-data" / "GeoLite2-ASN-Test.mmdb"
    argv = ["--data", str(capture[0]), "-cv", "--by", "asn", "--geoip-db", str(asn), "--json", "-"]
    assert cli.main(argv) == ExitStatus.OK
    report = json.loads(capsys.readouterr().out)
    databases = report["enrichment"]["databases"]
    assert databases[0]["name"] == str(asn) and databases[0]["explicit"] and databases[0]["date"] == "2026-02-04"
    assert any(d["kind"] == "embedded" and "asn" in d["provides"] for d in databases)
    volume = report["analyses"]["country_volume"]
    assert volume["by"] == "asn" and volume["as_rows"] and any(r["country"] for r in volume["rows"])
    assert sum(r["flows"] for r in volume["as_rows"]) == sum(r["flows"] for r in volume["rows"])
    assert report["enrichment"]["as_org"].startswith(str(asn) + "; embedded default")


def test_geoip_db_errors(capture, tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    code, err = _error(["--data", str(capture[0]), "--geoip-db", str(text)], capsys)
    assert code == ExitStatus.GEOIP and err.startswith("sentinel: error: --geoip-db ") and "notes.txt" in err
    code, err = _error(["--data", str(capture[0]), "--by", "city"], capsys)
    assert code == ExitStatus.USAGE and "--by" in err


def test_tables_of_addresses_show_country_and_as(capture, capsys):
    assert cli.main(["--data", str(capture[0]), "--json", "-", "-dx", "90"]) == ExitStatus.OK
    report = json.loads(capsys.readouterr().out)
    [alert, *_] = [a for a in report["alerts"] if a["type"] == "exfiltration"]
    transfer = alert["evidence"]["transfers"][0]
    assert transfer["dst_ip_where"] and transfer["dst_ip_where"] != "(invalid)"
    host = report["hosts"][alert["dst_ip"]]
    assert host["address_class"] == "public" and (host["asn"] is None or isinstance(host["asn"], int))


def test_intel_lists_on_the_command_line(capture, tmp_path, capsys):
    path, _ = capture
    import pyarrow.parquet as pq

    flows = pq.read_table(path, columns=["src_ip", "dst_ip"]).to_pylist()
    target = next(f["dst_ip"] for f in flows if not f["dst_ip"].startswith("192.168."))
    listed = tmp_path / "drop.txt"
    listed.write_text(f"; test list\n{target}/32 ; SBL-TEST\n")
    argv = ["--data", str(path), "--intel", str(listed), "--json", "-"]
    assert cli.main(argv) == ExitStatus.OK
    report = json.loads(capsys.readouterr().out)
    assert set(report["analyses"]) == {"threat_intel"}  # --intel alone selects its detector
    [alert] = [a for a in report["alerts"] if a["type"] == "threat_intel"]
    assert alert["dst_ip"] == target and alert["evidence"]["lists"] == [f"drop.txt: {target}/32 (SBL-TEST)"]
    assert report["hosts"][target]["intel"] == alert["evidence"]["lists"]
    code, err = _error(["--data", str(path), "--intel", str(tmp_path / "none.txt")], capsys)
    assert code == ExitStatus.INPUT and "none.txt: --intel: no such file" in err

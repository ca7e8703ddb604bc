"""The units' command line, generated from the registry: flags, --detect, --set, --all, --list-params."""

import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar

import pytest

from sentinel import cli, registry
from sentinel.config import param
from sentinel.errors import ConfigError, ExitStatus
from sentinel.unit_options import convert, selected_units
from sentinel.units import Flag


def _units(*argv: str) -> dict:
    return selected_units(cli.analysis_parser().parse_args(["--data", "x", *argv]), registry.UNITS)


def test_no_choice_means_every_unit_at_defaults():
    units = _units()
    assert list(units) == list(registry.UNITS)
    assert units == {key: registry.default_params(key) for key in registry.UNITS}
    assert _units("--all") == units


def test_flags_detect_and_set_combine_in_registry_order():
    units = _units("--detect", "botnet", "-dx", "95", "--set", "exfiltration.min_transfer_bytes=5000000")
    assert list(units) == ["exfiltration", "botnet"]  # registry order, not the order given
    assert units["exfiltration"].percentile == 95.0 and units["exfiltration"].min_transfer_bytes == 5_000_000
    assert _units("--set", "exfiltration.percentile=80", "-dx", "95")["exfiltration"].percentile == 80.0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--detect", "beecon"], "--detect: unknown 'beecon'"),
        (["--set", "exfiltration.percentil=3"], "exfiltration has no parameter 'percentil'"),
        (["--set", "exfiltration.percentile"], "is not KEY.PARAM=VALUE"),
        (["--set", "nosuch.x=1"], "unknown unit 'nosuch'"),
        (["--set", "exfiltration.min_transfer_bytes=lots"], "'lots' is not a whole number"),
        (["-cv", "--set", "exfiltration.percentile=50"], "exfiltration is not run"),
    ],
)
def test_mistakes_are_one_line_usage_errors(argv, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        _units(*argv)


def test_values_take_the_declared_type():
    assert convert("3", int, "o") == 3 and convert("0.5", float, "o") == 0.5
    assert convert("yes", bool, "o") is True and convert("off", bool, "o") is False
    assert convert("a.txt, b.txt", tuple[str, ...], "o") == ("a.txt", "b.txt")
    with pytest.raises(ConfigError, match="not true or false"):
        convert("maybe", bool, "o")


def test_botnet_check_runs_before_any_data_is_read(capsys):
    status = cli.main(["--data", "/nonexistent.parquet", "-bn", "8.8.8.0/24"])
    assert status == ExitStatus.USAGE
    assert "-bn: 8.8.8.0/24 is outside the internal networks" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("beacon.strobe_connections=0", "beacon.strobe_connections: 0 must be at least 1"),
        ("beacon.prefix_v4=40", "beacon.prefix_v4: 40 must be at most 32"),
        ("dns.table_rows=-3", "dns.table_rows: -3 must be at least 0"),
        ("scan.window_minutes=0", "scan.window_minutes: 0 must be at least 1"),
    ],
)
def test_declared_bounds_are_usage_errors_before_any_data_is_read(capsys, setting, message):
    # strobe_connections=0 once ended in "internal error: ZeroDivisionError"
    status = cli.main(["--data", "/nonexistent.parquet", "--all", "--set", setting])
    assert status == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_list_params_names_every_parameter(capsys):
    assert cli.main(["--list-params"]) == ExitStatus.OK
    out = capsys.readouterr().out
    for key, unit in registry.UNITS.items():
        for f in dataclasses.fields(unit.Params):
            assert f"{key}.{f.name} = {f.default!r}" in out


def test_a_new_unit_brings_its_own_options(monkeypatch, tmp_path):
    """Adding a unit touches neither cli.py nor pipeline.py: its flag and parameters appear by themselves."""

    @dataclass(frozen=True)
    class ProbeParams:
        lists: tuple[str, ...] = param((), "list files")
        limit: int = param(3, "a limit")

    class Probe:
        key: ClassVar[str] = "probe"
        title: ClassVar[str] = "Probe"
        kind: ClassVar[str] = "detector"
        charts: ClassVar[tuple[str, ...]] = ()
        Params: ClassVar[type] = ProbeParams
        needs: ClassVar[tuple[str, ...]] = ()
        flags: ClassVar[tuple[Flag, ...]] = (Flag(("--probe-list",), "lists", param="lists", repeat=True),)

        def run(self, ctx, params):
            raise AssertionError("not run here")

    monkeypatch.setitem(registry.UNITS, "probe", Probe())
    units = _units("--probe-list", "a", "--probe-list", "b", "--set", "probe.limit=7")
    assert units == {"probe": ProbeParams(lists=("a", "b"), limit=7)}
    assert json.dumps(units["probe"].lists) == '["a", "b"]'

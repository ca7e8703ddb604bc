"""--data: files, directories, globs; exact paths win over glob characters; format detection by content."""

import datetime as dt
import ipaddress

import pytest

from sentinel import pipeline
from sentinel.config import Config
from sentinel.errors import InputError
from sentinel.registry import default_params
from sentinel.sources import inputs
from sentinel.sources.base import ReadOptions
from sentinel.sources.registry import plan
from tests.flows import config_for, flow, write_flows


def _day(path, n=3, src="192.168.1.2"):
    return write_flows(path, [flow(100 * i, src, "8.8.8.8") for i in range(n)])


def test_an_existing_name_with_glob_characters_is_that_file_only(tmp_path):
    star = _day(tmp_path / "cap*.parquet", 2)
    _day(tmp_path / "cap1.parquet", 5)
    files, notes = inputs.expand([str(star)])
    assert files == [(str(star), "file")] and notes == []
    assert pipeline.run(config_for(star, "hourly")).input.flows == 2


def test_a_glob_is_expanded_and_says_what_it_matched(tmp_path):
    _day(tmp_path / "cap1.parquet", 2)
    _day(tmp_path / "cap2.parquet", 5)
    report = pipeline.run(Config(data=(str(tmp_path / "cap?.parquet"),), units={"hourly": default_params("hourly")}))
    assert report.input.flows == 7
    assert any("matched 2 file(s)" in n for n in report.notes)


def test_a_glob_matching_nothing_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="as a pattern it matches no file"):
        inputs.expand([str(tmp_path / "*.parquet")])


def test_a_colon_in_a_relative_name_is_a_file_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _day(tmp_path / "day-12:00.parquet", 4)
    assert pipeline.run(config_for("day-12:00.parquet", "hourly")).input.flows == 4


def test_directories_are_read_recursively_and_other_files_are_skipped_and_said(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    _day(tmp_path / "a" / "one.parquet", 2)
    _day(tmp_path / "a" / "b" / "two.parquet", 3)
    (tmp_path / "a" / "README.md").write_text("# not flows\n")
    (tmp_path / "a" / ".hidden.parquet").write_text("ignored")
    report = pipeline.run(config_for(tmp_path / "a", "hourly"))
    assert report.input.flows == 5
    assert len(report.input.sources) == 2
    assert any("not flow files and were skipped" in n and "README.md" in n for n in report.notes)


def test_a_named_file_of_no_known_format_is_an_error(tmp_path):
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n")
    with pytest.raises(InputError, match="not a flow file Sentinel recognises"):
        plan([str(odd)], ReadOptions())


def test_the_same_file_twice_is_read_once(tmp_path):
    day = _day(tmp_path / "d.parquet", 3)
    files, _ = inputs.expand([str(day), str(tmp_path), str(tmp_path / "*.parquet")])
    assert [f for f, _ in files] == [str(day)]


def test_gzip_and_zstd_heads_are_decompressed(tmp_path):
    import gzip

    import zstandard

    text = b"#fields\tts\n" * 10
    (tmp_path / "a.gz").write_bytes(gzip.compress(text))
    (tmp_path / "b").write_bytes(zstandard.ZstdCompressor().compress(text))
    a, b = inputs.sample(str(tmp_path / "a.gz")), inputs.sample(str(tmp_path / "b"))
    assert (a.compression, a.head) == ("gzip", text)
    assert (b.compression, b.head) == ("zstd", text)


def test_course_times_are_anchored_by_date_or_shown_day_relative(tmp_path):
    path = write_flows(tmp_path / "d.parquet", [flow(360_000, "192.168.1.2", "8.8.8.8")])  # 01:00:00
    unknown = pipeline.run(config_for(path, "hourly"))
    assert unknown.input.first_seen.text() == "+01:00:00.00"
    dated = pipeline.run(Config(data=path, units={"hourly": default_params("hourly")}, date=dt.date(2024, 4, 19)))
    assert dated.input.first_seen.text() == "2024-04-19T01:00:00.000Z"


def test_course_values_that_are_plainly_epoch_hundredths_are_read_so(tmp_path):
    cs = 1_713_484_800 * 100  # 2024-04-19 00:00 UTC in hundredths
    path = write_flows(tmp_path / "d.parquet", [flow(cs + 12_345, "192.168.1.2", "8.8.8.8")])
    report = pipeline.run(config_for(path, "hourly"))
    assert report.input.first_seen.text() == "2024-04-19T00:02:03.450Z"
    assert any("epoch hundredths" in n for n in report.notes)


def test_a_few_flows_past_midnight_stay_times_of_day(tmp_path):
    path = write_flows(tmp_path / "d.parquet", [flow(8_640_000 + 50, "192.168.1.2", "8.8.8.8")])
    assert pipeline.run(config_for(path, "hourly")).input.first_seen.text() == "+1d 00:00:00.50"


def test_from_and_to_limit_the_days(tmp_path):
    base = 1_713_484_800 * 100  # epoch hundredths: 2024-04-19
    rows = [flow(base + d * 8_640_000 + 100, "192.168.1.2", "8.8.8.8") for d in range(3) for _ in range(d + 1)]
    path = write_flows(tmp_path / "d.parquet", rows)
    run = pipeline.run(
        Config(
            data=path,
            units={"hourly": default_params("hourly")},
            since=dt.date(2024, 4, 20),
            until=dt.date(2024, 4, 20),
        )
    )
    assert run.input.flows == 2


def test_one_host_spelled_several_ways_counts_once(tmp_path):
    rows = [
        flow(1, "192.168.1.10", "8.8.8.8", up=10),
        flow(2, "192.168.001.010", "8.8.8.8", up=20),
        flow(3, "fd00::1", "2001:4860:4860::8888", up=30),
        flow(4, "FD00:0::1", "2001:4860:4860:0:0:0:0:8888", up=40),
    ]
    cfg = Config(
        data=write_flows(tmp_path / "d.parquet", rows),
        units={"exfiltration": default_params("exfiltration")},
        internal=(ipaddress.ip_network("192.168.0.0/16"), ipaddress.ip_network("fd00::/8")),
    )
    report = pipeline.run(cfg)
    hosts = {r["src_ip"]: r for r in report.section("exfiltration").json()["rows"]}
    assert report.input.flows == 4
    assert any("read as one host" in n for n in report.notes)
    ranked = report.section("exfiltration").json()["hosts_ranked"]
    assert ranked == 2, hosts

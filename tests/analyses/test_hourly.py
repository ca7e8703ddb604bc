import pytest

from sentinel import pipeline
from sentinel.config import Config
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")

HOUR = 360_000  # 1/100 s


def _hours(report) -> dict[int, int]:
    return {r["hour"]: r["flows"] for r in report.section("hourly").json()["rows"] if r["flows"]}


def test_hours_exact_including_edges(tmp_path):
    stamps = [0, HOUR - 1, HOUR, 13 * HOUR + 5, 23 * HOUR + HOUR - 1, 24 * HOUR + 1, -1, -HOUR]
    rows = [flow(ts, "192.168.1.2", "8.8.8.8") for ts in stamps]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", rows), "hourly"))
    # -1 and -HOUR are the previous day's 23:59:59.99 and 23:00 (pandas' reading); 24h+1 is next day 00h.
    assert _hours(report) == {0: 3, 1: 1, 13: 1, 23: 3}
    assert [r["hour"] for r in report.section("hourly").json()["rows"]] == list(range(24))
    assert report.section("hourly").json()["timezone"] == "UTC"


def test_timezone_shifts_hours(tmp_path):
    import datetime as dt

    rows = [flow(10 * HOUR, "192.168.1.2", "8.8.8.8")]
    path = write_flows(tmp_path / "f.parquet", rows)
    base = config_for(path, "hourly")
    summer = Config(data=path, units=base.units, timezone="Europe/Lisbon", date=dt.date(2023, 6, 1))
    winter = Config(data=path, units=base.units, timezone="Europe/Lisbon", date=dt.date(2023, 1, 15))
    assert _hours(pipeline.run(summer)) == {11: 1}  # WEST, UTC+1
    assert _hours(pipeline.run(winter)) == {10: 1}  # WET, UTC+0
    undated = pipeline.run(Config(data=path, units=base.units, timezone="Europe/Lisbon"))
    assert _hours(undated) == {11: 1}  # Portugal kept CET (UTC+1) in 1970
    assert any("give --date" in note for note in undated.notes)


def test_unknown_timezone_is_a_config_error(tmp_path):
    from sentinel.errors import ConfigError

    with pytest.raises(ConfigError, match="--tz"):
        Config(data=tmp_path / "x.parquet", timezone="Mars/Olympus")


def test_several_days_add_a_per_day_table(tmp_path):
    from sentinel import pipeline
    from tests.flows import config_for, flow, write_flows

    day0 = 1_713_484_800 * 100  # 2024-04-19 in epoch hundredths
    rows = [flow(day0 + 360_000, "192.168.1.2", "8.8.8.8"), flow(day0 + 2 * 8_640_000 + 5, "192.168.1.2", "8.8.8.8")]
    section = pipeline.run(config_for(write_flows(tmp_path / "d.parquet", rows), "hourly")).section("hourly")
    assert section.json()["days"] == [
        {"day": "2024-04-19", "flows": 1},
        {"day": "2024-04-20", "flows": 0},
        {"day": "2024-04-21", "flows": 1},
    ]
    assert [t.key for t in section.tables] == ["hourly", "daily", "host_hours"]
    assert section.json()["rows"][1]["flows"] == 1 and section.json()["rows"][0]["flows"] == 1


@pytest.mark.parametrize("zone", ["posixrules", "localtime"])
def test_zone_database_files_that_are_not_zones_are_config_errors(tmp_path, zone):
    from sentinel.errors import ConfigError

    with pytest.raises(ConfigError, match=f"--tz: unknown time zone '{zone}'"):
        Config(data=tmp_path / "x.parquet", timezone=zone)


def test_times_beyond_the_calendar_are_in_no_hour(tmp_path):
    import datetime as dt

    rows = [
        flow(10**14, "192.168.1.2", "8.8.8.8"),  # 10^18 µs: year 33658
        flow(-(10**14), "192.168.1.2", "8.8.8.8"),
        flow(5, "192.168.1.2", "8.8.8.8"),
    ]
    path = write_flows(tmp_path / "f.parquet", rows)
    config = Config(
        data=path, units=config_for(path, "hourly").units, timezone="Europe/Lisbon", date=dt.date(9999, 12, 31)
    )
    report = pipeline.run(config)
    section = report.section("hourly")
    assert sum(_hours(report).values()) == 1 and section.json()["unplaced_flows"] == 2
    assert "2 flows are in no hour" in section.tables[0].note
    assert report.input.last_seen.text().endswith("µs since 1970-01-01 UTC")


def test_bytes_per_hour_and_the_busiest_hosts_by_hour(tmp_path):
    from sentinel.analyses.hourly import Params
    from tests.flows import config_for, flow, write_flows

    hour = 360_000  # hundredths of a second
    rows = [flow(1 * hour + i, "192.168.1.2", "8.8.8.8", up=10, down=20) for i in range(3)]
    rows += [flow(5 * hour, "192.168.1.2", "8.8.8.8", up=1, down=2)]
    rows += [flow(5 * hour + i, "192.168.1.10", "8.8.8.8") for i in range(4)]  # 4 flows, like .2: address order
    rows += [flow(7 * hour + i, "192.168.1.9", "8.8.8.8") for i in range(2)]  # third: left out by heatmap_hosts=2
    rows += [flow(2 * hour + i, "8.8.4.4", "192.168.1.2") for i in range(9)]  # an external source: never listed
    path = write_flows(tmp_path / "f.parquet", rows)
    section = pipeline.run(config_for(path, "hourly", hourly=Params(heatmap_hosts=2))).section("hourly")
    hours = section.json()["rows"]
    assert hours[1] == {"hour": 1, "flows": 3, "up_bytes": 30, "down_bytes": 60}
    assert hours[5] == {"hour": 5, "flows": 5, "up_bytes": 401, "down_bytes": 4002}
    busiest = section.json()["host_hours"]
    assert [(r["host"], r["flows"], r["busiest_hour"], r["active_hours"]) for r in busiest] == [
        ("192.168.1.2", 4, 1, 2),
        ("192.168.1.10", 4, 5, 1),
    ]
    assert busiest[0]["hours"][1] == 3 and busiest[0]["hours"][5] == 1 and sum(busiest[1]["hours"]) == 4
    flows_chart, heat = section.charts
    assert [s.unit for s in flows_chart.series] == ["bytes", "bytes"] and flows_chart.series[0].values[1] == 30
    assert heat.kind == "heatmap" and heat.rows == ["192.168.1.2", "192.168.1.10"]
    assert heat.matrix[1][5] == 4.0 and len(heat.matrix[0]) == 24


def test_no_heat_map_when_asked_for_none(tmp_path):
    from sentinel.analyses.hourly import Params
    from tests.flows import config_for, flow, write_flows

    path = write_flows(tmp_path / "f.parquet", [flow(5, "192.168.1.2", "8.8.8.8")])
    section = pipeline.run(config_for(path, "hourly", hourly=Params(heatmap_hosts=0))).section("hourly")
    assert [c.key for c in section.charts] == ["hourly"] and "host_hours" not in section.json()

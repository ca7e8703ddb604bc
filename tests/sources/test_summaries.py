"""The summaries `sentinel import` writes beside each file: used only where they sum exactly the flows read,
and a run gives the same results with or without them."""

import datetime as dt
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sentinel import pipeline
from sentinel.config import Config
from sentinel.context import Context
from sentinel.importer import import_flows
from sentinel.registry import UNITS, default_params
from sentinel.report import json_report
from sentinel.sources.dataset import META_DIR, SUMMARY_DIR, summaries_of, summary_path
from sentinel.sources.summaries import SUMMARIES, SUMMARISED_BYTES, SUMMARISED_ROWS
from tests.flows import flow, write_flows

DAY0 = 1_713_484_800 * 100  # 2024-04-19 00:00 UTC in hundredths


def _parts(dataset):
    return sorted(str(p) for p in dataset.glob("day=*/*.parquet"))


def _used(monkeypatch):
    """The summaries each run's context used (names), one list per run."""
    runs: list[list[str]] = []
    prepare = Context._prepare

    def spy(ctx, geoip):
        prepare(ctx, geoip)
        runs.append(sorted(n for n in SUMMARIES if ctx.summary(n)))

    monkeypatch.setattr(Context, "_prepare", spy)
    return runs


def _report(data, units, **kw):
    report = json_report.to_dict(pipeline.run(Config(data=data, units=units, **kw)))
    return report["analyses"], report["alerts"]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A simulated day with every attack, imported into a dataset of two days (the day twice, a day apart)."""
    from sentinel.simulate import SimulationConfig, simulate, write_simulation

    tmp = tmp_path_factory.mktemp("summaries")
    sim = simulate(SimulationConfig(hosts=60, flows=60_000, seed=9, attacks=True))
    day, _ = write_simulation(sim, tmp / "day.parquet")
    units = {k: default_params(k) for k in UNITS}
    for date in (dt.date(2024, 4, 19), dt.date(2024, 4, 20)):
        import_flows(Config(data=day, units=units, date=date), tmp / "ds", mode="append" if date.day == 20 else "new")
    return tmp / "ds", units


def test_import_writes_every_summary_of_every_file(simulated):
    dataset, _ = simulated
    parts = _parts(dataset)
    assert len(parts) == 2
    found = summaries_of(parts)
    assert sorted(found) == sorted(SUMMARIES)
    for name, files in found.items():
        for part, path in zip(parts, files, strict=True):
            assert path == str(summary_path(part, name))
            meta = pq.ParquetFile(path).metadata
            assert meta.metadata[SUMMARISED_ROWS] == str(pq.ParquetFile(part).metadata.num_rows).encode()
            assert meta.metadata[SUMMARISED_BYTES] == str(Path(part).stat().st_size).encode()
    # the pair summary sums each file's flows
    flows = pq.read_table(parts[0], columns=["src_id", "dst_id", "up_bytes"])
    pairs = pq.read_table(found["pairs"][0])
    assert sum(pairs["flows"].to_pylist()) == flows.num_rows
    assert sum(int(v) for v in pairs["up_bytes"].to_pylist()) == sum(flows["up_bytes"].to_pylist())
    assert pairs.num_rows == len(set(zip(flows["src_id"].to_pylist(), flows["dst_id"].to_pylist(), strict=True)))


def test_every_analysis_and_detector_finds_the_same_with_or_without_summaries(simulated, tmp_path, monkeypatch):
    dataset, units = simulated
    used = _used(monkeypatch)
    summed = _report(str(dataset), units)
    bare = tmp_path / "bare"
    shutil.copytree(dataset, bare)
    shutil.rmtree(bare / META_DIR / SUMMARY_DIR)
    flows = _report(str(bare), units)
    assert used == [sorted(SUMMARIES), []]
    assert summed == flows
    assert {a["type"] for a in flows[1]} >= {"beacon", "scan", "dns_tunnel"}
    # in a zone half an hour off UTC, -td cannot use the summary of UTC hours (its hours would be shifted)
    zoned = _report(str(dataset), units, timezone="Asia/Kolkata")
    assert zoned == _report(str(bare), units, timezone="Asia/Kolkata") and zoned != summed


def test_a_period_reads_the_flows(simulated, monkeypatch):
    dataset, units = simulated
    used = _used(monkeypatch)
    one_day = {"country_volume": units["country_volume"], "hourly": units["hourly"]}
    _report(str(dataset), one_day, since=dt.date(2024, 4, 20))
    assert used == [[]]  # --from/--to filter rows: the summaries of whole files would count others


@pytest.mark.parametrize("damage", ["missing", "other rows", "garbage", "other columns", "file replaced"])
def test_a_summary_not_written_for_exactly_its_file_is_not_used(simulated, tmp_path, monkeypatch, damage):
    dataset, units = simulated
    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    part = _parts(copy)[1]
    path = summary_path(part, "pairs")
    assert path is not None
    others = sorted(set(SUMMARIES) - {"pairs"})
    if damage == "file replaced":  # the same rows written again otherwise: every summary of it is stale
        pq.write_table(pq.read_table(part), part, compression="snappy")
        others = []
    elif damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"PAR1 not a summary")
    else:
        table = pq.read_table(path)
        if damage == "other rows":
            table = table.replace_schema_metadata({SUMMARISED_ROWS: b"12"})
        else:
            table = table.drop_columns(["last_ts"])
        pq.write_table(table, path)
    assert sorted(summaries_of(_parts(copy))) == others
    used = _used(monkeypatch)
    assert _report(str(copy), units) == _report(str(dataset), units)
    assert used == [others, sorted(SUMMARIES)]


def test_byte_sums_beyond_bigint_stay_exact(tmp_path):
    big = 2**62
    rows = [flow(DAY0 + 100 * i, "192.168.1.5", "8.8.8.8", up=big, down=big + i) for i in range(3)]
    rows += [flow(DAY0 + 100 * i, "192.168.1.6", "1.1.1.1", port=53, proto="udp", up=big, down=1) for i in range(2)]
    src = write_flows(tmp_path / "day.parquet", rows)
    units = {k: default_params(k) for k in ("country_volume", "hourly", "dns")}
    import_flows(Config(data=src, units=units), tmp_path / "ds")
    assert sorted(summaries_of(_parts(tmp_path / "ds"))) == sorted(SUMMARIES)
    pairs = pq.read_table(summary_path(_parts(tmp_path / "ds")[0], "pairs"))
    assert sorted(int(v) for v in pairs["up_bytes"].to_pylist()) == [2 * big, 3 * big]
    assert _report(str(tmp_path / "ds"), units)[0] == _report(src, units)[0]


def test_an_append_gives_earlier_files_their_missing_summaries(tmp_path):
    """A dataset imported before summaries existed (or cut short while writing them) is completed by the next
    append."""
    units = {"hourly": default_params("hourly")}
    first = write_flows(tmp_path / "a.parquet", [flow(DAY0 + i, "192.168.1.5", "8.8.8.8") for i in range(5)])
    next_day = [flow(DAY0 + 8_640_000 + i, "192.168.1.6", "1.1.1.1") for i in range(5)]
    second = write_flows(tmp_path / "b.parquet", next_day)
    dataset = tmp_path / "ds"
    import_flows(Config(data=first, units=units), dataset)
    (old,) = _parts(dataset)
    shutil.rmtree(dataset / META_DIR / SUMMARY_DIR)
    assert summaries_of([old]) == {}
    import_flows(Config(data=second, units=units), dataset, mode="append")
    parts = _parts(dataset)
    assert len(parts) == 2 and sorted(summaries_of(parts)) == sorted(SUMMARIES)


class _FooterEngine:
    """Stands for Spark in remote_scans' use of footers: lists a dataset's files named by file:// URI and
    copies a footer as SparkEngine.copy_footer does (the bytes after the data, framed as a Parquet file)."""

    def __init__(self, copies: bool = True):
        if not copies:  # Spark Connect: no JVM on the driver to copy footers with
            self.copy_footer = None

    @staticmethod
    def _path(uri: str) -> Path:
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        return Path(url2pathname(urlparse(uri).path))

    def parquet_files(self, uri: str) -> list[str]:
        return [f"file://{p}" for p in _parts(self._path(uri))]  # as Spark lists them: "day=", not "day%3D"

    def copy_footer(self, uri: str, to: Path) -> int | None:
        path = self._path(uri)
        if not path.is_file():
            return None
        data = path.read_bytes()
        length = int.from_bytes(data[-8:-4], "little")
        to.write_bytes(b"PAR1" + data[-8 - length :])
        return len(data)


def _remote_scan(engine, dataset):
    from sentinel.sources.base import Scan
    from sentinel.sources.remote import _with_footers

    return _with_footers(engine, Scan(format="canonical", files=(f"file://{dataset}",), sql="-", address_table="t"))


def test_a_dataset_named_by_uri_is_proven_clean_and_finds_its_summaries_through_its_footers(simulated):
    dataset, _ = simulated
    scan = _remote_scan(_FooterEngine(), dataset)
    parts = _parts(dataset)
    local = summaries_of(parts)
    assert scan.proven_clean and scan.rows == sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    assert scan.first_ts is not None and scan.last_ts is not None and scan.first_ts < scan.last_ts
    assert {n: [Path(u.removeprefix("file://")) for u in f] for n, f in scan.summaries.items()} == {
        n: [Path(f) for f in files] for n, files in local.items()
    }
    assert sorted(scan.summaries) == sorted(SUMMARIES)


@pytest.mark.parametrize("damage", ["no footer copies", "summary of another file", "summary missing", "part cut"])
def test_what_a_uris_footers_do_not_prove_is_read_from_the_flows(simulated, tmp_path, damage):
    dataset, _ = simulated
    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    first, second = _parts(copy)
    edges = summary_path(first, "edges")
    assert edges is not None
    others = sorted(set(SUMMARIES) - {"edges"})
    if damage == "summary of another file":
        edges.write_bytes(summary_path(second, "edges").read_bytes())  # type: ignore[union-attr]
    elif damage == "summary missing":
        edges.unlink()
    elif damage == "part cut":  # its footer unreadable: nothing is proven about it, nor summed
        Path(first).write_bytes(Path(first).read_bytes()[:-100])
    scan = _remote_scan(_FooterEngine(copies=damage != "no footer copies"), copy)
    if damage in ("no footer copies", "part cut"):
        assert not scan.proven_clean and scan.rows is None and dict(scan.summaries) == {}
    else:
        assert scan.proven_clean and sorted(scan.summaries) == others


def test_a_uris_footers_give_the_day_relative_mark_and_say_when_it_is_mixed(tmp_path):
    """Course times imported without --date read back day-relative; a dataset that mixes them with dated
    imports is read with absolute times and says so, as local files are (sentinel.sources.base.MIXED_CLOCKS)."""
    from sentinel.sources.base import MIXED_CLOCKS

    day = write_flows(tmp_path / "day.parquet", [flow(100 * i, "192.168.1.2", "8.8.8.8") for i in range(50)])
    import_flows(Config(data=str(day)), tmp_path / "relative")
    relative = _remote_scan(_FooterEngine(), tmp_path / "relative")
    assert relative.proven_clean and relative.relative_time and MIXED_CLOCKS not in relative.notes
    import_flows(Config(data=str(day), date=dt.date(2024, 4, 19)), tmp_path / "relative", mode="append")
    mixed = _remote_scan(_FooterEngine(), tmp_path / "relative")
    assert mixed.proven_clean and not mixed.relative_time and MIXED_CLOCKS in mixed.notes
    local = pipeline.run(Config(data=str(tmp_path / "relative")))
    assert MIXED_CLOCKS in local.notes  # the local read of the same files says the same

"""sentinel import: a canonical dataset partitioned by day that reads back to the same analyses."""

import datetime as dt
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sentinel import pipeline
from sentinel.cli import main
from sentinel.config import Config
from sentinel.errors import ExitStatus, OutputError
from sentinel.importer import import_flows
from sentinel.registry import default_params
from sentinel.report import json_report
from tests.flows import flow, write_flows

UNITS = ("country_volume", "hourly", "exfiltration", "botnet")
DAY0 = 1_713_484_800 * 100  # 2024-04-19 00:00 UTC in hundredths (read as epoch hundredths)


def _config(data, **kw):
    return Config(data=data, units={k: default_params(k) for k in UNITS}, **kw)


def _capture(path, bad=0):
    rows = [
        flow(DAY0 + d * 8_640_000 + 1000 * i, f"192.168.1.{i % 9 + 1}", f"8.8.{i % 4}.{i % 3}", up=i, down=3 * i)
        for d in range(3)
        for i in range(40)
    ]
    rows += [flow(DAY0 + 5, "192.168.1.2", "8.8.8.8", up=-1)] * bad
    return write_flows(path, rows)


def _analyses(report):
    return json_report.to_dict(report)["analyses"]


def test_import_writes_day_partitions_sorted_by_time_and_reads_back_the_same(tmp_path):
    src = _capture(tmp_path / "day.parquet", bad=2)
    result = import_flows(_config(src), tmp_path / "ds")
    assert result.days == ["2024-04-19", "2024-04-20", "2024-04-21"]
    assert (result.rows, result.flows, result.rejected_rows) == (122, 120, 2)
    files = sorted((tmp_path / "ds").glob("day=*/*.parquet"))
    assert len(files) == 3
    for f in files:
        ts = pq.read_table(f, columns=["ts"])["ts"].to_pylist()
        assert ts == sorted(ts)
        assert pq.ParquetFile(f).metadata.row_group(0).column(0).compression == "ZSTD"
    record = json.loads(result.accounting.read_text())
    assert record["rejected_by_reason"] == {"missing or negative bytes": 2}
    direct = pipeline.run(_config(src))
    again = pipeline.run(_config(str(tmp_path / "ds")))
    assert _analyses(again) == _analyses(direct)
    assert again.input.flows == 120 and again.input.format == "canonical"


def test_from_and_to_prune_day_partitions(tmp_path):
    import_flows(_config(_capture(tmp_path / "day.parquet")), tmp_path / "ds")
    report = pipeline.run(_config(str(tmp_path / "ds"), since=dt.date(2024, 4, 20), until=dt.date(2024, 4, 20)))
    assert report.input.flows == 40
    assert len(report.input.sources) == 1 and "day=2024-04-20" in report.input.sources[0]


def test_course_times_of_an_unknown_day_stay_day_relative(tmp_path):
    src = write_flows(tmp_path / "d.parquet", [flow(360_000, "192.168.1.2", "8.8.8.8")])
    import_flows(_config(src), tmp_path / "ds")
    assert pipeline.run(_config(str(tmp_path / "ds"))).input.first_seen.text() == "+01:00:00.00"


def test_nothing_is_overwritten_or_mixed_in_without_being_asked(tmp_path):
    src = _capture(tmp_path / "day.parquet")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not empty"):
        import_flows(_config(src), tmp_path / "mine")
    with pytest.raises(OutputError, match="not a Sentinel dataset"):
        import_flows(_config(src), tmp_path / "mine", mode="replace")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    import_flows(_config(src), tmp_path / "ds")
    with pytest.raises(OutputError, match="not empty"):
        import_flows(_config(src), tmp_path / "ds")
    import_flows(_config(src), tmp_path / "ds", mode="append")
    assert pipeline.run(_config(str(tmp_path / "ds"))).input.flows == 240
    import_flows(_config(src), tmp_path / "ds", mode="replace")
    assert pipeline.run(_config(str(tmp_path / "ds"))).input.flows == 120
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_cli_import_and_errors(tmp_path, capsys):
    src = _capture(tmp_path / "day.parquet")
    assert main(["import", str(src), "--to", str(tmp_path / "ds")]) == ExitStatus.OK
    assert "imported 120 of 120 rows" in capsys.readouterr().err
    assert main(["import", str(src), "--to", str(tmp_path / "ds")]) == ExitStatus.OUTPUT
    assert main(["import", str(src), "--to", str(tmp_path / "x"), "--append", "--force"]) == ExitStatus.USAGE
    assert main(["import", str(tmp_path / "nope.parquet"), "--to", str(tmp_path / "y")]) == ExitStatus.INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "Traceback" not in err
    assert not (tmp_path / "y").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--threads", "99999"], "--threads: 99999 is more than"),
        (["--memory-limit", ""], "--memory-limit: the value is empty"),
        (["--date", "20240101"], "--date: '20240101' is not a date in YYYY-MM-DD form"),
        (["--format", "nosuch"], "--format"),
        (["--map", "bogus=x"], "--map: 'bogus' is not a canonical column"),
    ],
)
def test_import_refuses_what_the_analysis_refuses(tmp_path, capsys, extra, message):
    src = _capture(tmp_path / "day.parquet")
    for argv in (["import", str(src), "--to", str(tmp_path / "ds")], ["--data", str(src)]):
        assert main([*argv, *extra]) == ExitStatus.USAGE
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not (tmp_path / "ds").exists()


def _ids_and_addresses(dataset):
    from sentinel.sources.dataset import address_table_path

    flows = pq.read_table(sorted(dataset.glob("day=*/*.parquet")))
    addresses = pq.read_table(address_table_path(dataset))
    return flows, dict(zip(addresses["id"].to_pylist(), addresses["ip"].to_pylist(), strict=True))


def test_each_flow_gets_the_ids_of_its_addresses_and_appends_never_renumber(tmp_path):
    first = _capture(tmp_path / "a.parquet")
    more = [flow(DAY0 + 7, "192.168.1.2", "9.9.9.9"), flow(DAY0, "10.0.0.1", "8.8.0.0")]
    later = write_flows(tmp_path / "b.parquet", more)
    import_flows(_config(first), tmp_path / "ds")
    _, before = _ids_and_addresses(tmp_path / "ds")
    import_flows(_config(later), tmp_path / "ds", mode="append")
    flows, after = _ids_and_addresses(tmp_path / "ds")
    assert after.items() >= before.items()  # old ids kept
    assert set(after) == set(range(len(after))) and len(set(after.values())) == len(after)
    assert set(after.values()) - set(before.values()) == {"9.9.9.9", "10.0.0.1"}
    assert [after[i] for i in flows["src_id"].to_pylist()] == flows["src_ip"].to_pylist()
    assert [after[i] for i in flows["dst_id"].to_pylist()] == flows["dst_ip"].to_pylist()
    assert json.loads(sorted((tmp_path / "ds" / "_sentinel").glob("import-*.json"))[-1].read_text())["address_ids"]


def test_a_dataset_imported_before_ids_keeps_its_layout_when_appended_to(tmp_path):
    from sentinel.sources.dataset import address_table_path

    src = _capture(tmp_path / "day.parquet")
    import_flows(_config(src), tmp_path / "ds")
    address_table_path(tmp_path / "ds").unlink()
    for part in (tmp_path / "ds").glob("day=*/*.parquet"):  # as an import before ids wrote it
        pq.write_table(pq.read_table(part).drop_columns(["src_id", "dst_id"]), part)
    import_flows(_config(src), tmp_path / "ds", mode="append")
    assert not address_table_path(tmp_path / "ds").exists()
    assert all("src_id" not in pq.read_schema(p).names for p in (tmp_path / "ds").glob("day=*/*.parquet"))
    assert pipeline.run(_config(str(tmp_path / "ds"))).input.flows == 240


def test_a_run_keyed_by_ids_finds_what_a_run_on_the_texts_finds(tmp_path, monkeypatch):
    """Every analysis and detector, on a simulated day with every attack: the same tables and alerts whether
    the flows are read from the course file (texts) or from the dataset (ids)."""
    from sentinel.context import Context
    from sentinel.registry import UNITS as ALL
    from sentinel.simulate import SimulationConfig, simulate, write_simulation

    sim = simulate(SimulationConfig(hosts=60, flows=80_000, seed=4, attacks=True))
    day, _ = write_simulation(sim, tmp_path / "day.parquet")
    config = Config(data=day, units={k: default_params(k) for k in ALL}, date=dt.date(2024, 4, 19))
    import_flows(config, tmp_path / "ds")
    direct = json_report.to_dict(pipeline.run(config))
    keys = []
    prepare = Context._prepare
    monkeypatch.setattr(Context, "_prepare", lambda ctx, geoip: (prepare(ctx, geoip), keys.append(ctx.keys.ids)))
    keyed = json_report.to_dict(pipeline.run(Config(data=str(tmp_path / "ds"), units=config.units)))
    assert keys == [True]  # the dataset's run was keyed by ids
    assert keyed["analyses"] == direct["analyses"]
    assert keyed["alerts"] == direct["alerts"] and {a["type"] for a in direct["alerts"]} >= {"beacon", "scan"}


def test_files_with_ids_but_not_as_the_importer_writes_them_are_read_by_their_texts(tmp_path):
    """A hand-made file in a dataset's layout, with an address spelled two ways under two ids: the run reads
    the texts (one host, as everywhere else), not the ids."""
    import pyarrow as pa

    from sentinel import schema
    from sentinel.sources.dataset import ADDRESS_SCHEMA, address_table_path

    texts = ["192.168.1.2", "192.168.001.002", "8.8.8.8"]
    rows = [(DAY0 * 10_000 + i, texts[i % 2], texts[2]) for i in range(6)]
    columns = {
        "ts": [r[0] for r in rows],
        "src_ip": [r[1] for r in rows],
        "dst_ip": [r[2] for r in rows],
        "proto": ["tcp"] * 6,
        "port": [443] * 6,
        "up_bytes": [100] * 6,
        "down_bytes": [1000] * 6,
    }
    plain = pa.table(columns, schema=schema.arrow_schema())
    (tmp_path / "ds" / "day=2024-04-19").mkdir(parents=True)
    address_table_path(tmp_path / "ds").parent.mkdir()
    pq.write_table(pa.table({"id": [0, 1, 2], "ip": texts}, schema=ADDRESS_SCHEMA), address_table_path(tmp_path / "ds"))
    ids = {"src_id": pa.array([i % 2 for i in range(6)], pa.int32()), "dst_id": pa.array([2] * 6, pa.int32())}
    with_ids = plain.append_column("src_id", ids["src_id"]).append_column("dst_id", ids["dst_id"])
    pq.write_table(with_ids, tmp_path / "ds" / "day=2024-04-19" / "part-1.parquet")
    pq.write_table(plain, tmp_path / "plain.parquet")
    keyed = pipeline.run(_config(str(tmp_path / "ds")))
    direct = pipeline.run(_config(str(tmp_path / "plain.parquet")))
    assert _analyses(keyed) == _analyses(direct)
    assert any("non-canonical form were read as one host" in note for note in keyed.notes)


@pytest.mark.parametrize(
    "damage, why",
    [
        (lambda path: path.write_bytes(b"not parquet"), "is not a readable address table"),
        (lambda path: pq.write_table(pa.table({"x": [1]}), path), "has no id (int32) and ip columns"),
        (
            lambda path: pq.write_table(pa.table({"id": pa.array([5], pa.int32()), "ip": ["8.8.8.8"]}), path),
            "numbers its 1 addresses 5..5, not 0..0",
        ),
        (
            lambda path: pq.write_table(pa.table({"id": pa.array([0], pa.int32()), "ip": ["8.8.8.8"]}), path),
            "does not name every address id of the files",
        ),
    ],
)
def test_a_damaged_address_table_is_said_and_the_texts_are_read(tmp_path, damage, why):
    from sentinel.sources.dataset import address_table_path

    import_flows(_config(_capture(tmp_path / "day.parquet")), tmp_path / "ds")
    intact = pipeline.run(_config(str(tmp_path / "ds")))
    damage(address_table_path(tmp_path / "ds"))
    damaged = pipeline.run(_config(str(tmp_path / "ds")))
    assert _analyses(damaged) == _analyses(intact)
    (note,) = [n for n in damaged.notes if "address" in n]
    assert note.startswith(f"{address_table_path(tmp_path / 'ds')} {why}")  # the reader's reason may follow
    assert note.endswith(": the dataset was read by its address texts.")


def test_appending_to_a_dataset_whose_address_table_is_damaged_is_refused(tmp_path, capsys):
    from sentinel.sources.dataset import address_table_path

    src = _capture(tmp_path / "day.parquet")
    import_flows(_config(src), tmp_path / "ds")
    address_table_path(tmp_path / "ds").write_bytes(b"not parquet")
    before = sorted(p.name for p in (tmp_path / "ds").rglob("*"))
    assert main(["import", str(src), "--to", str(tmp_path / "ds"), "--append"]) == ExitStatus.OUTPUT
    err = capsys.readouterr().err
    assert "is not a readable address table" in err and "refusing to append" in err and err.count("\n") == 1
    assert sorted(p.name for p in (tmp_path / "ds").rglob("*")) == before


@pytest.mark.parametrize("failing", ["PARTITION_BY", "GROUP BY"])  # the flows' files, their summaries
def test_a_failed_write_is_the_outputs_error_and_leaves_nothing(tmp_path, capsys, monkeypatch, failing):
    """Disk full while writing the files or their summaries: one line naming the dataset, exit status 5."""
    import duckdb

    from sentinel.engines.duckdb_engine import DuckDBEngine

    src = _capture(tmp_path / "day.parquet")
    execute = DuckDBEngine.execute

    def full(self, sql, params=None):
        if "COPY" in sql and failing in sql:
            raise duckdb.IOException("Could not write file: No space left on device")
        return execute(self, sql, params)

    monkeypatch.setattr(DuckDBEngine, "execute", full)
    assert main(["import", str(src), "--to", str(tmp_path / "ds"), "-q"]) == ExitStatus.OUTPUT
    err = capsys.readouterr().err.strip()
    why = "Could not write file: No space left on device"
    assert err == f"sentinel: error: {tmp_path / 'ds'}: cannot write the dataset ({why})"
    assert not (tmp_path / "ds").exists() and [p.name for p in tmp_path.iterdir()] == ["day.parquet"]


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _layout(dataset):
    """A dataset's files but those an append may leave changed: the address table (it only grows) and the
    appends' lock file (empty)."""
    return [f for f in _files(dataset) if not f.endswith(("addresses.parquet", ".append.lock"))]


@pytest.mark.parametrize("failing", ["PARTITION_BY", "GROUP BY", "accounting", "commit"])
def test_a_failed_append_leaves_the_dataset_as_it_was_and_a_retry_counts_each_flow_once(
    tmp_path, capsys, monkeypatch, failing
):
    """Disk full (or Ctrl-C) while appending, at any step: the dataset reads as before (no flow of the failed
    import, so retrying it does not count them twice), the error names the dataset, exit status 5."""
    import duckdb

    import sentinel.importer as importer
    from sentinel.engines.duckdb_engine import DuckDBEngine

    first = _capture(tmp_path / "a.parquet")
    day9 = [flow(DAY0 + 9 * 8_640_000 + i, "192.168.1.2", "9.9.9.9") for i in range(7)]
    later = write_flows(tmp_path / "b.parquet", day9)
    ds = tmp_path / "ds"
    import_flows(_config(first), ds)
    before = _analyses(pipeline.run(_config(str(ds))))
    layout = _layout(ds)
    full = OSError(28, "No space left on device")
    execute, replace, write_text = DuckDBEngine.execute, os.replace, Path.write_text
    with monkeypatch.context() as m:
        if failing in ("PARTITION_BY", "GROUP BY"):

            def copy(self, sql, params=None):
                if "COPY" in sql and failing in sql:
                    raise duckdb.IOException("Could not write file: No space left on device")
                return execute(self, sql, params)

            m.setattr(DuckDBEngine, "execute", copy)
        elif failing == "accounting":

            def text(self, *args, **kwargs):
                if self.name.startswith("import-"):
                    raise full
                return write_text(self, *args, **kwargs)

            m.setattr(Path, "write_text", text)
        else:  # the last move into the dataset: its accounting record

            def move(src, dst):
                if "import-" in os.fspath(dst) and os.fspath(dst).startswith(str(ds / "_sentinel")):
                    raise full
                return replace(src, dst)

            m.setattr(importer.os, "replace", move)
        assert main(["import", str(later), "--to", str(ds), "--append", "-q"]) == ExitStatus.OUTPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"sentinel: error: {ds}: cannot write the dataset (") and "No space left" in err, err
    assert _layout(ds) == layout
    assert _analyses(pipeline.run(_config(str(ds)))) == before
    assert main(["import", str(later), "--to", str(ds), "--append", "-q"]) == ExitStatus.OK
    assert pipeline.run(_config(str(ds))).input.flows == 120 + 7


def test_ctrl_c_while_an_append_moves_its_files_in_waits_for_the_last(tmp_path, monkeypatch):
    """The moves into the dataset are a moment: a Ctrl-C among them is ignored, and the import completes."""
    import signal

    import sentinel.importer as importer

    ds = tmp_path / "ds"
    import_flows(_config(_capture(tmp_path / "a.parquet")), ds)
    later = write_flows(tmp_path / "b.parquet", [flow(DAY0 + 9 * 8_640_000, "192.168.1.2", "9.9.9.9")])
    replace, sent = os.replace, []

    def move(src, dst):
        if not sent and "day=" in os.fspath(dst) and ".incoming-" not in os.fspath(dst):
            sent.append(os.kill(os.getpid(), signal.SIGINT))  # delivered before the next bytecode
        return replace(src, dst)

    monkeypatch.setattr(importer.os, "replace", move)
    result = import_flows(_config(later), ds, mode="append")
    assert sent and result.accounting.is_file()
    assert pipeline.run(_config(str(ds))).input.flows == 121
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_one_append_at_a_time_and_what_a_killed_one_left_is_cleared(tmp_path, capsys):
    """Two appends at once would number new addresses from the same table: the second is refused in one
    line. A killed append's folder (under _sentinel/) changes no run, and the next append removes it."""
    import fcntl

    ds = tmp_path / "ds"
    import_flows(_config(_capture(tmp_path / "a.parquet")), ds)
    before = _analyses(pipeline.run(_config(str(ds))))
    later = write_flows(tmp_path / "b.parquet", [flow(DAY0 + 9 * 8_640_000, "192.168.1.2", "9.9.9.9")])
    stale = ds / "_sentinel" / ".incoming-20240101T000000Z-abcdef" / "day=2024-04-28"
    stale.mkdir(parents=True)
    (stale / "part-x.parquet").write_bytes((next(ds.glob("day=*/*.parquet"))).read_bytes())
    assert _analyses(pipeline.run(_config(str(ds)))) == before
    with (ds / "_sentinel" / ".append.lock").open("a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another import, appending now
        assert main(["import", str(later), "--to", str(ds), "--append", "-q"]) == ExitStatus.OUTPUT
    err = capsys.readouterr().err.strip()
    assert err == f"sentinel: error: {ds}: another import is appending to it; run this one after it"
    assert stale.is_dir() and _analyses(pipeline.run(_config(str(ds)))) == before
    assert main(["import", str(later), "--to", str(ds), "--append", "-q"]) == ExitStatus.OK
    assert not stale.parent.exists() and pipeline.run(_config(str(ds))).input.flows == 121


def test_an_append_may_start_a_dataset_and_one_that_fails_leaves_no_folder(tmp_path, capsys):
    ds = tmp_path / "new"
    assert main(["import", str(tmp_path / "missing.parquet"), "--to", str(ds), "--append", "-q"]) == ExitStatus.INPUT
    assert not ds.exists()
    assert main(["import", str(_capture(tmp_path / "a.parquet")), "--to", str(ds), "--append", "-q"]) == 0
    assert pipeline.run(_config(str(ds))).input.flows == 120

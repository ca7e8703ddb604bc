"""The Spark JVM's options: the class-data archive's life cycle in the cache, and the collector."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sentinel.engines import spark_jvm
from sentinel.engines.spark_jvm import DYNAMIC_MAGIC, STALE_PART_S, UNUSED_ARCHIVE_S, archive_options

KEY = "0123456789abcdef"
NOW = 2_000_000_000.0


def _write(path: Path, complete: bool, mtime: float = NOW) -> Path:
    path.write_bytes((DYNAMIC_MAGIC if complete else b"\0\0\0\0") + b"classes")
    os.utime(path, (mtime, mtime))
    return path


def _final(directory: Path, key: str = KEY) -> Path:
    return directory / f"spark-classes-{key}.jsa"


@pytest.mark.parametrize(
    ("master", "cores"),
    [
        ("local", 1),
        ("local[2]", 2),
        ("local[3, 2]", 3),
        ("local[*]", os.cpu_count()),
        ("spark://host:7077", None),
        ("yarn", None),
        ("localhost", None),
        (None, None),
    ],
)
def test_local_cores(master, cores):
    assert spark_jvm.local_cores(master) == cores


def test_serial_collector_only_for_local_on_two_cores_or_fewer():
    assert spark_jvm.collector("local[2]") == ["-XX:+UseSerialGC"]
    assert spark_jvm.collector("local[16]") == []
    assert spark_jvm.collector("spark://host:7077") == []
    assert spark_jvm.collector(None) == []


@pytest.mark.parametrize(
    ("master", "memory", "initial"),
    [
        ("local[2]", "2g", "-Xms2048m"),
        ("local[*]", "1536M", "-Xms1536m"),
        ("local", "524288kb", "-Xms512m"),
        # a driver memory beyond the machine's must not stop the JVM from starting: at most 2 GB up front
        ("local[2]", "64g", "-Xms2048m"),
    ],
)
def test_a_local_jvm_starts_with_its_heap(master, memory, initial):
    assert spark_jvm.heap(master, memory) == [initial, f"-XX:MetaspaceSize={spark_jvm.METASPACE}"]


@pytest.mark.parametrize(("master", "memory"), [("spark://host:7077", "2g"), (None, "2g"), ("local[2]", "lots")])
def test_a_cluster_or_an_unreadable_size_leaves_the_heap_to_the_jvm(master, memory):
    assert spark_jvm.heap(master, memory) == []


def test_first_launch_writes_an_archive_of_its_own(tmp_path):
    directory = tmp_path / "spark"
    [option] = archive_options(directory, KEY, NOW)
    name, _, path = option.partition("=")
    assert name == "-XX:ArchiveClassesAtExit"
    assert Path(path).parent == directory and directory.is_dir()
    assert Path(path).name.startswith(f"spark-classes-{KEY}.") and path.endswith(".part")
    # another launch at the same time would write the same name otherwise
    assert archive_options(tmp_path / "other", KEY, NOW) != [option]


def test_complete_part_is_moved_into_place_and_mapped(tmp_path):
    part = _write(tmp_path / f"spark-classes-{KEY}.abc.part", complete=True, mtime=NOW - 5)
    assert archive_options(tmp_path, KEY, NOW) == [f"-XX:SharedArchiveFile={_final(tmp_path)}"]
    assert not part.exists() and spark_jvm.is_complete(_final(tmp_path))
    assert _final(tmp_path).stat().st_mtime == NOW  # marked as used


def test_parts_of_two_first_runs_at_once_leave_one_archive(tmp_path):
    for name in ("a", "b"):
        _write(tmp_path / f"spark-classes-{KEY}.{name}.part", complete=True, mtime=NOW - 5)
    assert archive_options(tmp_path, KEY, NOW) == [f"-XX:SharedArchiveFile={_final(tmp_path)}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [_final(tmp_path).name]
    # and one finished after the archive was in place goes at the next launch
    _write(tmp_path / f"spark-classes-{KEY}.c.part", complete=True, mtime=NOW - 5)
    assert archive_options(tmp_path, KEY, NOW) == [f"-XX:SharedArchiveFile={_final(tmp_path)}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [_final(tmp_path).name]


def test_part_being_written_is_left_alone_and_no_second_one_started(tmp_path):
    part = _write(tmp_path / f"spark-classes-{KEY}.abc.part", complete=False, mtime=NOW - 60)
    assert archive_options(tmp_path, KEY, NOW) == []
    assert part.exists()


def test_part_of_a_killed_jvm_is_removed_and_written_again(tmp_path):
    part = _write(tmp_path / f"spark-classes-{KEY}.abc.part", complete=False, mtime=NOW - STALE_PART_S - 1)
    [option] = archive_options(tmp_path, KEY, NOW)
    assert option.startswith("-XX:ArchiveClassesAtExit=") and not part.exists()


def test_broken_archive_is_replaced(tmp_path):
    broken = _write(_final(tmp_path), complete=False)
    [option] = archive_options(tmp_path, KEY, NOW)
    assert option.startswith("-XX:ArchiveClassesAtExit=") and not broken.exists()


def test_archives_of_other_installations_go_once_unused_for_a_month(tmp_path):
    _write(_final(tmp_path), complete=True, mtime=NOW - 10)
    old = _write(_final(tmp_path, "1" * 16), complete=True, mtime=NOW - UNUSED_ARCHIVE_S - 1)
    recent = _write(_final(tmp_path, "2" * 16), complete=True, mtime=NOW - UNUSED_ARCHIVE_S + 60)
    assert archive_options(tmp_path, KEY, NOW) == [f"-XX:SharedArchiveFile={_final(tmp_path)}"]
    assert not old.exists() and recent.exists()


def test_paths_spark_submit_would_split_are_not_used(tmp_path):
    assert archive_options(tmp_path / "my cache", KEY, NOW) == []
    assert archive_options(tmp_path / "it's", KEY, NOW) == []


def test_unwritable_cache_means_no_archive(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert archive_options(blocker / "spark", KEY, NOW) == []


def test_switched_off_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTINEL_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(spark_jvm, "installation_key", lambda: KEY)
    monkeypatch.setenv(spark_jvm.ARCHIVE_ENV, "0")
    assert spark_jvm.java_options("local[2]") == ["-XX:+UseSerialGC"]
    assert spark_jvm.java_options("local[2]", "2g") == ["-XX:+UseSerialGC", *spark_jvm.heap("local[2]", "2g")]
    monkeypatch.setenv(spark_jvm.ARCHIVE_ENV, "1")
    options = spark_jvm.java_options("spark://host:7077")
    assert len(options) == 1 and options[0].startswith(f"-XX:ArchiveClassesAtExit={tmp_path / 'spark'}")


def test_installation_key_follows_java_home(tmp_path, monkeypatch):
    pytest.importorskip("pyspark")
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    first = spark_jvm.installation_key()
    java.write_text("#!/bin/sh\n# upgraded\n")
    assert first is not None and spark_jvm.installation_key() not in {None, first}
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "none"))
    assert spark_jvm.installation_key() is None

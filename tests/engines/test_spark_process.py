"""Spark as users run it: a `sentinel` process with `--engine spark` (its JVM's start-up lines kept off
Sentinel's output), and Spark Connect (SPARK_REMOTE) against a server started from the pyspark package."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sentinel.simulate import SimulationConfig, simulate, write_simulation
from tests.conftest import _spark_unavailable

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    sim = simulate(SimulationConfig(hosts=60, flows=150_000, seed=5, attacks=True))
    path, _ = write_simulation(sim, tmp_path_factory.mktemp("spark-process") / "day.parquet")
    return path


def _needs_spark() -> None:
    reason = _spark_unavailable()
    if reason:
        if os.environ.get("SENTINEL_REQUIRE_SPARK"):
            pytest.fail(reason)
        pytest.skip(reason)


def _sentinel(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentinel", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def _without_time(report: dict) -> dict:
    report.pop("generated_at")
    return report


def test_spark_process_prints_only_what_sentinel_says(day):
    """`-q` prints nothing and `--json -` only JSON: Spark's JVM start-up lines go to a log of their own."""
    _needs_spark()
    done = _sentinel(["--data", str(day), "--engine", "spark", "--json", "-", "-q"])
    assert done.returncode == 0 and done.stderr == "", done.stderr
    spark = json.loads(done.stdout)
    duck = json.loads(_sentinel(["--data", str(day), "--json", "-", "-q"]).stdout)
    assert _without_time(spark) == _without_time(duck)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server on a free local port, from the pyspark package's own scripts; stopped after."""
    _needs_spark()
    try:
        import grpc  # noqa: F401  (pyspark[connect], in the spark extra)
    except ImportError:
        if os.environ.get("SENTINEL_REQUIRE_SPARK"):
            pytest.fail("Spark Connect needs pyspark[connect] (pip install -e '.[test,spark]')")
        pytest.skip("Spark Connect needs pyspark[connect] (pip install -e '.[test,spark]')")
    import pyspark

    home = Path(pyspark.__file__).parent
    # The free port is found before the server binds it: another process may take it in between (seen in
    # CI: BindException). Such an attempt is given up at once and the server started again on another port.
    for _attempt in range(3):
        logs = tmp_path_factory.mktemp("spark-connect")
        port = _free_port()
        env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(logs), "SPARK_PID_DIR": str(logs)}
        start = home / "sbin" / "start-connect-server.sh"
        subprocess.run(
            ["bash", str(start), "--master", "local[2]", "--conf", f"spark.connect.grpc.binding.port={port}"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        if _listening(port, logs):
            break
        subprocess.run(["bash", str(home / "sbin" / "stop-connect-server.sh")], env=env, timeout=120)
    else:
        pytest.fail(f"the Spark Connect server did not listen (three ports tried): see {logs}")
    try:
        yield f"sc://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(home / "sbin" / "stop-connect-server.sh")], env=env, timeout=120)


def _listening(port: int, logs: Path) -> bool:
    """Whether the server listens on `port` within 120 s; False at once when its log says the port was taken."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        if any("BindException" in f.read_text(errors="replace") for f in logs.glob("*.out")):
            return False
        time.sleep(0.5)
    return False


def test_spark_connect_gives_the_same_report(day, connect_server):
    remote = _sentinel(["--data", str(day), "--engine", "spark", "--json", "-", "-q"], {"SPARK_REMOTE": connect_server})
    assert remote.returncode == 0 and remote.stderr == "", remote.stderr
    duck = json.loads(_sentinel(["--data", str(day), "--json", "-", "-q"]).stdout)
    assert _without_time(json.loads(remote.stdout)) == _without_time(duck)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads which files the JVM mapped from /proc")
def test_class_archive_written_after_first_run_then_mapped(day, tmp_path):
    """The first run's JVM writes the class archive as it exits (after Sentinel's process ended); the next
    JVM Sentinel starts maps it."""
    _needs_spark()
    env = {"SENTINEL_CACHE_DIR": str(tmp_path), "SENTINEL_SPARK_CLASS_ARCHIVE": "1"}
    first = _sentinel(["--data", str(day), "--engine", "spark", "-cv", "-q"], env)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    folder = tmp_path / "spark"
    deadline = time.monotonic() + 180
    from sentinel.engines.spark_jvm import is_complete

    while not any(is_complete(p) for p in folder.glob("*.part")) and time.monotonic() < deadline:
        time.sleep(0.5)
    [part] = folder.glob("*.part")
    assert is_complete(part), "no complete class archive 180 s after the run"
    script = (
        "from pyspark import SparkContext; from sentinel.engines.spark_engine import SparkEngine; "
        "SparkEngine('local[1]'); print(open(f'/proc/{SparkContext._gateway.proc.pid}/maps').read())"
    )
    second = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )
    assert second.returncode == 0, second.stderr
    [archive] = folder.glob("*.jsa")
    assert not list(folder.glob("*.part"))
    assert str(archive) in second.stdout  # the JVM mapped it

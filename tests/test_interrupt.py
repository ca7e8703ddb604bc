"""Ctrl-C at any moment: exit 130 (or 0 if the run had finished) within seconds, one line, nothing half written."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from sentinel import interrupt
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.simulate import SimulationConfig, simulate, write_simulation

DEADLINE_S = 3.0  # from SIGINT to exit; measured: at most 0.7 s on a loaded 2-core machine


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    sim = simulate(SimulationConfig(flows=50_000, attacks=True))
    path, _ = write_simulation(sim, tmp_path_factory.mktemp("interrupt") / "day.parquet")
    return path


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # whatever the test runner's own setting


def _start(day, out, preexec=_default_sigint):
    argv = [sys.executable, "-m", "sentinel", "--data", str(day), "--all", "-q", "-o"]
    argv += ["--out-dir", str(out), "--json", str(out / "r.json")]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=preexec)


def _assert_nothing_half_written(out):
    names = sorted(p.name for p in out.iterdir())
    stems = {n.removesuffix(".md") for n in names if n.endswith(".md")}
    assert all(any(n.startswith(f"{s}-") for s in stems) for n in names if n.endswith(".png")), names
    assert not [n for n in names if n.endswith(".tmp")], names
    for name in names:
        if name.endswith((".md", ".json", ".png")):
            assert (out / name).stat().st_size > 0, name  # no reservation left behind
        if name.endswith(".json"):
            json.loads((out / name).read_text())
    return names


def _whole(names: list[str]) -> list[str]:
    """The files of a complete run but the alerts' charts (as many as alerts have charts)."""
    return [n for n in names if "-alert-" not in n]


def test_interrupt_at_any_moment(day, tmp_path):
    started = time.monotonic()
    baseline = _start(day, tmp_path / "whole")
    (tmp_path / "whole").mkdir()
    assert baseline.wait(timeout=60) == 0
    length = time.monotonic() - started
    codes = []
    # From just after the interpreter's own start-up (a SIGINT before Python runs any of Sentinel's code is
    # Python's to report, as for every Python program) to the run's end.
    first = 0.4
    for i in range(12):
        delay = first + i * (length - first) / 11
        out = tmp_path / f"run{i}"
        out.mkdir()
        process = _start(day, out)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, err = process.communicate(timeout=30)
        took = time.monotonic() - sent
        assert took < DEADLINE_S, (delay, took)
        assert "Traceback" not in err and "internal error" not in err, (delay, err)
        names = _assert_nothing_half_written(out)
        if process.returncode == 130:
            assert err == "sentinel: interrupted\n" and names == [], (delay, err, names)
        else:
            assert process.returncode == 0 and len(_whole(names)) == 5, (delay, process.returncode, err, names)
        codes.append(process.returncode)
    assert codes.count(130) >= 6, codes  # most interrupts came during the run, not after it


def test_an_interrupt_ignored_by_the_parent_stays_ignored(day, tmp_path):
    """nohup and a script's background jobs start programs with SIGINT ignored: Sentinel keeps it so."""
    process = _start(day, tmp_path, preexec=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0 and err == ""
    # the JSON, the Markdown and its three section charts (and each alert's chart)
    assert len(_whole(_assert_nothing_half_written(tmp_path))) == 5


def test_the_handler_stops_a_running_query_and_check_raises():
    restore = interrupt.install()
    engine = DuckDBEngine()
    try:
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            engine.query("SELECT count(*) FROM range(10000000000) t(i) WHERE hash(i) % 7 = 0")
        assert time.monotonic() - started < 5
        assert interrupt.requested()
        with pytest.raises(KeyboardInterrupt):
            interrupt.check()
    finally:
        engine.close()
        restore()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not interrupt.requested()  # a later run through the API is not stopped by this one's interrupt


def test_python_s_own_interrupt_during_a_query_is_a_keyboard_interrupt():
    """Through the API, with Python's handler, DuckDB reports a Ctrl-C as RuntimeError('Query interrupted')."""

    class Interrupted:
        def sql(self, *args, **kwargs):
            raise RuntimeError("Query interrupted")

        def interrupt(self):
            pass

        execute = sql  # statements too (sentinel import's COPY): it was "internal error: RuntimeError"

    engine = DuckDBEngine()
    real, engine._con = engine._con, Interrupted()
    try:
        with pytest.raises(KeyboardInterrupt):
            engine.query("SELECT 1")
        with pytest.raises(KeyboardInterrupt):
            engine.execute("COPY (SELECT 1) TO 'x.parquet'")
    finally:
        real.close()


@pytest.mark.spark
@pytest.mark.parametrize("delay", [4.0, 9.0])  # while Spark starts; while its queries run
def test_ctrl_c_on_spark_is_one_line_and_exit_130(spark_session, day, tmp_path, delay):
    argv = [sys.executable, "-m", "sentinel", "--data", str(day), "--all", "-q", "--engine", "spark"]
    argv += ["--json", str(tmp_path / "r.json")]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    lines = err.splitlines()  # Spark's own start-up lines go to its log, not here
    if process.returncode == 0:  # the run had finished: a complete report
        json.loads((tmp_path / "r.json").read_text())
        return
    assert process.returncode == 130 and lines == ["sentinel: interrupted"], err
    assert not (tmp_path / "r.json").exists()

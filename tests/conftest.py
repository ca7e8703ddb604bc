"""Shared fixtures.

Real public captures and GeoIP databases live outside the repository in ../shared/data (never copied
in). Tests that need them take the `shared_data` fixture, which skips with a stated reason where the
folder is absent, so a fresh clone's test command still passes; .ci/run requires the folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The user cache (DB-IP files of `sentinel geoip update`, the reverse-DNS cache) must not change what tests
# see: every test run gets an empty one of its own. Tests of the cache itself point it elsewhere.
# It is removed when the run ends (each run left one behind in the temporary folder).
os.environ["SENTINEL_CACHE_DIR"] = tempfile.mkdtemp(prefix="sentinel-test-cache-")
atexit.register(shutil.rmtree, os.environ["SENTINEL_CACHE_DIR"], ignore_errors=True)
# Spark JVMs the tests start write no class archive at exit (seconds of work after each; the tests of the
# archive itself switch it on).
os.environ["SENTINEL_SPARK_CLASS_ARCHIVE"] = "0"


def shared_data_dir() -> Path:
    return Path(os.environ.get("SENTINEL_SHARED_DATA", REPO.parent / "shared" / "data"))


def require_shared(path: Path) -> Path:
    """`path` from ../shared, or skip the test saying why (fail instead where CI requires shared data)."""
    if not path.exists():
        reason = f"needs {path}, which is absent (set SENTINEL_SHARED_DATA to the shared/data folder)"
        if os.environ.get("SENTINEL_REQUIRE_SHARED_DATA"):  # .ci/run sets it: there, absence is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return require_shared(shared_data_dir())


# -- engines ------------------------------------------------------------------------------------------
# Unit tests of analyses and detectors run against every engine (tests/analyses and tests/detectors take the
# `engine` fixture through their conftest). Spark is slow to start: one local session serves the whole run,
# and its tests carry the `spark` mark (`pytest -m "not spark"` leaves them out).


def _spark_unavailable() -> str | None:
    import shutil

    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError:
        return "needs pyspark and sqlglot (pip install -e '.[test,spark]')"
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        return "needs a Java runtime (17 or newer) for Spark"
    return None


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for every Spark test (SparkEngine reuses an active session)."""
    reason = _spark_unavailable()
    if reason:
        if os.environ.get("SENTINEL_REQUIRE_SPARK"):  # .ci/run sets it: there, absence is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    from sentinel.engines.spark_engine import SparkEngine

    engine = SparkEngine(master="local[2]")
    engine.spark.conf.set("spark.sql.shuffle.partitions", "2")  # tiny test data: fewer tasks, faster
    yield engine.spark
    engine.spark.stop()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request) -> str:
    if request.param == "spark":
        request.getfixturevalue("spark_session")
    return request.param


@pytest.fixture
def every_engine(engine, monkeypatch):
    """config_for() builds configurations for the engine under test. A module with
    `pytestmark = pytest.mark.usefixtures("every_engine")` runs each of its tests on every engine."""
    from tests import flows

    monkeypatch.setattr(flows, "ENGINE", engine)
    return engine

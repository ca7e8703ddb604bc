"""Shared fixtures.

Real public captures and GeoIP databases live outside the repository in ../shared/data (never copied
in). Tests that need them take the `shared_data` fixture, which skips with a stated reason where the
folder is absent, so a fresh clone's test command still passes; .ci/run requires the folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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

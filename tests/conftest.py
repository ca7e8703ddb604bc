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


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real-data test: {path} is absent (set SENTINEL_SHARED_DATA to the shared/data folder)")
    return path

"""Sentinel's user cache directory: cached GeoIP databases, reverse-DNS answers, Spark's class archive."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SENTINEL_CACHE_DIR"


def cache_dir() -> Path:
    """Sentinel's user cache directory (platformdirs), or $SENTINEL_CACHE_DIR."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("sentinel", appauthor=False))

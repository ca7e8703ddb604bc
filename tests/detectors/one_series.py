"""The batch beacon statistics applied to one series, for tests that state what one series should score."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sentinel.detectors import _beacon_stats as bs


def _one(values: np.ndarray) -> np.ndarray:
    return np.zeros(values.size, dtype=np.int64)


def beat_intervals(times_s: ArrayLike) -> tuple[np.ndarray, int]:
    """A series' beat intervals (seconds) and connections inside bursts."""
    t = np.asarray(times_s, dtype=float)
    b = bs.beats_of(_one(t), t, 1)
    return b.d, int(b.in_bursts[0])


def fit_intervals(intervals: ArrayLike) -> bs.IntervalFit | None:
    """A series' dominant period and how well it keeps it; None for fewer than 2 intervals."""
    d = np.asarray(intervals, dtype=float)
    return bs.fit_many(d, _one(d), 1).at(0)


def fit_sizes(sizes: ArrayLike) -> bs.SizeFit:
    s = np.asarray(sizes, dtype=float)
    return bs.sizes_many(s, _one(s), 1).at(0)


def coverage(times_s: ArrayLike, period: float, observed_first: float, observed_last: float) -> bs.Coverage:
    t = np.asarray(times_s, dtype=float)
    return bs.coverage_many(t, _one(t), 1, np.array([period]), observed_first, observed_last).at(0)

"""The beacon statistics as they were first written, one series at a time: the oracle the batch versions in
sentinel.detectors._beacon_stats are tested against (same figures for every series)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sentinel.detectors._beacon_stats import (
    BURST_SEPARATION,
    BURST_SHARE,
    MAX_MULTIPLE,
    MIN_SIZE_SCALE,
    Coverage,
    IntervalFit,
    SizeFit,
    kernel,
)


def beat_intervals(times_s: ArrayLike) -> tuple[np.ndarray, int]:
    """Intervals between beats (seconds) of connection start times, and how many connections were inside bursts.

    Intervals shorter than BURST_SHARE of the 90th-percentile interval are burst-internal, but only when
    they are clearly apart from the others (BURST_SEPARATION): a series of evenly short intervals (a RAT
    reconnecting every half second) is beats, not one long burst.
    """
    t = np.sort(np.asarray(times_s, dtype=float))
    d = np.diff(t)
    if d.size < 2:
        return d, 0
    cut = BURST_SHARE * float(np.quantile(d, 0.9))
    low, high = d[d < cut], d[d >= cut]
    if low.size and high.size >= 2 and float(high.min()) >= BURST_SEPARATION * max(float(low.max()), 1e-6):
        return high, int(low.size)
    return d, 0


def _fit(d: np.ndarray, period: float) -> tuple[np.ndarray, np.ndarray]:
    k = np.maximum(1, np.rint(d / period))
    return k, d / (k * period) - 1.0


def _quality(d: np.ndarray, period: float) -> float:
    if period <= 0:
        return 0.0
    k, e = _fit(d, period)
    keep = k <= MAX_MULTIPLE
    if not keep.any():
        return 0.0
    return float(kernel(e[keep]).mean() * (0.5 + 0.5 * keep.sum() / k[keep].sum()))


def fit_intervals(intervals: ArrayLike) -> IntervalFit | None:
    """The dominant period of beat intervals (seconds) and how well they keep it; None for fewer than 2.

    The period is the median interval, or a half or third of it where that explains the intervals
    clearly better (more than half the beats missed); then refined as the median of each interval
    divided by its number of periods.
    """
    d = np.sort(np.asarray(intervals, dtype=float))
    if d.size < 2 or float(np.median(d)) <= 0:
        return None
    median = float(np.median(d))
    best, best_quality = median, _quality(d, median)
    for divisor in (2, 3):
        quality = _quality(d, median / divisor)
        if quality > best_quality + 0.1:
            best, best_quality = median / divisor, quality
    k, _ = _fit(d, best)
    keep = k <= MAX_MULTIPLE
    period = float(np.median(d[keep] / k[keep])) if keep.any() else 0.0
    if period <= 0:
        return None
    k, e = _fit(d, period)
    keep = k <= MAX_MULTIPLE
    if not keep.any():
        return None
    active = float(d[keep].sum() / d.sum()) if d.sum() > 0 else 0.0
    e, k = e[keep], k[keep]
    return IntervalFit(
        period=period,
        jitter=float(np.median(np.abs(e))),
        regularity=float(kernel(e).mean()),
        observed_share=float(keep.sum() / k.sum()),
        beats=int(keep.sum()),
        gaps=int((~keep).sum()),
        active_share=active,
    )


def fit_sizes(sizes: ArrayLike) -> SizeFit:
    """How alike the connections' sizes are: a beacon's check-in is the same request each time."""
    s = np.asarray(sizes, dtype=float)
    if s.size == 0:
        return SizeFit(0.0, 0.0, 0.0)
    typical = float(np.median(s))
    e = np.abs(s - typical) / max(typical, MIN_SIZE_SCALE)
    return SizeFit(typical, float(np.median(e)), float(kernel(e).mean()))


def coverage(times_s: ArrayLike, period: float, observed_first: float, observed_last: float) -> Coverage:
    """How evenly the connections cover their own span, and how much of the observed period that span is.

    Buckets are an hour wide (a 24th of the observed period when it is shorter than a day) and never
    narrower than two periods, so a slow beacon is not blamed for empty buckets between its beats.
    """
    t = np.sort(np.asarray(times_s, dtype=float))
    observed = max(observed_last - observed_first, 1e-6)
    if t.size == 0:
        return Coverage(0.0, 0.0, 0.0)
    bucket = max(2.0 * period, min(3600.0, observed / 24.0), 1e-6)
    first, last = float(t[0]), float(t[-1])
    n_buckets = int((last - first) // bucket) + 1
    occupied = np.unique(((t - first) // bucket).astype(np.int64)).size
    span = min(1.0, (last - first + period) / observed)
    return Coverage(min(1.0, occupied / n_buckets), span, bucket)

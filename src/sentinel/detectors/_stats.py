"""Pure statistics behind detector scores: small, deterministic, unit-tested on their own."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

# Scales the median absolute deviation to the standard deviation of a normal distribution, so a
# robust z-score reads like an ordinary one (Iglewicz & Hoaglin).
MAD_TO_SIGMA = 1.4826


def mad(values: ArrayLike) -> float:
    """Median absolute deviation from the median."""
    arr = np.asarray(values, dtype=float)
    return float(np.median(np.abs(arr - np.median(arr))))


def robust_z(values: Sequence[float], reference: Sequence[float] | None = None, floor: float = 1e-9) -> np.ndarray:
    """(x - median) / (1.4826 * MAD): how far each value stands from its peers, ignoring outliers.

    The median and MAD come from `reference` (the peers) when given, else from the values themselves.
    `floor` keeps the scale positive when most peers are identical (MAD 0): their outliers then get
    large but finite scores instead of infinities.
    """
    arr = np.asarray(values, dtype=float)
    ref = arr if reference is None else np.asarray(reference, dtype=float)
    if arr.size == 0 or ref.size == 0:
        return np.full(arr.shape, np.nan)
    scale = max(MAD_TO_SIGMA * mad(ref), floor)
    return (arr - np.median(ref)) / scale


def top_share_count(n: int, percentile: float) -> int:
    """How many of n ranked items lie above the P-th percentile: the original's int(n * (1 - P/100))."""
    if not 0 <= percentile <= 100:
        raise ValueError("percentile outside 0-100")
    return int(n * (100 - percentile) / 100 + 1e-9)


def saturating(x: float, half: float) -> float:
    """Map x >= 0 to [0, 1): 0.5 at x == half, approaching 1 for large x. Scores stay comparable."""
    if x <= 0:
        return 0.0
    return x / (x + half)


def rate_per_second(events: int, first_us: int, last_us: int) -> float | None:
    """Events per second over [first, last] (timestamps in microseconds); None for a single instant."""
    span = (last_us - first_us) / 1_000_000
    return events / span if span > 0 else None

"""Statistics over many series at once: values tagged with the series ("segment") they belong to.

A detector that scores tens of thousands of small series (one per host pair) pays more for calling NumPy once
per series than for the arithmetic itself. These helpers compute per-segment sums, means, medians and
quantiles for all segments in a few whole-array operations. `seg` holds each value's segment number in
[0, n); segments may be empty and values need not be sorted. Quantiles follow NumPy's default ('linear')
method, so a segment's figure equals `np.quantile` of its values (up to the order of floating-point sums).
"""

from __future__ import annotations

import numpy as np


def counts(seg: np.ndarray, n: int) -> np.ndarray:
    """Values per segment."""
    return np.bincount(seg, minlength=n).astype(np.int64)


def sums(values: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """Sum of each segment's values (0 for an empty segment)."""
    return np.bincount(seg, weights=np.asarray(values, dtype=float), minlength=n)


def means(values: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """Mean of each segment's values (NaN for an empty segment)."""
    c = counts(seg, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums(values, seg, n) / c


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    # NumPy's own interpolation (numpy.lib._function_base_impl._lerp): from b downwards past the middle.
    diff = b - a
    out = a + diff * t
    return np.where(t >= 0.5, b - diff * (1 - t), out)


def quantiles(values: np.ndarray, seg: np.ndarray, n: int, q: float) -> np.ndarray:
    """The q-quantile of each segment's values (linear interpolation; NaN for an empty segment)."""
    v = np.asarray(values, dtype=float)
    c = counts(seg, n)
    order = np.lexsort((v, seg))
    ordered = v[order]
    offsets = np.concatenate(([0], np.cumsum(c)[:-1]))
    out = np.full(n, np.nan)
    has = c > 0
    position = q * (c[has] - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, c[has] - 1)
    a, b = ordered[offsets[has] + low], ordered[offsets[has] + high]
    out[has] = _lerp(a, b, position - low)
    return out


def medians(values: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """The median of each segment's values (the mean of the middle two for an even count; NaN when empty)."""
    v = np.asarray(values, dtype=float)
    c = counts(seg, n)
    order = np.lexsort((v, seg))
    ordered = v[order]
    offsets = np.concatenate(([0], np.cumsum(c)[:-1]))
    out = np.full(n, np.nan)
    has = c > 0
    upper = ordered[offsets[has] + c[has] // 2]
    lower = ordered[offsets[has] + (c[has] - 1) // 2]
    out[has] = (lower + upper) / 2
    return out


def maxima(values: np.ndarray, seg: np.ndarray, n: int, empty: float = -np.inf) -> np.ndarray:
    """The largest of each segment's values (`empty` for an empty segment)."""
    out = np.full(n, empty, dtype=float)
    np.maximum.at(out, seg, np.asarray(values, dtype=float))
    return out


def minima(values: np.ndarray, seg: np.ndarray, n: int, empty: float = np.inf) -> np.ndarray:
    """The smallest of each segment's values (`empty` for an empty segment)."""
    out = np.full(n, empty, dtype=float)
    np.minimum.at(out, seg, np.asarray(values, dtype=float))
    return out

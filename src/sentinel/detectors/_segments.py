"""Statistics over many series at once: values tagged with the series ("segment") they belong to.

A detector that scores tens of thousands of small series (one per host pair) pays more for calling NumPy once
per series than for the arithmetic itself. These helpers compute per-segment sums, means, medians and
quantiles for all segments in a few whole-array operations. `seg` holds each value's segment number in
[0, n); segments may be empty and values need not be sorted. Quantiles follow NumPy's default ('linear')
method, so a segment's figure equals `np.quantile` of its values (up to the order of floating-point sums).
"""

from __future__ import annotations

import numpy as np


def grouped(seg: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`seg` and `values` with each segment's values together, in their order (a stable sort by segment); as
    given, without a copy, where they already are."""
    if seg.size >= 2 and (np.diff(seg) < 0).any():
        order = np.argsort(seg, kind="stable")
        return seg[order], values[order]
    return seg, values


def rows_of(seg: np.ndarray, i: int) -> slice:
    """The rows of segment i, where `seg` is sorted."""
    start, end = np.searchsorted(seg, [i, i + 1])
    return slice(int(start), int(end))


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


def sort_within(values: np.ndarray, seg: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each segment's values in ascending order, segment after segment; with the segments' counts and offsets.

    Segments are many and short, so instead of one sort of (segment, value) pairs over everything, the values
    of segments of about the same length (the same power of two) are laid out as the rows of a matrix (padded
    with +inf) and the rows sorted at once: several times faster than np.lexsort, and exact.
    """
    seg, v = grouped(np.asarray(seg, dtype=np.int64), np.asarray(values, dtype=float))
    c = counts(seg, n)
    offsets = np.concatenate(([0], np.cumsum(c)[:-1]))
    if seg.size == 0:
        return v, c, offsets
    width = np.zeros(n, dtype=np.int64)  # segments are laid out in rows of the next power of two
    width[c > 0] = 1 << np.ceil(np.log2(c[c > 0])).astype(np.int64)
    out = np.empty_like(v)
    for w in np.unique(width[c > 0]).tolist():
        segments = np.flatnonzero(width == w)
        inside = np.arange(w) < c[segments][:, None]  # the cells that hold a value
        where = (offsets[segments][:, None] + np.arange(w))[inside]  # their values' positions, row by row
        matrix = np.full((segments.size, w), np.inf)
        matrix[inside] = v[where]
        matrix.sort(axis=1)
        out[where] = matrix[inside]
    return out, c, offsets


def quantiles(values: np.ndarray, seg: np.ndarray, n: int, q: float) -> np.ndarray:
    """The q-quantile of each segment's values (linear interpolation; NaN for an empty segment)."""
    ordered, c, offsets = sort_within(values, seg, n)
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
    ordered, c, offsets = sort_within(values, seg, n)
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

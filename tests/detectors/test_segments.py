"""Per-segment statistics equal NumPy's own on each segment, whatever the segments' sizes and order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.detectors import _segments as sg

segment_lists = st.lists(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=0, max_size=70), min_size=1, max_size=12)


def flatten(segments: list[list[float]], shuffle: int | None) -> tuple[np.ndarray, np.ndarray]:
    seg = np.array([i for i, s in enumerate(segments) for _ in s], dtype=np.int64)
    values = np.array([x for s in segments for x in s], dtype=float)
    if shuffle is not None:
        order = np.random.default_rng(shuffle).permutation(seg.size)
        seg, values = seg[order], values[order]
    return seg, values


@settings(max_examples=200, deadline=None)
@given(segment_lists, st.one_of(st.none(), st.integers(0, 1000)), st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
def test_statistics_equal_numpys_per_segment(segments: list[list[float]], shuffle: int | None, q: float) -> None:
    seg, values = flatten(segments, shuffle)
    n = len(segments)
    ordered, counts, offsets = sg.sort_within(values, seg, n)
    medians, quantiles = sg.medians(values, seg, n), sg.quantiles(values, seg, n, q)
    sums, means = sg.sums(values, seg, n), sg.means(values, seg, n)
    maxima, minima = sg.maxima(values, seg, n), sg.minima(values, seg, n)
    for i, s in enumerate(segments):
        assert counts[i] == len(s)
        assert ordered[offsets[i] : offsets[i] + counts[i]].tolist() == sorted(s)
        if not s:
            assert np.isnan(medians[i]) and np.isnan(quantiles[i]) and np.isnan(means[i])
            assert sums[i] == 0 and maxima[i] == -np.inf and minima[i] == np.inf
            continue
        assert medians[i] == np.median(s)
        assert quantiles[i] == np.quantile(s, q)
        assert sums[i] == pytest.approx(sum(s), rel=1e-12)
        assert means[i] == pytest.approx(np.mean(s), rel=1e-12)
        assert (maxima[i], minima[i]) == (max(s), min(s))

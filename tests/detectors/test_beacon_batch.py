"""The batch beacon statistics (many series at once) give, for every series, the figures of the one-series
reference (tests/detectors/beacon_reference.py), whatever the mix of series, their order and their sizes."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.detectors import _beacon_stats as bs
from tests.detectors import beacon_reference as ref
from tests.detectors import one_series as one


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def periodic(seed: int, n: int, period: float, jitter: float, miss: float, burst: int) -> np.ndarray:
    """Start times of a beacon: `n` beats of `period` s with relative `jitter`, a share `miss` of beats missed,
    and `burst` extra connections a second after each beat."""
    rng = np.random.default_rng(seed)
    beats = np.cumsum(period * (1 + rng.uniform(-jitter, jitter, n)))
    beats = beats[rng.random(n) >= miss]
    extra = [beats + 0.01 * (j + 1) for j in range(burst)]
    return np.concatenate([beats, *extra]) if extra else beats


series_strategy = st.one_of(
    # anything: duplicates, tiny series, unsorted
    st.lists(st.integers(0, 10_000).map(float), min_size=0, max_size=30).map(np.array),
    # beacons with jitter, missed beats and bursts
    st.builds(
        periodic,
        st.integers(0, 2**16),
        st.integers(2, 80),
        st.sampled_from([0.5, 1.0, 60.0, 300.0, 3600.0]),
        st.sampled_from([0.0, 0.05, 0.3, 0.6]),
        st.sampled_from([0.0, 0.1, 0.5]),
        st.integers(0, 3),
    ),
)


def batch_of(series: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """All series as one (segment, value) pair of arrays, rows shuffled."""
    seg = np.concatenate([np.full(len(s), i, dtype=np.int64) for i, s in enumerate(series)] + [np.array([], np.int64)])
    values = np.concatenate([np.asarray(s, dtype=float) for s in series] + [np.array([])])
    order = rng.permutation(seg.size)
    return seg[order], values[order]


@settings(max_examples=150, deadline=None)
@given(st.lists(series_strategy, min_size=1, max_size=8), st.integers(0, 2**16))
def test_batch_figures_equal_the_reference_series_by_series(series: list[np.ndarray], seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = len(series)
    seg, times = batch_of(series, rng)
    beats = bs.beats_of(seg, times, n)
    fits = bs.fit_many(beats.d, beats.seg, n)
    sizes = bs.sizes_many(times % 977, seg, n)  # any numbers stand for sizes
    first, last = float(times.min(initial=0.0)), float(times.max(initial=1.0))
    covers = bs.coverage_many(times, seg, n, np.where(fits.valid, fits.period, 1.0), first, last)
    for i, s in enumerate(series):
        d, in_bursts = ref.beat_intervals(s)
        assert int(beats.in_bursts[i]) == in_bursts
        assert sorted(beats.of(i).tolist()) == sorted(d.tolist())
        want, got = ref.fit_intervals(d), fits.at(i)
        assert (want is None) == (got is None)
        if want is not None and got is not None:
            for field in ("period", "jitter", "regularity", "observed_share", "active_share"):
                assert close(getattr(got, field), getattr(want, field)), field
            assert (got.beats, got.gaps) == (want.beats, want.gaps)
            assert close(got.score, want.score)
        want_size, got_size = ref.fit_sizes(s % 977), sizes.at(i)
        assert close(got_size.typical, want_size.typical)
        assert close(got_size.dispersion, want_size.dispersion)
        assert close(got_size.score, want_size.score)
        if s.size:
            period = float(fits.period[i]) if fits.valid[i] else 1.0
            want_cover, got_cover = ref.coverage(s, period, first, last), covers.at(i)
            assert close(got_cover.evenness, want_cover.evenness)
            assert close(got_cover.span_share, want_cover.span_share)
            assert close(got_cover.score, want_cover.score)


def test_a_series_alone_and_among_others_scores_the_same() -> None:
    beacon = periodic(1, 60, 300.0, 0.2, 0.1, 1)
    noise = np.sort(np.random.default_rng(2).uniform(0, 86_400, 200))
    alone = one.fit_intervals(one.beat_intervals(beacon)[0])
    seg = np.concatenate([np.zeros(noise.size, np.int64), np.ones(beacon.size, np.int64)])
    beats = bs.beats_of(seg, np.concatenate([noise, beacon]), 2)
    among = bs.fit_many(beats.d, beats.seg, 2).at(1)
    assert alone is not None and among is not None
    assert dataclasses.astuple(among) == pytest.approx(dataclasses.astuple(alone))
    assert 250 < among.period < 350


def _dominant_by_counting(seg: np.ndarray, proto: np.ndarray, port: np.ndarray, n: int) -> list[tuple]:
    """Each group's most frequent (proto, port), ties to the lowest, and its share: one group at a time."""
    from collections import Counter

    out: list[tuple] = []
    for g in range(n):
        counts = Counter((int(a), int(b)) for s, a, b in zip(seg, proto, port, strict=True) if s == g)
        top = max(counts.values(), default=0)
        best = min((k for k, v in counts.items() if v == top), default=(0, 0))
        out.append((*best, top / sum(counts.values()) if counts else 0.0))
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2), st.sampled_from([22, 53, 443, 65535])), max_size=60),
    st.integers(0, 3),
)
def test_dominant_services_equal_counting_group_by_group(rows: list[tuple[int, int, int]], empty: int) -> None:
    from sentinel.detectors.beacon import Batch, dominant_services

    rows.sort(key=lambda r: r[0])  # a batch's rows are in group order
    n = max((r[0] for r in rows), default=-1) + 1 + empty
    seg = np.array([r[0] for r in rows], np.int64)
    proto, port = np.array([r[1] for r in rows], np.int32), np.array([r[2] for r in rows], np.int32)
    zeros = np.zeros(len(rows))
    batch = Batch(None, np.arange(n), seg, zeros.astype(np.int64), zeros, proto, port, ["icmp", "tcp", "udp"])  # type: ignore[arg-type]
    codes, ports, shares = dominant_services(batch)
    assert list(zip(codes.tolist(), ports.tolist(), shares.tolist(), strict=True)) == _dominant_by_counting(
        seg, proto, port, n
    )

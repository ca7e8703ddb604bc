"""The pure statistics of the beacon score: periods, jitter, bursts, missed beats, coverage, factors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.detectors import _beacon_stats as bs
from tests.detectors import one_series as one


def _jittered(period: float, jitter: float, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(period * (1 + rng.uniform(-jitter, jitter, n)))


def test_perfect_period_scores_one():
    fit = one.fit_intervals(np.diff(np.arange(100) * 60.0))
    assert fit is not None
    assert fit.period == 60 and fit.jitter == 0 and fit.score == 1


def test_twenty_percent_jitter_keeps_most_of_the_score():
    fit = one.fit_intervals(np.diff(_jittered(300, 0.2, 300)))
    assert fit is not None
    assert 270 <= fit.period <= 330 and fit.score > 0.9


def test_poisson_traffic_scores_low():
    rng = np.random.default_rng(1)
    fit = one.fit_intervals(rng.exponential(60, 500))
    assert fit is not None and fit.score < 0.55


def test_missed_beats_are_multiples_of_the_period():
    t = _jittered(60, 0.1, 300)
    kept = t[np.random.default_rng(2).random(300) > 0.6]  # 60 % of the beats missed
    fit = one.fit_intervals(np.diff(kept))
    assert fit is not None
    assert 55 <= fit.period <= 65 and fit.regularity > 0.85 and fit.observed_share < 0.6


def test_bursts_are_merged_into_beats():
    beats = np.arange(50) * 120.0
    times = np.concatenate([beats, beats + 0.3, beats + 0.7])
    intervals, inside = one.beat_intervals(times)
    assert inside == 100
    fit = one.fit_intervals(intervals)
    assert fit is not None and fit.period == pytest.approx(119.3, abs=0.5) and fit.score > 0.95


def test_sub_second_reconnects_are_beats_not_one_burst():
    times = np.cumsum(np.random.default_rng(3).uniform(0.5, 1.0, 700))
    intervals, inside = one.beat_intervals(times)
    assert inside == 0
    fit = one.fit_intervals(intervals)
    assert fit is not None and 0.6 < fit.period < 0.9 and fit.score > 0.8


def test_bursts_between_silences_are_not_busy():
    # 20 connections 0.1 s apart each hour: regular inside the burst, silent in between
    times = np.concatenate([h * 3600 + np.arange(20) * 0.1 for h in range(24)])
    fit = one.fit_intervals(np.diff(times))
    assert fit is not None and fit.active_share < 0.01 and fit.score < 0.05


def test_too_few_intervals():
    assert one.fit_intervals([10.0]) is None
    assert one.fit_intervals([0.0, 0.0, 0.0]) is None


def test_sizes_and_coverage():
    assert one.fit_sizes([500] * 10).score == 1
    assert one.fit_sizes([100, 5000, 20, 90000]).score < 0.5
    whole_day = one.coverage(np.arange(0, 86_400, 300.0), 300, 0, 86_400)
    one_hour = one.coverage(np.arange(0, 3_600, 300.0), 300, 0, 86_400)
    assert whole_day.score > 0.99 and one_hour.score < 0.25


def test_factors():
    assert bs.sharing_factor(1, 3) == 1 and bs.sharing_factor(2, 3) == 0.85
    assert bs.sharing_factor(3, 3) == 0.5 and bs.sharing_factor(200, 3) < 0.1
    assert bs.rarity_factor(1) == 1 and bs.rarity_factor(1000) < 0.71
    assert bs.confidence(100) == 1 and bs.confidence(5) < bs.confidence(20) < 1
    assert bs.strobe_score(10, 86_400) == 0 and bs.strobe_score(86_400, 86_400) == 0.6
    assert bs.long_connection_score(3600, 3600) == 0.4 and bs.long_connection_score(86_400, 3600) == 0.7


intervals_st = st.lists(st.floats(min_value=0.01, max_value=1e5), min_size=3, max_size=60)


@settings(max_examples=100, deadline=None)
@given(intervals_st, st.randoms(use_true_random=False))
def test_scores_in_unit_interval_and_order_irrelevant(intervals, rnd):
    fit = one.fit_intervals(intervals)
    shuffled = list(intervals)
    rnd.shuffle(shuffled)
    again = one.fit_intervals(shuffled)
    if fit is None:
        assert again is None
        return
    assert again is not None
    assert 0 <= fit.score <= 1 and 0 <= fit.regularity <= 1 and 0 <= fit.observed_share <= 1
    assert fit.score == pytest.approx(again.score) and fit.period == pytest.approx(again.period)
    size = one.fit_sizes(intervals)
    assert 0 <= size.score <= 1
    times = np.cumsum(intervals)
    cover = one.coverage(shuffled and np.cumsum(intervals)[::-1], fit.period, 0, float(times[-1]) + 1)
    assert 0 <= cover.score <= 1
    assert 0 <= bs.periodic_score(fit.score, size.score, cover.score) <= 1


@settings(max_examples=50, deadline=None)
@given(
    st.floats(min_value=0.5, max_value=3600),
    st.floats(min_value=0.05, max_value=0.3),
    st.integers(min_value=20, max_value=300),
    st.integers(min_value=0, max_value=10_000),
)
def test_periodic_beats_the_same_series_with_more_jitter(period, jitter, n, seed):
    exact = one.fit_intervals(np.full(n, period))
    jittered = one.fit_intervals(np.diff(_jittered(period, jitter, n + 1, seed)))
    assert exact is not None and jittered is not None
    assert exact.score >= jittered.score

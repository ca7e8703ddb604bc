import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentinel.detectors import _stats


def test_mad():
    assert _stats.mad([1, 2, 3, 4, 100]) == 1  # deviations 2,1,0,1,97 -> median 1


def test_robust_z_ignores_the_outlier():
    z = _stats.robust_z([10, 11, 9, 10, 12, 8, 1000])
    assert abs(z[0]) < 1 and z[-1] > 100


def test_robust_z_against_reference_peers():
    z = _stats.robust_z([10, 50], reference=[9, 10, 11])  # median 10, MAD 1
    assert z[0] == 0 and z[1] == pytest.approx(40 / 1.4826)
    assert np.isnan(_stats.robust_z([1.0], reference=[])).all()


def test_robust_z_with_identical_peers_stays_finite():
    z = _stats.robust_z([5, 5, 5, 5, 6])
    assert np.isfinite(z).all() and z[-1] > 1e6 and z[0] == 0


@pytest.mark.parametrize(("n", "p", "k"), [(200, 90, 20), (199, 90, 19), (10, 100, 0), (10, 0, 10), (3, 50, 1)])
def test_top_share_count_matches_original(n, p, k):
    # the original listed ratios.head(int(len(ratios) * (1 - P/100)))
    assert _stats.top_share_count(n, p) == k == int(n * (1 - p / 100) + 1e-9)


def test_top_share_count_rejects_bad_percentile():
    with pytest.raises(ValueError):
        _stats.top_share_count(10, 101)


@given(st.floats(min_value=0, max_value=1e12), st.floats(min_value=1e-6, max_value=1e6))
def test_saturating_is_a_score(x, half):
    s = _stats.saturating(x, half)
    assert 0 <= s < 1 or (s == 1.0 and x / half > 1e12)
    assert _stats.saturating(half, half) == pytest.approx(0.5)


def test_rate_per_second_uses_microseconds():
    assert _stats.rate_per_second(10, 0, 10_000_000) == 1.0  # 10 events over 10 s
    assert _stats.rate_per_second(1, 500, 500) is None

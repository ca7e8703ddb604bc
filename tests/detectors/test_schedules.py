import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.detectors._schedules import partners_keeping


def reference(circle, partner, period, member, tolerance):
    """Every pair compared, as the detector once did it in Python."""
    out = []
    for i in range(len(circle)):
        kept = {
            partner[o]
            for o in range(len(circle))
            if member[o]
            and circle[o] == circle[i]
            and abs(period[o] - period[i]) <= tolerance * max(period[o], period[i])
        }
        out.append(len(kept))
    return out


series = st.lists(
    st.tuples(
        st.integers(0, 3),  # circle
        st.integers(0, 5),  # partner
        st.sampled_from([0.5, 1.0, 59.0, 60.0, 61.0, 75.0, 80.0, 3600.0, 3599.5, 4500.0]),  # period
        st.booleans(),  # member
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(series, st.sampled_from([0.0, 0.1, 0.25, 0.5]))
def test_the_same_counts_as_comparing_every_pair(rows, tolerance):
    circle, partner, period, member = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [], [])
    got = partners_keeping(np.array(circle), np.array(partner), np.array(period), np.array(member), tolerance)
    assert got.tolist() == reference(circle, partner, period, member, tolerance)


def test_a_fleet_of_three_hosts_and_a_stranger():
    # three hosts keep ~60 s with one network, a fourth keeps 300 s with it; another network's host keeps 60 s
    circle = np.array([0, 0, 0, 0, 1])
    partner = np.array([10, 11, 12, 13, 10])
    period = np.array([60.0, 62.0, 58.0, 300.0, 60.0])
    got = partners_keeping(circle, partner, period, np.ones(5, dtype=bool), 0.25)
    assert got.tolist() == [3, 3, 3, 1, 1]


def test_only_members_are_counted():
    got = partners_keeping(np.zeros(3), np.arange(3), np.full(3, 60.0), np.array([True, False, False]), 0.25)
    assert got.tolist() == [1, 1, 1]

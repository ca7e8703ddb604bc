"""Who else keeps a schedule: for many periodic series at once, how many distinct partners keep about the same
period within the same circle (the hosts talking to one remote network: a fleet; the destinations one host
polls: a poller).

Pure NumPy over whole arrays: a network of a few hundred hosts over ten days has hundreds of thousands of
periodic series, and comparing them pair by pair in Python cost seconds. Candidates are found per circle by
binary search on (circle, period) and then checked with the exact test of `same_period`, so the counts are
the same as comparing every pair.
"""

from __future__ import annotations

import numpy as np


def same_period(a: np.ndarray, b: np.ndarray, tolerance: float) -> np.ndarray:
    """Periods within `tolerance` (relative to the larger) of each other, element-wise."""
    return np.abs(a - b) <= tolerance * np.maximum(a, b)


def partners_keeping(
    circle: np.ndarray,
    partner: np.ndarray,
    period: np.ndarray,
    member: np.ndarray,
    tolerance: float,
) -> np.ndarray:
    """For each series i: how many distinct `partner` values the member series of i's circle have among those
    whose period is the same as i's (`same_period`); i itself counts only when it is a member.

    `circle` and `partner` are integer codes (one per series), `period` seconds, `member` a boolean mask of
    the series that may be counted (those that keep their period well enough to make a fleet).
    """
    circle = np.asarray(circle, dtype=np.int64)
    partner = np.asarray(partner, dtype=np.int64)
    period = np.asarray(period, dtype=float)
    n = circle.size
    out = np.zeros(n, dtype=np.int64)
    members = np.flatnonzero(np.asarray(member, dtype=bool))
    if n == 0 or members.size == 0:
        return out
    order = members[np.lexsort((period[members], circle[members]))]
    # (circle, period) as complex numbers: NumPy orders and searches them by real part, then imaginary part
    keys = circle[order].astype(float) + 1j * period[order]
    # same_period(o, p) needs o >= p * (1 - tolerance) and o <= p / (1 - tolerance): widened a little here,
    # as the exact test below decides
    low = period * (1 - tolerance) * (1 - 1e-9)
    high = period / max(1 - tolerance, 1e-12) * (1 + 1e-9)
    start = np.searchsorted(keys, circle.astype(float) + 1j * low, side="left")
    end = np.searchsorted(keys, circle.astype(float) + 1j * high, side="right")
    width = end - start
    series = np.repeat(np.arange(n), width)
    position = np.arange(series.size) - np.repeat(np.cumsum(width) - width, width) + start[series]
    other = order[position]
    same = same_period(period[other], period[series], tolerance)
    series, other = series[same], other[same]
    # distinct partners per series
    span = int(partner.max()) + 1 if partner.size else 1
    distinct = np.unique(series * span + partner[other])
    return np.bincount(distinct // span, minlength=n).astype(np.int64)

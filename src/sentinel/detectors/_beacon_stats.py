"""Pure statistics behind the beacon score: the period of a connection series and how well it keeps it.

Every function here takes plain numbers (seconds, bytes) and returns plain numbers; none depends on the
order of its input (series are sorted first) and every score lies in [0, 1].

Intervals are scored against the series' *dominant period*, found robustly: connections that start within a
small fraction of the typical interval of each other are one beat (a burst: a beacon that opens three
connections per check-in), an interval close to a multiple of the period is that many beats with the beats
in between missed (the host was busy, a packet was lost), and an interval far beyond any plausible multiple
is a gap (the machine was off) that the coverage score accounts for. Each remaining interval then counts by a
kernel of its relative deviation from k periods, `max(0, 1 - (e / 0.5)**2)`: 1 on time, 0.84 at 20 % off,
0.64 at 30 %, 0 at 50 % — so jitter of ±20 % to ±30 % (sleep-with-jitter C&C defaults) keeps most of the
score, while memoryless (Poisson) traffic, whose intervals spread over every multiple, keeps little of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: Relative deviation at which an interval stops counting as on time.
KERNEL_WIDTH = 0.5
#: An interval under this share of the typical (90th percentile) interval may be inside a burst ...
BURST_SHARE = 0.1
#: ... when the shortest beat interval is at least this many times the longest burst interval.
BURST_SEPARATION = 5.0
#: Intervals beyond this many periods are gaps (host off), not missed beats.
MAX_MULTIPLE = 8
#: A series keeping its period for less than this share of its span is bursts between silences, not a beacon.
ACTIVE_SHARE = 0.3
#: Sizes are compared relatively, but never against a typical size below this many bytes.
MIN_SIZE_SCALE = 64.0


def kernel(deviation: ArrayLike, width: float = KERNEL_WIDTH) -> np.ndarray:
    """1 for no deviation, falling quadratically to 0 at `width` (relative deviation) and beyond."""
    e = np.abs(np.asarray(deviation, dtype=float)) / width
    return np.clip(1.0 - e * e, 0.0, 1.0)


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


@dataclass(frozen=True)
class IntervalFit:
    period: float  # seconds
    jitter: float  # median relative deviation of a beat from the period (0.1: ±10 %)
    regularity: float  # mean kernel of the deviations, in [0, 1]
    observed_share: float  # beats seen / beats expected between the first and last (1 - missed share)
    beats: int  # intervals scored (gaps excluded)
    gaps: int  # intervals beyond MAX_MULTIPLE periods
    active_share: float  # time inside scored intervals / time from the first connection to the last

    @property
    def score(self) -> float:
        """Regularity, discounted by up to half for missed beats, and in proportion where less than
        ACTIVE_SHARE of the series' span is spent keeping the period (bursts between long silences)."""
        busy = min(1.0, self.active_share / ACTIVE_SHARE)
        return float(self.regularity * (0.5 + 0.5 * self.observed_share) * busy)


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


@dataclass(frozen=True)
class SizeFit:
    typical: float  # median bytes per connection
    dispersion: float  # median relative deviation from the typical size
    score: float  # mean kernel of the relative deviations, in [0, 1]


def fit_sizes(sizes: ArrayLike) -> SizeFit:
    """How alike the connections' sizes are: a beacon's check-in is the same request each time."""
    s = np.asarray(sizes, dtype=float)
    if s.size == 0:
        return SizeFit(0.0, 0.0, 0.0)
    typical = float(np.median(s))
    e = np.abs(s - typical) / max(typical, MIN_SIZE_SCALE)
    return SizeFit(typical, float(np.median(e)), float(kernel(e).mean()))


@dataclass(frozen=True)
class Coverage:
    evenness: float  # share of time buckets between the first and last connection that have one
    span_share: float  # (last - first + period) / observed period, at most 1
    bucket_s: float

    @property
    def score(self) -> float:
        """Evenness, times the square root of the span's share of the observed period (a quarter: half)."""
        return float(self.evenness * np.sqrt(self.span_share))


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


def confidence(beats: int, full: int = 100) -> float:
    """0.5 + 0.5 * log(1 + beats) / log(1 + full), at most 1: each tenfold more beats proves as much again
    (5 beats: 0.69, 20: 0.83, 100 and more: 1)."""
    return float(0.5 + 0.5 * min(1.0, np.log1p(max(beats, 0)) / np.log1p(full)))


def sharing_factor(hosts: int, fleet_hosts: int) -> float:
    """1 for a schedule no one else keeps; 0.85 when two keep it; from `fleet_hosts` on 0.5 * sqrt(fleet/hosts):
    the same schedule on many machines (or to many partners) is software deployed to a fleet (updates,
    telemetry, monitoring), not an infection."""
    if hosts <= 1:
        return 1.0
    if hosts < fleet_hosts:
        return 0.85
    return float(0.5 * np.sqrt(fleet_hosts / hosts))


def service_consistency(share: float) -> float:
    """0.5 + 0.5 * the share of connections to the series' main service: a beacon calls one service, a scanner
    knocking on a different port each time does not."""
    return float(0.5 + 0.5 * min(max(share, 0.0), 1.0))


def rarity_factor(prevalence: int) -> float:
    """1 for a destination only this host talks to, 0.85 for one two hosts talk to, down to 0.7."""
    return float(0.7 + 0.3 / max(prevalence, 1))


def periodic_score(interval: float, size: float, cover: float) -> float:
    """The regularity of a series: its timing, times 0.4 + 0.6 * (0.4 * sizes + 0.6 * coverage). Timing gates:
    steady sizes over the whole day do not make random timing a beacon."""
    return float(np.clip(interval * (0.4 + 0.6 * (0.4 * size + 0.6 * cover)), 0.0, 1.0))


def strobe_score(connections: int, threshold: int) -> float:
    """0.6 at the strobe threshold, +0.25 per tenfold beyond it, at most 0.85."""
    if connections < threshold:
        return 0.0
    return float(min(0.85, 0.6 + 0.25 * np.log10(connections / threshold)))


def long_connection_score(seconds: float, threshold: float) -> float:
    """0.4 at the threshold (an hour by default), rising with the log of the duration to 0.7 at a day."""
    if seconds < threshold:
        return 0.0
    day = 86_400.0
    if threshold >= day:
        return 0.7
    return float(min(0.7, 0.4 + 0.3 * np.log(seconds / threshold) / np.log(day / threshold)))

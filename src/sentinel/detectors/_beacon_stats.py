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

from sentinel.detectors import _segments as sg

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
    e = np.abs(np.asarray(deviation, dtype=float))  # a new array, worked on in place (tens of millions)
    e /= width
    np.multiply(e, e, out=e)
    np.subtract(1.0, e, out=e)
    return np.clip(e, 0.0, 1.0, out=e)


def timing_score(regularity: ArrayLike, observed_share: ArrayLike, active_share: ArrayLike) -> np.ndarray:
    """Regularity, discounted by up to half for missed beats, and in proportion where less than
    ACTIVE_SHARE of the series' span is spent keeping the period (bursts between long silences)."""
    with np.errstate(invalid="ignore"):
        busy = np.minimum(1.0, np.asarray(active_share, dtype=float) / ACTIVE_SHARE)
        return np.asarray(regularity, dtype=float) * (0.5 + 0.5 * np.asarray(observed_share, dtype=float)) * busy


def coverage_score(evenness: ArrayLike, span_share: ArrayLike) -> np.ndarray:
    """Evenness, times the square root of the span's share of the observed period (a quarter: half)."""
    return np.asarray(evenness, dtype=float) * np.sqrt(np.asarray(span_share, dtype=float))


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
        return float(timing_score(self.regularity, self.observed_share, self.active_share))


@dataclass(frozen=True)
class SizeFit:
    typical: float  # median bytes per connection
    dispersion: float  # median relative deviation from the typical size
    score: float  # mean kernel of the relative deviations, in [0, 1]


@dataclass(frozen=True)
class Coverage:
    evenness: float  # share of time buckets between the first and last connection that have one
    span_share: float  # (last - first + period) / observed period, at most 1
    bucket_s: float

    @property
    def score(self) -> float:
        return float(coverage_score(self.evenness, self.span_share))


# -- many series at once -------------------------------------------------------------------------------------
# A network has tens of thousands of candidate series; each figure below is computed for all of them in a few
# whole-array passes (sentinel.detectors._segments). `seg` numbers each value's series in [0, n).


@dataclass(frozen=True)
class Beats:
    """The beat intervals of many series: `d` (seconds) of series `seg`, and connections inside bursts per series."""

    seg: np.ndarray  # sorted: each series' intervals are together
    d: np.ndarray
    in_bursts: np.ndarray
    n: int

    def of(self, i: int) -> np.ndarray:
        """Series i's beat intervals (a view)."""
        return self.d[sg.rows_of(self.seg, i)]


def _sorted(seg: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows sorted by (series, value): as given when they already are (the engine sorts them), so that
    tens of millions of rows are not copied for nothing."""
    if seg.size >= 2:
        same = seg[1:] == seg[:-1]
        if not ((np.diff(seg) >= 0).all() and (values[1:][same] >= values[:-1][same]).all()):
            order = np.lexsort((values, seg))
            return seg[order], values[order]
    return seg, values


def beats_of(seg: np.ndarray, times_s: np.ndarray, n: int) -> Beats:
    """Intervals between beats (seconds) of connection start times, and how many connections were inside bursts.

    Intervals shorter than BURST_SHARE of the 90th-percentile interval are burst-internal, but only when
    they are clearly apart from the others (BURST_SEPARATION): a series of evenly short intervals (a RAT
    reconnecting every half second) is beats, not one long burst.
    """
    seg = np.asarray(seg, dtype=np.int64)
    t = np.asarray(times_s, dtype=float)
    seg, t = _sorted(seg, t)
    inside = seg[1:] == seg[:-1]
    d, dseg = (t[1:] - t[:-1])[inside], seg[1:][inside]
    m = sg.counts(dseg, n)
    cut = BURST_SHARE * sg.quantiles(d, dseg, n, 0.9)
    low = d < np.nan_to_num(cut, nan=-np.inf)[dseg]
    lows, highs = sg.counts(dseg[low], n), sg.counts(dseg[~low], n)
    low_max = sg.maxima(d[low], dseg[low], n, empty=0.0)
    high_min = sg.minima(d[~low], dseg[~low], n)
    bursts = (m >= 2) & (lows > 0) & (highs >= 2) & (high_min >= BURST_SEPARATION * np.maximum(low_max, 1e-6))
    keep = ~(bursts[dseg] & low)
    return Beats(dseg[keep], d[keep], np.where(bursts, lows, 0), n)


def _fit(d: np.ndarray, period: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Each interval's number of periods (at least 1) and its relative deviation from that many periods."""
    k = np.divide(d, period)  # worked on in place: tens of millions of intervals
    np.rint(k, out=k)
    np.maximum(k, 1.0, out=k)
    e = np.multiply(k, period)
    np.divide(d, e, out=e)
    e -= 1.0
    return k, e


def _quality(d: np.ndarray, seg: np.ndarray, n: int, period: np.ndarray) -> np.ndarray:
    k, e = _fit(d, period[seg])
    keep = k <= MAX_MULTIPLE
    kept = sg.counts(seg[keep], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = sg.means(kernel(e[keep]), seg[keep], n) * (0.5 + 0.5 * kept / sg.sums(k[keep], seg[keep], n))
    return np.where(kept > 0, q, 0.0)


def _median(values: np.ndarray) -> float:
    """The median as `sg.medians` computes it for many series (the same arithmetic, the same float)."""
    return float(sg.medians(values, np.zeros(values.size, dtype=np.int64), 1)[0])


@dataclass(frozen=True)
class IntervalFits:
    """fit_intervals of many series: arrays indexed by series; `valid` is False where a series has no fit.

    The jitter, which no score uses, is computed only for the series asked for (`jitter_at`): findings."""

    valid: np.ndarray
    period: np.ndarray
    regularity: np.ndarray
    observed_share: np.ndarray
    beats: np.ndarray
    gaps: np.ndarray
    active_share: np.ndarray
    seg: np.ndarray  # the beat intervals fitted, by series (sorted): what jitter_at reads
    d: np.ndarray

    def jitter_at(self, i: int) -> float:
        """Median relative deviation of series i's beats from its period (those not beyond MAX_MULTIPLE)."""
        k, e = _fit(self.d[sg.rows_of(self.seg, i)], self.period[i])
        return _median(np.abs(e[k <= MAX_MULTIPLE]))

    @property
    def score(self) -> np.ndarray:
        """IntervalFit.score of every series (meaningless where there is no fit)."""
        return timing_score(self.regularity, self.observed_share, self.active_share)

    def at(self, i: int) -> IntervalFit | None:
        if not self.valid[i]:
            return None
        return IntervalFit(
            period=float(self.period[i]),
            jitter=self.jitter_at(i),
            regularity=float(self.regularity[i]),
            observed_share=float(self.observed_share[i]),
            beats=int(self.beats[i]),
            gaps=int(self.gaps[i]),
            active_share=float(self.active_share[i]),
        )


def fit_many(d: np.ndarray, seg: np.ndarray, n: int) -> IntervalFits:
    """The dominant period of each series' beat intervals (seconds) and how well they keep it; no fit for fewer
    than 2 intervals.

    The period is the median interval, or a half or third of it where that explains the intervals
    clearly better (more than half the beats missed); then refined as the median of each interval
    divided by its number of periods.
    """
    seg, d = sg.grouped(np.asarray(seg, dtype=np.int64), np.asarray(d, dtype=float))
    c = sg.counts(seg, n)
    median = sg.medians(d, seg, n)
    valid = (c >= 2) & (np.nan_to_num(median) > 0)
    median = np.where(valid, median, 1.0)  # a placeholder period where there is no fit, never read
    best, best_quality = median, _quality(d, seg, n, median)
    for divisor in (2, 3):
        # A quality is at most 1: series at 0.95 or more cannot gain 0.1, and their rows are left out.
        rows = (best_quality < 0.95)[seg]
        quality = _quality(d[rows], seg[rows], n, median / divisor)
        better = quality > best_quality + 0.1
        best, best_quality = np.where(better, median / divisor, best), np.where(better, quality, best_quality)
    k, _ = _fit(d, best[seg])
    keep = k <= MAX_MULTIPLE
    period = np.nan_to_num(sg.medians(d[keep] / k[keep], seg[keep], n))
    valid &= period > 0
    period = np.where(valid, period, 1.0)
    k, e = _fit(d, period[seg])
    keep = k <= MAX_MULTIPLE
    beats = sg.counts(seg[keep], n)
    valid &= beats > 0
    total = sg.sums(d, seg, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        active = np.where(total > 0, sg.sums(d[keep], seg[keep], n) / total, 0.0)
        observed = beats / sg.sums(k[keep], seg[keep], n)
    return IntervalFits(
        valid=valid,
        period=period,
        regularity=sg.means(kernel(e[keep]), seg[keep], n),
        observed_share=observed,
        beats=beats,
        gaps=c - beats,
        active_share=active,
        seg=seg,
        d=d,
    )


@dataclass(frozen=True)
class SizeFits:
    """fit_sizes of many series; the dispersion, which no score uses, only for the series asked for."""

    typical: np.ndarray
    score: np.ndarray
    seg: np.ndarray  # the sizes, by series (sorted): what dispersion_at reads
    sizes: np.ndarray

    def dispersion_at(self, i: int) -> float:
        """Median relative deviation of series i's sizes from its typical size (0 for no connection)."""
        s = self.sizes[sg.rows_of(self.seg, i)]
        if s.size == 0:
            return 0.0
        scale = max(float(np.nan_to_num(self.typical[i])), MIN_SIZE_SCALE)
        return _median(np.abs(s - self.typical[i]) / scale)

    def at(self, i: int) -> SizeFit:
        return SizeFit(float(self.typical[i]), self.dispersion_at(i), float(self.score[i]))


def sizes_many(sizes: np.ndarray, seg: np.ndarray, n: int) -> SizeFits:
    """How alike each series' connection sizes are: a beacon's check-in is the same request each time."""
    seg, s = sg.grouped(np.asarray(seg, dtype=np.int64), np.asarray(sizes, dtype=float))
    typical = sg.medians(s, seg, n)
    scale = np.maximum(np.nan_to_num(typical), MIN_SIZE_SCALE)
    e = np.abs(s - typical[seg]) / scale[seg]
    empty = sg.counts(seg, n) == 0
    return SizeFits(
        np.where(empty, 0.0, typical),
        np.where(empty, 0.0, sg.means(kernel(e), seg, n)),
        seg,
        s,
    )


@dataclass(frozen=True)
class Coverages:
    evenness: np.ndarray
    span_share: np.ndarray
    bucket_s: np.ndarray

    @property
    def score(self) -> np.ndarray:
        """Coverage.score of every series."""
        return coverage_score(self.evenness, self.span_share)

    def at(self, i: int) -> Coverage:
        return Coverage(float(self.evenness[i]), float(self.span_share[i]), float(self.bucket_s[i]))


def coverage_many(
    times_s: np.ndarray, seg: np.ndarray, n: int, period: np.ndarray, observed_first: float, observed_last: float
) -> Coverages:
    """How evenly each series' connections cover its own span, and how much of the observed period that span is.

    Buckets are an hour wide (a 24th of the observed period when it is shorter than a day) and never
    narrower than two periods, so a slow beacon is not blamed for empty buckets between its beats.
    """
    seg, t = np.asarray(seg, dtype=np.int64), np.asarray(times_s, dtype=float)
    seg, t = _sorted(seg, t)
    observed = max(observed_last - observed_first, 1e-6)
    c = sg.counts(seg, n)
    has = c > 0
    bucket = np.maximum(np.maximum(2.0 * period, min(3600.0, observed / 24.0)), 1e-6)
    first, last = np.zeros(n), np.zeros(n)
    starts = np.concatenate(([0], np.cumsum(c)[:-1]))
    first[has], last[has] = t[starts[has]], t[starts[has] + c[has] - 1]
    slots = np.floor_divide(t - first[seg], bucket[seg]).astype(np.int64)
    new_slot = np.ones(t.size, dtype=bool)
    new_slot[1:] = (seg[1:] != seg[:-1]) | (slots[1:] != slots[:-1])
    occupied = sg.counts(seg[new_slot], n)
    n_buckets = np.floor_divide(last - first, bucket).astype(np.int64) + 1
    span = np.minimum(1.0, (last - first + period) / observed)
    return Coverages(
        np.where(has, np.minimum(1.0, occupied / n_buckets), 0.0),
        np.where(has, span, 0.0),
        np.where(has, bucket, 0.0),
    )


# The factors below take one value or an array of them (one per series) and give the same shape back.


def confidence(beats: ArrayLike, full: int = 100) -> np.ndarray:
    """0.5 + 0.5 * log(1 + beats) / log(1 + full), at most 1: each tenfold more beats proves as much again
    (5 beats: 0.69, 20: 0.83, 100 and more: 1)."""
    b = np.maximum(np.asarray(beats, dtype=float), 0.0)
    return 0.5 + 0.5 * np.minimum(1.0, np.log1p(b) / np.log1p(full))


def sharing_factor(hosts: ArrayLike, fleet_hosts: int) -> np.ndarray:
    """1 for a schedule no one else keeps; 0.85 when two keep it; from `fleet_hosts` on 0.5 * sqrt(fleet/hosts):
    the same schedule on many machines (or to many partners) is software deployed to a fleet (updates,
    telemetry, monitoring), not an infection."""
    h = np.asarray(hosts, dtype=float)
    fleet = 0.5 * np.sqrt(fleet_hosts / np.maximum(h, 1.0))
    return np.where(h <= 1, 1.0, np.where(h < fleet_hosts, 0.85, fleet))


def service_consistency(share: ArrayLike) -> np.ndarray:
    """0.5 + 0.5 * the share of connections to the series' main service: a beacon calls one service, a scanner
    knocking on a different port each time does not."""
    return 0.5 + 0.5 * np.clip(np.asarray(share, dtype=float), 0.0, 1.0)


def rarity_factor(prevalence: ArrayLike) -> np.ndarray:
    """1 for a destination only this host talks to, 0.85 for one two hosts talk to, down to 0.7."""
    return 0.7 + 0.3 / np.maximum(np.asarray(prevalence, dtype=float), 1.0)


def periodic_score(interval: ArrayLike, size: ArrayLike, cover: ArrayLike) -> np.ndarray:
    """The regularity of a series: its timing, times 0.4 + 0.6 * (0.4 * sizes + 0.6 * coverage). Timing gates:
    steady sizes over the whole day do not make random timing a beacon."""
    i, z, c = (np.asarray(x, dtype=float) for x in (interval, size, cover))
    return np.clip(i * (0.4 + 0.6 * (0.4 * z + 0.6 * c)), 0.0, 1.0)


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

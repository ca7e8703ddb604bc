"""Vectorised draws from discrete distributions: weighted categories and Zipf-like ranks."""

from __future__ import annotations

import numpy as np


def weighted(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """n category numbers drawn with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(w), size=n, p=w / w.sum())


def zipf_ranks(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """Ranks in [0, size), P(rank k) ~ 1/(k+1.5): continuous Zipf (exponent 1) inverted in closed form."""
    ranks = np.exp(rng.random(n) * np.log(size + 1.0)).astype(np.int64) - 1
    return np.minimum(ranks, size - 1)

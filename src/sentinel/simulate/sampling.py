"""Fast vectorised draws from discrete distributions (alias method, Zipf-like ranks)."""

from __future__ import annotations

import numpy as np


class Alias:
    """Walker/Vose alias table: O(1) per draw from a fixed discrete distribution.

    Built with a loop over the categories (hosts, minutes of the day); draws are vectorised.
    """

    def __init__(self, weights: np.ndarray) -> None:
        k = len(weights)
        scaled = np.asarray(weights, dtype=np.float64) / np.sum(weights) * k
        self.prob = np.ones(k)
        self.alias = np.arange(k)
        small = [i for i in range(k) if scaled[i] < 1.0]
        large = [i for i in range(k) if scaled[i] >= 1.0]
        while small and large:
            s, big = small.pop(), large.pop()
            self.prob[s], self.alias[s] = scaled[s], big
            scaled[big] += scaled[s] - 1.0
            (small if scaled[big] < 1.0 else large).append(big)
        # Leftovers are 1 up to rounding: they keep prob 1.

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        slot = rng.integers(0, len(self.prob), n)
        keep = rng.random(n) < np.take(self.prob, slot)
        return np.where(keep, slot, np.take(self.alias, slot))


def zipf_ranks(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """Ranks in [0, size), P(rank k) ~ 1/(k+1.5): continuous Zipf (exponent 1) inverted in closed form."""
    ranks = np.exp(rng.random(n) * np.log(size + 1.0)).astype(np.int64) - 1
    return np.minimum(ranks, size - 1)

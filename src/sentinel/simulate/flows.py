"""FlowBatch: flows as numpy columns with addresses as address-book indices, and the final table."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
from numpy.typing import ArrayLike

from sentinel.schema import COURSE_ARROW_SCHEMA as ARROW_SCHEMA
from sentinel.schema import COURSE_TICKS_PER_SECOND as TICKS_PER_SECOND

SECONDS_PER_DAY = 86_400

DAY = SECONDS_PER_DAY * TICKS_PER_SECOND  # timestamps are centiseconds in [0, DAY)
SECOND = TICKS_PER_SECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

NTP_PERIOD_S = 1024  # RFC 5905 default maximum poll interval

PROTOS = ("tcp", "udp")
TCP, UDP = 0, 1


@dataclass
class FlowBatch:
    ts: np.ndarray  # int64 centiseconds
    src: np.ndarray  # int32 address-book index
    dst: np.ndarray  # int32 address-book index
    proto: np.ndarray  # int8: TCP or UDP
    port: np.ndarray  # int32 destination port
    up: np.ndarray  # int64 bytes sent by src
    down: np.ndarray  # int64 bytes received by src

    @classmethod
    def make(
        cls,
        ts: ArrayLike,
        src: ArrayLike,
        dst: ArrayLike,
        proto: ArrayLike,
        port: ArrayLike,
        up: ArrayLike,
        down: ArrayLike,
    ) -> FlowBatch:
        """Build a batch, broadcasting scalars (one protocol, one port...) to the length of `ts`."""
        times = np.asarray(ts, dtype=np.int64)
        n = len(times)

        def col(value: ArrayLike, dtype: type) -> np.ndarray:
            array: np.ndarray = np.asarray(value, dtype=dtype)
            return np.full(n, array, dtype=dtype) if array.ndim == 0 else array

        return cls(
            ts=np.clip(times, 0, DAY - 1),
            src=col(src, np.int32),
            dst=col(dst, np.int32),
            proto=col(proto, np.int8),
            port=col(port, np.int32),
            up=col(up, np.int64),
            down=col(down, np.int64),
        )

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def concat(cls, batches: list[FlowBatch]) -> FlowBatch:
        return cls(**{f.name: np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(cls)})

    def sorted_table(self, book: pa.StringArray) -> pa.Table:
        """The canonical table sorted by timestamp (stable: ties keep generation order).

        IP strings come from `book` by index, never formatted per flow. The columns are
        independent gathers (numpy and Arrow release the GIL), so they run on all cores.
        """
        order = stable_order(self.ts)
        protos = pa.array(PROTOS, pa.string())

        def column(name: str) -> pa.Array:
            values = np.take(getattr(self, name), order)
            if name in ("src", "dst"):
                return book.take(pa.array(values))
            if name == "proto":
                return protos.take(pa.array(values))
            return pa.array(values, pa.int32() if name == "port" else pa.int64())

        names = [f.name for f in fields(self)]
        with ThreadPoolExecutor(max_workers=min(len(names), os.cpu_count() or 1)) as pool:
            columns = list(pool.map(column, names))
        return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)


def stable_order(ts: np.ndarray) -> np.ndarray:
    """np.argsort(ts, kind="stable"), faster: sort unique (timestamp, position) keys packed in int64.

    Timestamps fit 24 bits, so positions get the remaining 39 (any realistic row count).
    """
    shift = max(len(ts) - 1, 1).bit_length()
    keys = (ts.astype(np.int64) << shift) | np.arange(len(ts), dtype=np.int64)
    keys.sort()
    return keys & ((1 << shift) - 1)


def groups_laid_end_to_end(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of `counts` rows laid one after another: each row's group and its index within it."""
    group = np.repeat(np.arange(len(counts)), counts)
    return group, np.arange(len(group)) - np.repeat(np.cumsum(counts) - counts, counts)


def lognormal_bytes(
    rng: np.random.Generator, median: float | np.ndarray, sigma: float | np.ndarray, n: int, floor: int = 40
) -> np.ndarray:
    """Heavy-tailed byte counts with the given median, never below `floor` (headers alone)."""
    values = rng.lognormal(np.log(median), sigma, n)
    return np.maximum(values, floor).astype(np.int64)


def split_total(rng: np.random.Generator, total: int, n: int, sigma: float) -> np.ndarray:
    """n positive int64 parts of uneven (lognormal) size summing exactly to `total`."""
    weights = rng.lognormal(0.0, sigma, n)
    parts = np.floor(weights / weights.sum() * (total - n)).astype(np.int64) + 1
    remainder = total - int(parts.sum())
    parts[rng.choice(n, size=remainder % n, replace=False)] += 1
    parts += remainder // n
    return parts

"""Exact integers out of the engine: byte totals may exceed int64, so they are summed as HUGEINT.

A sum of byte counters is exact in the engine only as a 128-bit integer (each counter fits in int64, their
total need not: a damaged or hostile file can hold values near 2^63). Arrow carries HUGEINT as
decimal128(38, 0); `pylist` turns such values into Python ints, so results stay exact ints everywhere.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa


def pylist(table: pa.Table) -> list[dict[str, Any]]:
    """`table.to_pylist()` with whole-number decimals (HUGEINT sums) as Python ints."""
    whole = [f.name for f in table.schema if pa.types.is_decimal(f.type) and f.type.scale == 0]
    rows = table.to_pylist()
    for row in rows if whole else ():
        for name in whole:
            value = row[name]
            if isinstance(value, Decimal):
                row[name] = int(value)
    return rows

"""The IP dimension: every distinct address of the capture, parsed, classified and geolocated once.

Analyses join it back in the engine instead of parsing or looking up addresses per flow (the per-flow
way is what made the original slow: ENGINES.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinel.engines.base import Engine
from sentinel.enrich import netclass
from sentinel.enrich.geo import CountryProvider, OrgProvider

TABLE = "ip_dim"

# Dotted-quad text to integer in the engine; an octet over 255 fails TRY_CAST and gives NULL.
_PARSE_V4 = r"""
SELECT ip,
  CASE WHEN regexp_full_match(ip, '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}') THEN
    TRY_CAST(split_part(ip, '.', 1) AS UTINYINT)::UBIGINT * 16777216
    + TRY_CAST(split_part(ip, '.', 2) AS UTINYINT)::UBIGINT * 65536
    + TRY_CAST(split_part(ip, '.', 3) AS UTINYINT)::UBIGINT * 256
    + TRY_CAST(split_part(ip, '.', 4) AS UTINYINT)::UBIGINT
  END AS v4
FROM ({ips})
"""


@dataclass(frozen=True)
class IpDimension:
    table: pa.Table  # ip, version, ip_num, class, country, as_org (one row per distinct address)
    bad: tuple[str, ...]  # strings that are not addresses, sorted

    def lookup(self, ips: Sequence[str]) -> dict[str, dict[str, object]]:
        """Class, country and organisation of a few addresses (for alert details)."""
        wanted = set(ips)
        wanted_array = pa.array(sorted(wanted), pa.string())
        rows = self.table.filter(pc.is_in(self.table["ip"], wanted_array)).to_pylist()
        return {r["ip"]: r for r in rows}


def build(
    engine: Engine,
    distinct_ips_sql: str,
    internal: Sequence[netclass.IPNetwork],
    country_db: CountryProvider,
    org_db: OrgProvider | None,
) -> IpDimension:
    parsed = engine.query(_PARSE_V4.replace("{ips}", distinct_ips_sql)).combine_chunks()
    ip_col, v4_col = parsed["ip"], parsed["v4"]
    # Booleans go to numpy as integers: pyarrow converts boolean arrays through pandas, 0.2 s to import.
    is_v4 = pc.is_valid(v4_col).cast(pa.uint8()).to_numpy().astype(bool)
    ipv4 = pc.fill_null(v4_col, 0).to_numpy().astype(np.uint32)

    version = np.where(is_v4, 4, 0).astype(np.int8)
    klass = np.full(len(ip_col), None, dtype=object)
    klass[is_v4] = netclass.classify_v4(ipv4[is_v4], internal)
    bad: list[str] = []
    for i in np.flatnonzero(~is_v4):  # IPv6 or garbage: rare, so Python per address is fine
        text = ip_col[int(i)].as_py()
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            bad.append(text)
            continue
        version[i] = address.version
        klass[i] = netclass.classify_one(address, internal)

    country = np.full(len(ip_col), None, dtype=object)
    as_org = np.full(len(ip_col), None, dtype=object)
    if is_v4.any():
        country[is_v4] = country_db.countries(ipv4[is_v4])
        if org_db is not None:
            as_org[is_v4] = org_db.organisations(ipv4[is_v4])

    table = pa.table(
        {
            "ip": ip_col,
            "version": pa.array(version, pa.int8(), mask=version == 0),
            "ip_num": pa.array(ipv4, pa.uint32(), mask=~is_v4),
            "class": pa.array(klass, pa.string()),
            "country": pa.array(country, pa.string()),
            "as_org": pa.array(as_org, pa.string()),
        }
    )
    engine.register(TABLE, table)
    return IpDimension(table=table, bad=tuple(sorted(bad)))

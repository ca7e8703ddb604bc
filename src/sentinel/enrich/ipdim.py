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
FROM ({ips}) ORDER BY ip
"""


@dataclass(frozen=True)
class IpDimension:
    table: pa.Table  # ip, version, ip_num, class, country, as_org (one row per distinct address)
    bad: tuple[str, ...]  # strings that are not addresses

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
    parsed = engine.query(_PARSE_V4.replace("{ips}", distinct_ips_sql))
    ips = parsed["ip"].to_pylist()
    is_v4 = parsed["v4"].is_valid().to_numpy(zero_copy_only=False)
    ipv4 = parsed["v4"].fill_null(0).to_numpy().astype(np.uint32)

    version = np.where(is_v4, 4, 0).astype(np.int8)
    klass = np.full(len(ips), None, dtype=object)
    klass[is_v4] = netclass.classify_v4(ipv4[is_v4], internal)
    bad: list[str] = []
    for i in np.flatnonzero(~is_v4):  # IPv6 or garbage: rare, so Python per address is fine
        try:
            address = ipaddress.ip_address(ips[i])
        except ValueError:
            bad.append(ips[i])
            continue
        version[i] = address.version
        klass[i] = netclass.classify_one(address, internal)

    country = np.full(len(ips), None, dtype=object)
    as_org = np.full(len(ips), None, dtype=object)
    if is_v4.any():
        country[is_v4] = country_db.countries(ipv4[is_v4])
        if org_db is not None:
            as_org[is_v4] = org_db.organisations(ipv4[is_v4])

    table = pa.table(
        {
            "ip": pa.array(ips, pa.string()),
            "version": pa.array(np.where(version == 0, None, version), pa.int8()),
            "ip_num": pa.array(np.where(is_v4, ipv4, None), pa.uint32()),
            "class": pa.array(klass, pa.string()),
            "country": pa.array(country, pa.string()),
            "as_org": pa.array(as_org, pa.string()),
        }
    )
    engine.register(TABLE, table)
    return IpDimension(table=table, bad=tuple(bad))

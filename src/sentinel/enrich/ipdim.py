"""The IP dimension: every distinct address of the capture, parsed, classified and geolocated once.

Analyses join it back in the engine instead of parsing or looking up addresses per flow (the per-flow
way is what made the original slow: ENGINES.md). Parsing is SQL and classification numpy, for IPv4 and
IPv6 alike: no Python code runs per address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinel.engines.base import Engine
from sentinel.enrich import netclass
from sentinel.enrich.geo import CountryProvider, OrgProvider
from sentinel.enrich.geodb import Answers, GeoDatabase, GeoStack, as_org_texts

TABLE = "ip_dim"
_DISTINCT = "distinct_ips"
_REST = "ip_dim_rest"

# The common case, canonical dotted quads, in one cheap pass; an octet over 255 fails TRY_CAST: NULL.
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

# Every other spelling: (version, v4, hi, lo, canonical) per text, all NULL for a text that is no address.
#
# Accepted: dotted quads; IPv6 in all RFC 4291 spellings (one "::", 1-4 hex digits a group in either case,
# a dotted-quad tail as the last two groups). Refused although Python's ipaddress accepts them: scope ids
# ("fe80::1%eth0": meaningless in a flow record, and they can carry any character), so only hex digits,
# ":" and "." pass. Octets with leading zeros ("192.168.001.010", also in an IPv6 tail) are read as decimal
# and accepted as the address without the zeros, which Python (>= 3.9.5) refuses as ambiguous: inet_aton
# would read them as octal, but flow exporters pad decimal octets, and counting the padded spelling as a
# malformed row would lose the host's traffic.
#
# Canonical text is Python's str() of the address (RFC 5952: lower case, no leading zeros, the first longest
# run of two or more zero groups as "::"; IPv4-mapped addresses in hex, as Python 3.11 gives them).
_PARSE = r"""
WITH a AS (
  SELECT i, ip,
    regexp_full_match(ip, '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}') AS dotted,
    regexp_full_match(ip, '[0-9A-Fa-f:.]{2,45}') AND contains(ip, ':') AS colons,
    regexp_extract(ip, '[^:]*$') AS tail
  FROM {rest}
), quads AS (
  SELECT i, ip, dotted, colons, tail,
    list_transform(string_split(CASE WHEN dotted THEN ip ELSE tail END, '.'),
                   lambda o: TRY_CAST(o AS UTINYINT)::UBIGINT) AS q
  FROM a
), b AS (
  SELECT i, ip, dotted, q,
    CASE WHEN dotted AND len(q) = 4 THEN q[1] * 16777216 + q[2] * 65536 + q[3] * 256 + q[4] END AS v4,
    CASE WHEN NOT colons THEN NULL
         WHEN NOT contains(tail, '.') THEN ip
         WHEN regexp_full_match(tail, '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}')
           THEN left(ip, length(ip) - length(tail)) || printf('%x:%x', q[1] * 256 + q[2], q[3] * 256 + q[4])
    END AS hex
  FROM quads
), c AS (
  SELECT i, ip, v4, hex, string_split(hex, '::') AS halves FROM b
), d AS (
  SELECT i, ip, v4,
    hex IS NOT NULL AND NOT contains(hex, '.') AND NOT contains(hex, ':::') AND len(halves) <= 2 AS ok,
    len(halves) = 2 AS gap,
    CASE WHEN halves[1] = '' THEN [] ELSE string_split(halves[1], ':') END AS head,
    CASE WHEN len(halves) < 2 OR halves[2] = '' THEN [] ELSE string_split(halves[2], ':') END AS rest
  FROM c
), e AS (
  SELECT i, ip, v4,
    ok AND CASE WHEN gap THEN len(head) + len(rest) <= 7 ELSE len(head) = 8 END
       AND coalesce(list_bool_and(list_transform(list_concat(head, rest), lambda g: length(g) <= 4 AND g <> '')), true)
       AS ok,
    list_transform(list_concat(head, repeat(['0'], greatest(0, 8 - len(head) - len(rest))), rest),
                   lambda g: TRY_CAST('0x' || g AS UBIGINT)) AS g
  FROM d
), f AS (
  SELECT i, ip, v4,
    CASE WHEN ok THEN (g[1] << 48) | (g[2] << 32) | (g[3] << 16) | g[4] END AS hi,
    CASE WHEN ok THEN (g[5] << 48) | (g[6] << 32) | (g[7] << 16) | g[8] END AS lo,
    CASE WHEN ok THEN ':' || array_to_string(list_transform(g, lambda x: printf('%x', x)), ':') || ':' END AS w
  FROM e
), r AS (
  SELECT *,
    CASE WHEN contains(w, ':0:0:0:0:0:0:0:0:') THEN 8 WHEN contains(w, ':0:0:0:0:0:0:0:') THEN 7
         WHEN contains(w, ':0:0:0:0:0:0:') THEN 6 WHEN contains(w, ':0:0:0:0:0:') THEN 5
         WHEN contains(w, ':0:0:0:0:') THEN 4 WHEN contains(w, ':0:0:0:') THEN 3
         WHEN contains(w, ':0:0:') THEN 2 ELSE 0 END AS run
  FROM f
), s AS (
  SELECT *, strpos(w, repeat(':0', run) || ':') AS pos FROM r
), t AS (
  SELECT *, CASE WHEN run = 0 THEN w ELSE left(w, pos - 1) || '::' || substr(w, pos + 2 * run + 1) END AS z FROM s
)
SELECT i, ip,
  CASE WHEN v4 IS NOT NULL THEN 4 WHEN hi IS NOT NULL THEN 6 END::TINYINT AS version,
  v4::UINTEGER AS v4, hi, lo,
  CASE WHEN v4 IS NOT NULL THEN printf('%d.%d.%d.%d', v4 >> 24, (v4 >> 16) & 255, (v4 >> 8) & 255, v4 & 255)
       WHEN hi IS NOT NULL THEN
         CASE WHEN starts_with(z, '::') THEN z ELSE substr(z, 2) END[:CASE WHEN ends_with(z, '::') THEN -1 ELSE -2 END]
  END AS canonical
FROM t"""

# One row of IpDimension.table, as lookup gives it (functional form: "class" is a keyword).
HostRow = TypedDict(
    "HostRow",
    {
        "ip": str,
        "version": int | None,  # 4 or 6; None for no address
        "ip_num": int | None,
        "hi": int | None,
        "lo": int | None,
        "canonical": str | None,
        "class": str | None,
        "country": str | None,
        "as_org": str | None,
        "asn": int | None,
        "as_name": str | None,
        "city": str | None,
        "address_class": str | None,
        "id": NotRequired[int | None],  # only in the dimension of an imported dataset with address ids
    },
)

#: The columns of the dimension the engine sees (and joins on).
ENGINE_COLUMNS = ("ip", "version", "class", "country", "as_org", "asn", "address_class")

_DIGITS = np.array([1] * 10 + [2] * 90 + [3] * 156, dtype=np.int32)  # decimal digits of 0..255


@dataclass(frozen=True)
class IpDimension:
    # ip (the raw text, as flows spell it), version, ip_num (IPv4 as uint32), hi and lo (IPv6 as the uint64
    # halves of its 128 bits), canonical, class (internal/public/special), country, as_org ("AS15169 Google
    # LLC"), asn, as_name, city, address_class (netclass.ADDRESS_CLASSES): one row per distinct text, plus one
    # per canonical spelling that only appears under other spellings (so flows rewritten to it still join).
    table: pa.Table
    bad: tuple[str, ...]  # strings that are not addresses, sorted
    # raw text -> canonical text, for the spellings in the capture that are not canonical (rare).
    aliases: Mapping[str, str] = field(default_factory=dict)

    def lookup(self, ips: Sequence[str]) -> dict[str, HostRow]:
        """Class, country and organisation of a few addresses (for alert details)."""
        wanted = set(ips)
        wanted_array = pa.array(sorted(wanted), pa.string())
        rows = self.table.filter(pc.is_in(self.table["ip"], wanted_array)).to_pylist()
        return {r["ip"]: r for r in rows}


@dataclass
class Parsed:
    """The distinct texts and what they are, as arrays (one entry per text, in the engine's order)."""

    ip: pa.Array
    version: np.ndarray  # int8: 4, 6, or 0 for no address
    ipv4: np.ndarray  # uint32 (0 where not IPv4)
    hi: np.ndarray  # uint64 halves (0 where not IPv6)
    lo: np.ndarray
    canonical: pa.Array  # NULL for no address
    rest: np.ndarray  # bool: which texts went through the full parser (all but canonical dotted quads)


def parse(engine: Engine, distinct_ips_sql: str) -> Parsed:
    """Parse the distinct address texts: the fast pass for canonical IPv4, the full parser for the rest.

    The engine lists the distinct texts; they are parsed on the driver by embedded DuckDB (the engine itself
    when it is DuckDB), so that one parser serves every engine and runs once per distinct address.
    """
    local = engine.local()
    local.register(_DISTINCT, engine.query(distinct_ips_sql))
    first = local.query(_PARSE_V4.replace("{ips}", f"SELECT ip FROM {_DISTINCT}")).combine_chunks()
    ip = first["ip"].combine_chunks() if first.num_rows else pa.array([], pa.string())
    v4 = first["v4"]
    # Booleans go to numpy as integers: pyarrow converts boolean arrays through pandas, 0.2 s to import.
    is_v4 = _mask(pc.is_valid(v4))
    ipv4 = pc.fill_null(v4, 0).to_numpy().astype(np.uint32)
    # A canonical dotted quad is exactly as long as its octets' digits and 3 dots; longer means leading zeros.
    octets = (ipv4[:, None] >> np.array([24, 16, 8, 0], np.uint32)) & np.uint32(0xFF)
    canonical_length = _DIGITS[octets].sum(axis=1) + 3
    rest = ~is_v4 | (pc.utf8_length(ip).to_numpy(zero_copy_only=False) != canonical_length)
    parsed = Parsed(
        ip=ip,
        version=np.where(is_v4, 4, 0).astype(np.int8),
        ipv4=ipv4,
        hi=np.zeros(len(ip), np.uint64),
        lo=np.zeros(len(ip), np.uint64),
        canonical=ip,
        rest=rest,
    )
    if rest.any():
        _parse_rest(local, parsed, rest)
    return parsed


def _parse_rest(engine: Engine, parsed: Parsed, rest: np.ndarray) -> None:
    """Run the full parser over the texts the fast pass did not settle; fill their fields in place."""
    index = np.flatnonzero(rest)
    texts = parsed.ip.take(pa.array(index))
    engine.register(_REST, pa.table({"i": pa.array(np.arange(len(index), dtype=np.int64)), "ip": texts}))
    out = engine.query(_PARSE.replace("{rest}", _REST) + " ORDER BY i").combine_chunks()
    parsed.version[index] = pc.fill_null(out["version"], 0).to_numpy()
    parsed.ipv4[index] = pc.fill_null(out["v4"], 0).to_numpy()
    parsed.hi[index] = pc.fill_null(out["hi"], 0).to_numpy()
    parsed.lo[index] = pc.fill_null(out["lo"], 0).to_numpy()
    canonical = out["canonical"].combine_chunks() if out.num_rows else pa.array([], pa.string())
    parsed.canonical = pc.replace_with_mask(parsed.canonical, pa.array(rest), canonical)


def _mask(booleans: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return booleans.cast(pa.uint8()).to_numpy().astype(bool)


def stack_of(country_db: CountryProvider | GeoStack, org_db: OrgProvider | None = None) -> GeoStack:
    """A GeoStack as given, or one made of a country provider and an organisation provider (the API of old)."""
    if isinstance(country_db, GeoStack):
        return country_db
    from sentinel.enrich.databases import LegacyCountry, LegacyOrg

    databases: list[GeoDatabase] = [LegacyCountry(country_db)]
    if org_db is not None:
        databases.append(LegacyOrg(org_db))
    return GeoStack(databases, exclusive=("country", "asn"))


def build(
    engine: Engine,
    distinct_ips_sql: str,
    internal: Sequence[netclass.IPNetwork],
    country_db: CountryProvider | GeoStack,
    org_db: OrgProvider | None = None,
    address_ids: pa.Table | None = None,
) -> IpDimension:
    """The dimension of the distinct addresses `distinct_ips_sql` lists, geolocated by `country_db` (a GeoStack
    of every database of the run, or, as before, a country provider and an optional organisation one).

    `address_ids`: an imported dataset's address table (id, ip); the dimension then has each address's `id`
    too, in the engine as well, for queries keyed by ids to join on."""
    p = parse(engine, distinct_ips_sql)
    is_v4, is_v6 = p.version == 4, p.version == 6
    bad = tuple(sorted(pc.drop_null(p.ip.filter(pa.array(p.version == 0))).to_pylist()))
    aliased = _aliased(p)
    keep = pa.array(aliased)
    aliases = dict(zip(p.ip.filter(keep).to_pylist(), p.canonical.filter(keep).to_pylist(), strict=True))

    klass = np.full(len(p.ip), None, dtype=object)
    coarse_v4 = netclass.classify_v4(p.ipv4[is_v4], internal)
    klass[is_v4] = coarse_v4
    klass[is_v6] = netclass.classify_v6(p.hi[is_v6], p.lo[is_v6], internal)
    fine = np.full(len(p.ip), None, dtype=object)
    fine[is_v4] = netclass.address_classes_v4(p.ipv4[is_v4], internal, coarse=coarse_v4)
    fine[is_v6] = netclass.address_classes_v6(p.hi[is_v6], p.lo[is_v6], internal)
    geo = geolocate(p, stack_of(country_db, org_db))
    asn = pa.array(geo.asn, pa.int64())
    as_name = pa.array(geo.as_name, pa.string())

    table = pa.table(
        {
            "ip": p.ip,
            "version": pa.array(p.version, pa.int8(), mask=p.version == 0),
            "ip_num": pa.array(p.ipv4, pa.uint32(), mask=~is_v4),
            "hi": pa.array(p.hi, pa.uint64(), mask=~is_v6),
            "lo": pa.array(p.lo, pa.uint64(), mask=~is_v6),
            "canonical": p.canonical,
            "class": pa.array(klass, pa.string()),
            "country": pa.array(geo.country, pa.string()),
            "as_org": as_org_texts(asn, as_name),
            "asn": asn,
            "as_name": as_name,
            "city": pa.array(geo.city, pa.string()),
            "address_class": pa.array(fine, pa.string()),
        }
    )
    table = _with_absent_canonical_rows(table, aliased)
    columns = list(ENGINE_COLUMNS)
    if address_ids is not None:
        table = table.append_column("id", pc.take(address_ids["id"], pc.index_in(table["ip"], address_ids["ip"])))
        columns.append("id")
    # The engine gets what its queries join on (Spark takes no unsigned columns; less to broadcast).
    engine.register(TABLE, table.select(columns))
    return IpDimension(table=table, bad=bad, aliases=aliases)


def _aliased(p: Parsed) -> np.ndarray:
    """Mask of the addresses not spelled canonically; only texts the full parser saw can be."""
    aliased = np.zeros(len(p.ip), dtype=bool)
    seen = pa.array(np.flatnonzero(p.rest & (p.version != 0)))
    if len(seen):
        aliased[seen.to_numpy()] = _mask(pc.not_equal(p.ip.take(seen), p.canonical.take(seen)))
    return aliased


def geolocate(p: Parsed, stack: GeoStack) -> Answers:
    """Country, AS and city per address from the run's databases: IPv4 by number, IPv6 by its halves and text.

    Addresses that embed an IPv4 one (IPv4-mapped, NAT64) are looked up as that IPv4 address.
    """
    version = p.version.copy()
    ipv4 = p.ipv4.copy()
    v6 = np.flatnonzero(p.version == 6)
    if v6.size:
        mapped, nat64, embedded = netclass.embedded_v4(p.hi[v6], p.lo[v6])
        inner = v6[mapped | nat64]
        ipv4[inner] = embedded[mapped | nat64]
        version[inner] = 4
    texts: list[str] = p.canonical.to_pylist() if (version == 6).any() else [""] * len(version)
    return stack.lookup(version, ipv4, p.hi, p.lo, texts).answers


def _with_absent_canonical_rows(table: pa.Table, aliased: np.ndarray) -> pa.Table:
    """Add a row keyed by the canonical text for each alias whose canonical spelling is not in the capture.

    Flows can then be rewritten to canonical text and still find their address in the dimension.
    """
    if not aliased.any():
        return table
    rows = table.filter(pa.array(aliased))
    absent = rows.filter(pc.invert(pc.is_in(rows["canonical"], table["ip"])))
    if not absent.num_rows:
        return table
    _, first = np.unique(absent["canonical"].to_numpy(zero_copy_only=False).astype(str), return_index=True)
    extra = absent.take(pa.array(np.sort(first))).set_column(
        0, "ip", absent["canonical"].take(pa.array(np.sort(first)))
    )
    return pa.concat_tables([table, extra])


def address_order(dimension: pa.Table, ips: pa.Array | pa.ChunkedArray) -> pa.Table:
    """(ip, ord) for the addresses `ips`, ord following netclass.ip_sort_key (non-addresses first, then IPv4
    before IPv6, by numeric value, text breaking ties): the order of addresses in outputs. From the IP
    dimension's parsed columns (version, ip_num, hi, lo), sorted by Arrow, not per address in Python."""
    rows = dimension.filter(pc.is_in(dimension["ip"], value_set=pa.array(ips, pa.string())))
    keys = {c: pc.fill_null(rows[c], 0) for c in ("version", "ip_num", "hi", "lo")}  # 0: no such part
    ordered = pa.table({**keys, "ip": rows["ip"]}).sort_by([(c, "ascending") for c in (*keys, "ip")])
    return pa.table({"ip": ordered["ip"], "ord": pa.array(np.arange(ordered.num_rows, dtype=np.int64))})

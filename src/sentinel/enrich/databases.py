"""Which GeoIP/AS databases a run uses: the files the user names, detected by content, the DB-IP Lite files
`sentinel geoip update` keeps in the user cache, and the embedded defaults. See geodb for who wins."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from sentinel.enrich.geo import CountryProvider, OrgProvider, check_file, open_country_db, open_org_db
from sentinel.enrich.geodb import (
    UNKNOWN_PREFIX,
    Answers,
    DatabaseInfo,
    GeoDatabase,
    GeoStack,
    known,
    split_legacy_org,
)
from sentinel.errors import GeoIPError
from sentinel.user_cache import cache_dir

#: The files `sentinel geoip update` writes into cache_dir()/geoip, and later runs read.
CACHED_FILES = {"country": "dbip-country-lite.mmdb", "asn": "dbip-asn-lite.mmdb"}
DBIP_LICENCE = "CC BY 4.0, IP Geolocation by DB-IP (https://db-ip.com)"
_TAIL = 128 * 1024
_DATE8 = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")


def geoip_cache() -> Path:
    return cache_dir() / "geoip"


class LegacyCountry:
    """A legacy country .dat (-gi) as a stack database."""

    def __init__(self, provider: CountryProvider, explicit: bool = True) -> None:
        self._db = provider
        info = getattr(provider, "info", None)
        self.info = DatabaseInfo(
            name=provider.source,
            kind="legacy .dat",
            provides=("country",),
            explicit=explicit,
            description=info or "legacy GeoIP country edition",
            date=_date8(info),
            licence=_legacy_licence(info),
        )

    def lookup_v4(self, ipv4: np.ndarray) -> Answers:
        out = Answers.empty(len(ipv4))
        out.country[:] = self._db.countries(ipv4)
        out.prefix[known(out.country)] = UNKNOWN_PREFIX
        return out

    def lookup_v6(self, hi: np.ndarray, lo: np.ndarray, texts: Sequence[str]) -> Answers:
        out = Answers.empty(len(texts))
        out.country[:] = self._db.countries_v6(texts)
        out.prefix[known(out.country)] = UNKNOWN_PREFIX
        return out


class EmbeddedCountry(LegacyCountry):
    """The embedded iptocc country data as a stack database."""

    def __init__(self, provider: CountryProvider) -> None:
        from importlib import metadata

        self._db = provider
        try:
            version = metadata.version("iptocc")
        except metadata.PackageNotFoundError:
            version = "unknown version"
        self.info = DatabaseInfo(
            name=provider.source,
            kind="embedded",
            provides=("country",),
            explicit=False,
            description="country each address block was delegated to (regional registries' delegation files)",
            date=f"package iptocc {version}",
            licence="RIR delegation statistics (NRO, CC BY 4.0); iptocc MIT OR Apache-2.0",
        )


class LegacyOrg:
    """A legacy ASN/organisation/ISP .dat (-gin) as a stack database."""

    def __init__(self, provider: OrgProvider, explicit: bool = True) -> None:
        self._db = provider
        info = getattr(provider, "info", None)
        self.info = DatabaseInfo(
            name=provider.source,
            kind="legacy .dat",
            provides=("asn",),
            explicit=explicit,
            description=info or "legacy GeoIP organisation edition",
            date=_date8(info),
            licence=_legacy_licence(info),
        )

    def lookup_v4(self, ipv4: np.ndarray) -> Answers:
        out = Answers.empty(len(ipv4))
        # Split each distinct organisation text once: a capture's addresses share a few thousand of them.
        encoded = pa.array(self._db.organisations(ipv4), pa.string()).dictionary_encode()
        pairs = [split_legacy_org(text) for text in encoded.dictionary.to_pylist()]
        found = encoded.indices.is_valid().cast(pa.uint8()).to_numpy().astype(bool)  # no pandas for booleans
        index = encoded.indices.fill_null(0).to_numpy()[found]
        out.asn[found] = np.array([a for a, _ in pairs] or [None], dtype=object)[index]
        out.as_name[found] = np.array([n for _, n in pairs] or [None], dtype=object)[index]
        out.prefix[found] = UNKNOWN_PREFIX
        return out

    def lookup_v6(self, hi: np.ndarray, lo: np.ndarray, texts: Sequence[str]) -> Answers:
        return Answers.empty(len(texts))  # legacy ASN editions are IPv4-only


def _date8(info: str | None) -> str | None:
    match = _DATE8.search(info or "")
    return "-".join(match.groups()) if match else None


def _legacy_licence(info: str | None) -> str:
    if info and "GeoLite2" in info:
        return "GeoLite2 EULA: This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com"
    return "MaxMind GeoLite legacy: This product includes GeoLite data created by MaxMind, available from https://www.maxmind.com"


def detect(path: str) -> str:
    """The kind of database file `path` is, from its content: 'mmdb', 'csv' or 'legacy'."""
    from sentinel.enrich.geoip_csv import sniff
    from sentinel.enrich.geoip_mmdb import MARKER

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(16)
        f.seek(max(0, size - _TAIL))
        tail = f.read()
    if MARKER in tail:
        return "mmdb"
    if sniff(path):  # plain or gzip-compressed
        return "csv"
    if head.startswith(b"\x1f\x8b"):
        raise GeoIPError(path, "it is gzip-compressed: decompress it first (gunzip)")
    return "legacy"


def open_database(path: str, option: str = "--geoip-db", explicit: bool = True) -> GeoDatabase:
    """The database in `path`, whatever its kind (detected by content). Raises GeoIPError."""
    check_file(path, option)
    try:
        kind = detect(path)
    except OSError as exc:
        raise GeoIPError(path, f"cannot read the file ({exc.strerror or exc})", option) from None
    except GeoIPError as exc:
        raise exc.for_option(option) from None
    if kind == "mmdb":
        from sentinel.enrich.geoip_mmdb import MmdbDatabase

        return MmdbDatabase(path, explicit=explicit, option=option)
    if kind == "csv":
        from sentinel.enrich.geoip_csv import CsvRanges

        return CsvRanges(path, explicit=explicit, option=option)
    # A legacy .dat: a country edition, else an organisation one; the country error says what it is.
    try:
        return LegacyCountry(open_country_db(path, option), explicit)
    except GeoIPError as country_error:
        if "database; " in country_error.problem:  # a legacy file of another edition
            try:
                org = open_org_db(path, option)
            except GeoIPError:
                org = None
            if org is not None:
                return LegacyOrg(org, explicit)
        problem = country_error.problem.replace(f"; {option} needs a country database", "")
        raise GeoIPError(path, problem, option) from None


def cached_databases() -> list[GeoDatabase]:
    """The DB-IP Lite files `sentinel geoip update` left in the cache (a damaged one is skipped, not fatal)."""
    out: list[GeoDatabase] = []
    folder = geoip_cache()
    for name in CACHED_FILES.values():
        path = folder / name
        if not path.is_file():
            continue
        from sentinel.enrich.geoip_mmdb import MmdbDatabase

        try:
            db = MmdbDatabase(path, explicit=False)
        except GeoIPError:
            continue
        db.info = dataclasses.replace(db.info, name=f"cache: {path}", licence=DBIP_LICENCE)
        out.append(db)
    return out


def open_stack(
    country_db: str | None = None,
    org_db: str | None = None,
    geoip_dbs: Sequence[str] = (),
    use_cache: bool = True,
    embedded: bool = True,
) -> GeoStack:
    """Every database of a run, in preference order: -gi, -gin, --geoip-db (as given), cache, embedded."""
    from sentinel.enrich.geoip_default import EmbeddedCountryDB
    from sentinel.enrich.geoip_embedded_as import EmbeddedAS

    databases: list[GeoDatabase] = []
    exclusive: list[str] = []
    if country_db is not None:
        databases.append(LegacyCountry(open_country_db(country_db, "-gi")))
        exclusive.append("country")
    if org_db is not None:
        org = open_org_db(org_db, "-gin")
        if org is not None:
            databases.append(LegacyOrg(org))
        exclusive.append("asn")
    databases += [open_database(p) for p in geoip_dbs]
    if use_cache:
        databases += cached_databases()
    if embedded:
        databases.append(EmbeddedCountry(EmbeddedCountryDB()))
        databases.append(EmbeddedAS())
    return GeoStack(databases, exclusive)

"""MaxMind DB (.mmdb) files through the `maxminddb` library: GeoLite2/GeoIP2 country, city, ASN and ISP,
DB-IP Lite, ip-location-db. What a file provides is read from its records, not from its name.

The C extension answers one address at a time (~1-2 µs each); the distinct addresses of a capture go
through it once, never the flows. Record shapes understood:

- country: `country.iso_code` (GeoIP2, GeoLite2, DB-IP), else `registered_country.iso_code`, or a top-level
  `country_code` (ip-location-db);
- city: `city.names.en` (GeoIP2/GeoLite2/DB-IP City), or a top-level `city` string (ip-location-db);
- AS: `autonomous_system_number` and `autonomous_system_organization` (GeoLite2-ASN, GeoIP2-ISP, DB-IP ASN,
  ip-location-db ASN).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from sentinel.enrich.geodb import Answers, DatabaseInfo
from sentinel.enrich.geoip_default import dotted
from sentinel.errors import GeoIPError

MARKER = b"\xab\xcd\xefMaxMind.com"
_PROBE_V4 = ("1.1.1.1", "8.8.8.8", "2.125.160.216", "89.160.20.112", "81.2.69.160", "216.160.83.56", "1.128.0.0")
# Licences by database type prefix, for the reports (a file carries no licence of its own).
_LICENCES = {
    "DBIP": "CC BY 4.0, IP Geolocation by DB-IP (https://db-ip.com)",
    "GeoLite2": "GeoLite2 EULA: This product includes GeoLite2 data created by MaxMind, available from "
    "https://www.maxmind.com",
    "GeoIP2": "MaxMind GeoIP2 commercial licence",
}


def is_mmdb(head_tail: bytes) -> bool:
    return MARKER in head_tail


class MmdbDatabase:
    """One .mmdb file, opened and checked once; raises GeoIPError naming the file and the option."""

    def __init__(self, path: str | os.PathLike[str], explicit: bool = True, option: str | None = None) -> None:
        import maxminddb

        self.path = os.fspath(path)
        try:
            self._reader = maxminddb.open_database(self.path, maxminddb.MODE_MMAP_EXT)
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise GeoIPError(self.path, f"not a usable MaxMind DB file ({exc})", option) from None
        meta = self._reader.metadata()
        self.database_type = str(meta.database_type)
        self.ip_version = int(meta.ip_version)
        provides = self._provides()
        if not provides:
            raise GeoIPError(
                self.path,
                f"a MaxMind DB of type {self.database_type!r} whose records have no country, city or AS fields",
                option,
            )
        built = dt.datetime.fromtimestamp(int(meta.build_epoch), dt.UTC).date().isoformat()
        licence = next((text for prefix, text in _LICENCES.items() if self.database_type.startswith(prefix)), None)
        description = (meta.description or {}).get("en") or self.database_type
        self.info = DatabaseInfo(
            name=self.path,
            kind="MaxMind DB",
            provides=provides,
            explicit=explicit,
            description=f"{self.database_type}: {description}" if description != self.database_type else description,
            date=built,
            licence=licence,
        )

    def _provides(self) -> tuple[str, ...]:
        """Which fields the records carry, from the type name and a few records (a type is free text)."""
        tokens = set(re.split("[^a-z0-9]+", self.database_type.lower()))
        found: set[str] = set()
        if "city" in tokens:
            found |= {"city", "country"}
        if "country" in tokens:
            found.add("country")
        if tokens & {"asn", "isp"} and not found:  # "geo-whois-asn-country" is a country database
            found.add("asn")
        probes = list(_PROBE_V4) + (["2001:4860:4860::8888", "2a02:d8c0::"] if self.ip_version == 6 else [])
        for ip in probes:
            try:
                record = self._reader.get(ip)
            except ValueError:
                continue
            if isinstance(record, dict):
                country, asn, name, city = _fields(record)
                found |= {f for f, v in (("country", country), ("asn", asn or name), ("city", city)) if v}
        return tuple(f for f in ("country", "asn", "city") if f in found)

    def _lookup(self, texts: Sequence[str]) -> Answers:
        out = Answers.empty(len(texts))
        get = self._reader.get_with_prefix_len
        for i, ip in enumerate(texts):
            try:
                record, prefix = get(ip)
            except ValueError:  # an IPv6 address in an IPv4-only database
                continue
            if not isinstance(record, dict):
                continue
            out.country[i], out.asn[i], out.as_name[i], out.city[i] = _fields(record)
            out.prefix[i] = prefix
        return out

    def lookup_v4(self, ipv4: np.ndarray) -> Answers:
        return self._lookup(dotted(ipv4)) if len(ipv4) else Answers.empty(0)

    def lookup_v6(self, hi: np.ndarray, lo: np.ndarray, texts: Sequence[str]) -> Answers:
        if self.ip_version == 4:
            return Answers.empty(len(texts))
        return self._lookup(texts)

    def close(self) -> None:
        self._reader.close()


def _fields(record: dict[str, Any]) -> tuple[str | None, int | None, str | None, str | None]:
    country = _text(_get(record, "country", "iso_code")) or _text(_get(record, "registered_country", "iso_code"))
    country = country or _text(record.get("country_code"))
    city = _get(record, "city", "names", "en")
    if city is None and isinstance(record.get("city"), str):
        city = record["city"]
    asn = record.get("autonomous_system_number")
    name = record.get("autonomous_system_organization")
    return (
        country.upper() if country else None,
        int(asn) if isinstance(asn, int) and asn > 0 else None,
        _text(name),
        _text(city),
    )


def _get(record: dict[str, Any], *keys: str) -> Any:
    value: Any = record
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

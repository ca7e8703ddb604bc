"""GeoIP enrichment: the provider interface the pipeline calls, and how a provider is chosen.

The engine computes the *distinct* addresses of a capture (as uint32), hands them to a provider as one
numpy array and joins the answers back. So a provider answers a whole batch at once and never sees an address
twice; answers are plain lists (one entry per input, same order) that go straight into an Arrow/DuckDB column.
IPv4 addresses come as uint32 arrays; IPv6 ones as canonical text (RFC 5952), the form lookup libraries take.

Providers: `geoip_legacy.LegacyGeoIP` (MaxMind legacy .dat, walked with numpy) and
`geoip_default.EmbeddedCountryDB` (offline RIR delegation data shipped in the `iptocc` package).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from sentinel.errors import GeoIPError

if TYPE_CHECKING:
    from sentinel.enrich.geoip_legacy import LegacyGeoIP

__all__ = [
    "CountryProvider",
    "OrgProvider",
    "as_ipv4_array",
    "open_country_db",
    "open_org_db",
]

_UINT32_MAX = 0xFFFF_FFFF


@runtime_checkable
class CountryProvider(Protocol):
    """Country of IPv4 and IPv6 addresses, looked up a batch at a time."""

    # One line for reports: the database path, or "embedded default (iptocc <version>, RIR delegation data)".
    source: str

    def countries(self, ipv4: np.ndarray) -> list[str | None]:
        """ISO 3166-1 alpha-2 code per address of the uint32 array, or None (no data / private / reserved)."""
        ...

    def countries_v6(self, texts: Sequence[str]) -> list[str | None]:
        """The same for IPv6 addresses in canonical text; None for all where the database is IPv4-only."""
        ...


@runtime_checkable
class OrgProvider(Protocol):
    """Organisation (AS number and name) of IPv4 addresses, looked up a batch at a time."""

    source: str

    def organisations(self, ipv4: np.ndarray) -> list[str | None]:
        """E.g. "AS15169 Google Inc." per address of the uint32 array, or None where the database has none."""
        ...


def open_country_db(path: str | os.PathLike[str] | None, option: str = "-gi") -> CountryProvider:
    """The country provider for `path` (a legacy GeoIP country .dat), or the embedded default when None.

    `option` is the command-line option the path came from; error messages name it. Raises GeoIPError.
    """
    # Imported here so that choosing a provider loads only that provider's dependencies.
    if path is None:
        from sentinel.enrich.geoip_default import EmbeddedCountryDB

        return EmbeddedCountryDB()
    return _open_legacy(path, "country", option)


def open_org_db(path: str | os.PathLike[str] | None, option: str = "-gin") -> OrgProvider | None:
    """The org provider for `path` (a legacy GeoIP ASN, organisation or ISP .dat); None when `path` is None.

    There is no embedded ASN default yet. Raises GeoIPError.
    """
    if path is None:
        return None
    return _open_legacy(path, "org", option)


def check_file(path: str | os.PathLike[str], option: str) -> None:
    """Fail at once on a path that cannot be a database file (missing, a directory, unreadable)."""
    from sentinel.enrich.geoip_legacy import check_path

    try:
        check_path(os.fspath(path))
    except GeoIPError as exc:
        raise exc.for_option(option) from exc


def _open_legacy(path: str | os.PathLike[str], role: str, option: str) -> LegacyGeoIP:
    from sentinel.enrich.geoip_legacy import LegacyGeoIP

    try:
        return LegacyGeoIP(path, role=role, option=option)  # type: ignore[arg-type]
    except GeoIPError as exc:
        raise exc.for_option(option) from exc


def as_ipv4_array(ipv4: npt.ArrayLike) -> npt.NDArray[np.uint32]:
    """`ipv4` as a 1-D uint32 array (no copy when it already is one).

    Other integer arrays are accepted after a range check rather than cast, because a cast would silently
    wrap negative or too-large values into valid-looking addresses. A wrong input is a caller's bug:
    ValueError.
    """
    arr = np.asarray(ipv4)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.dtype == np.uint32:
        return arr
    if arr.size == 0:
        return arr.astype(np.uint32)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"IPv4 addresses must be integers (uint32), not {arr.dtype}")
    if int(arr.min()) < 0 or int(arr.max()) > _UINT32_MAX:
        raise ValueError("IPv4 addresses must lie in 0 .. 2**32 - 1")
    return arr.astype(np.uint32)

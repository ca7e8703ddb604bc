"""Everything a run is asked to do, typed and validated once, before any data is read."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sentinel.enrich import netclass
from sentinel.errors import ConfigError


def param(default: Any, doc: str, **extra: Any) -> Any:
    """A documented detector/analysis parameter: the doc is shown in --help and the README."""
    return field(default=default, metadata={"doc": doc, **extra})


def describe_params(params: Any) -> dict[str, Any]:
    return {f.name: getattr(params, f.name) for f in fields(params)}


# Files in the zone database that are not zones: the machine's own link and the POSIX rules template.
# zoneinfo opens them, the engine does not know them.
_NOT_ZONES = frozenset({"localtime", "posixrules"})


def parse_timezone(name: str) -> str:
    if name == "UTC":
        return name
    if name in _NOT_ZONES or name not in zoneinfo.available_timezones():
        raise ConfigError(f"--tz: unknown time zone {name!r} (use an IANA name such as Europe/Lisbon)")
    return name


def parse_date(text: str) -> dt.date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # fromisoformat also takes 20240101, 2024-W01
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--date: {text!r} is not a date in YYYY-MM-DD form") from exc


@dataclass(frozen=True)
class Config:
    data: Path
    country_db: str | None = None  # legacy GeoIP.dat; None: embedded default
    org_db: str | None = None  # legacy GeoIPASNum.dat; None: no AS organisations
    internal: tuple[netclass.IPNetwork, ...] = field(
        default_factory=lambda: netclass.parse_cidrs(netclass.DEFAULT_INTERNAL, "--internal")
    )
    timezone: str = "UTC"
    date: dt.date | None = None  # the capture day; course timestamps count from its 00:00 UTC
    units: dict[str, Any] = field(default_factory=dict)  # analysis/detector key -> its Params, in order
    resolve_dns: bool = False
    threads: int | None = None
    memory_limit: str | None = None

    def __post_init__(self) -> None:
        parse_timezone(self.timezone)

    @property
    def epoch_offset_cs(self) -> int:
        """Centiseconds from the Unix epoch to 00:00 UTC of the capture day (0 when the day is unknown)."""
        if self.date is None:
            return 0
        midnight = dt.datetime.combine(self.date, dt.time(), tzinfo=dt.UTC)
        return int(midnight.timestamp()) * 100

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
from sentinel.sources.base import ReadOptions


def param(default: Any, doc: str, **extra: Any) -> Any:
    """A documented detector/analysis parameter: the doc is shown in --help and the README. `minimum` and
    `maximum` in `extra` bound a number (checked before any data is read: units.check_params)."""
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


def parse_date(text: str, option: str = "--date") -> dt.date:
    # Exactly YYYY-MM-DD: fromisoformat alone also takes 20240101 and 2024-W01-1.
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ConfigError(f"{option}: {text!r} is not a date in YYYY-MM-DD form")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {text!r} is not a date in YYYY-MM-DD form") from exc


def parse_mapping(text: str) -> dict[str, str]:
    """--map: "src_ip=SrcAddr,dst_ip=DstAddr" or a file with one COL=NAME per line (# comments).

    Keys are canonical column names (sentinel.schema); values the input's column names.
    """
    from sentinel import schema

    if text == "":
        raise ConfigError("--map: empty; give COL=NAME[,COL=NAME...] or a mapping file")
    path = Path(text)
    if "=" not in text or path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(
                f"--map: {text!r} is neither COL=NAME pairs nor a readable file ({exc.strerror})"
            ) from None
        items = [ln.split("#", 1)[0].strip() for ln in lines]
    else:
        items = [part.strip() for part in text.split(",")]
    mapping: dict[str, str] = {}
    known = set(schema.BY_NAME)
    for item in filter(None, items):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ConfigError(f"--map: {item!r} is not COL=NAME")
        if key not in known:
            raise ConfigError(f"--map: {key!r} is not a canonical column; known: {', '.join(schema.BY_NAME)}")
        mapping[key] = value
    return mapping


@dataclass(frozen=True)
class Config:
    data: tuple[str, ...] | Path | str  # files, directories and globs (sentinel.sources.inputs)
    country_db: str | None = None  # legacy GeoIP.dat; None: embedded default
    org_db: str | None = None  # legacy GeoIPASNum.dat; None: the embedded AS data
    geoip_dbs: tuple[str, ...] = ()  # --geoip-db: .mmdb, legacy .dat or CSV range files, detected by content
    geoip_cache: bool = True  # use the DB-IP Lite files `sentinel geoip update` keeps in the user cache
    internal: tuple[netclass.IPNetwork, ...] = field(
        default_factory=lambda: netclass.parse_cidrs(netclass.DEFAULT_INTERNAL, "--internal")
    )
    timezone: str = "UTC"
    date: dt.date | None = None  # the capture day; course timestamps count from its 00:00 UTC
    format: str | None = None  # force one input format (--format); None: detected per file
    mapping: dict[str, str] = field(default_factory=dict)  # --map: canonical column -> input column
    time_unit: str | None = None  # unit of a mapped time column (--time-unit); None: guessed
    strict: bool = False  # malformed rows are fatal (--strict)
    since: dt.date | None = None  # --from: first day (UTC) analysed
    until: dt.date | None = None  # --to: last day (UTC) analysed
    units: dict[str, Any] = field(default_factory=dict)  # analysis/detector key -> its Params, in order
    resolve_dns: bool = False
    threads: int | None = None
    memory_limit: str | None = None
    engine: str = "duckdb"  # or "spark" (sentinel.engines)
    spark_master: str | None = None  # Spark master URL; None: SPARK_REMOTE (Spark Connect) or local[*]

    def __post_init__(self) -> None:
        parse_timezone(self.timezone)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (str(self.data),) if isinstance(self.data, str | Path) else tuple(self.data)

    @property
    def read_options(self) -> ReadOptions:
        return ReadOptions(
            date=self.date, mapping=dict(self.mapping), time_unit=self.time_unit, since=self.since, until=self.until
        )

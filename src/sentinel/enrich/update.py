"""`sentinel geoip update`: the free monthly DB-IP Lite country and ASN databases (.mmdb, CC BY 4.0) into the
user cache, where later runs find them (databases.cached_databases).

Both files are downloaded (gzip), checked (the size the server announced, a sane decompressed size, not far
smaller than the file they replace, a MaxMind DB of the expected DB-IP type that answers for a well-known
address) and only then put in place, each with an atomic rename: an interrupted or failed update leaves the
previous files as they were. The current month's edition is tried first, then the previous month's (DB-IP
publishes at the start of a month). The download address can be redirected with SENTINEL_GEOIP_URL (a mirror,
or the tests' server on 127.0.0.1): `{base}/dbip-country-lite-2026-11.mmdb.gz`.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from sentinel.enrich.databases import CACHED_FILES, geoip_cache
from sentinel.errors import GeoIPError

URL_ENV = "SENTINEL_GEOIP_URL"
DEFAULT_BASE = "https://download.db-ip.com/free"
#: (file in the cache, DB-IP's name, the database type its metadata must have)
EDITIONS = (
    (CACHED_FILES["country"], "dbip-country-lite", "DBIP-Country-Lite"),
    (CACHED_FILES["asn"], "dbip-asn-lite", "DBIP-ASN-Lite"),
)
MAX_BYTES = 1 << 30  # decompressed: a DB-IP Lite file is ~10-130 MB; beyond 1 GiB something is wrong
MIN_BYTES = 1024
SHRINK = 0.5  # a new file under half the size of the one it replaces is refused
TIMEOUT_S = 60.0
CHUNK = 1 << 16

Progress = Callable[[str, int, int | None], None]  # (name, bytes so far, total or None)


@dataclass(frozen=True)
class Updated:
    path: Path
    url: str
    bytes: int  # decompressed
    date: str  # the build date in its metadata


def months(today: dt.date) -> list[str]:
    """This month's and last month's edition names ("2026-11", "2026-10")."""
    previous = today.replace(day=1) - dt.timedelta(days=1)
    return [today.strftime("%Y-%m"), previous.strftime("%Y-%m")]


def update(
    folder: Path | None = None,
    base: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    timeout: float = TIMEOUT_S,
) -> list[Updated]:
    """Download, check and install both editions; raises GeoIPError (and keeps what was there) on failure."""
    folder = folder or geoip_cache()
    base = (base or os.environ.get(URL_ENV) or DEFAULT_BASE).rstrip("/")
    today = today or dt.datetime.now(dt.UTC).date()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GeoIPError(str(folder), f"cannot create the cache folder ({exc.strerror or exc})") from None
    staged: list[tuple[Path, Path, Updated]] = []
    try:
        for target, name, expected_type in EDITIONS:
            final = folder / target
            temp, url = _download_any(folder, base, name, months(today), progress, timeout)
            try:
                checked = _check(temp, final, url, expected_type)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            staged.append((temp, final, checked))
        for temp, final, _ in staged:  # both are good: now replace, each atomically
            os.replace(temp, final)
        return [u for _, _, u in staged]
    finally:
        for temp, _, _ in staged:
            temp.unlink(missing_ok=True)


def _download_any(
    folder: Path, base: str, name: str, editions: list[str], progress: Progress | None, timeout: float
) -> tuple[Path, str]:
    last_error = ""
    for edition in editions:
        url = f"{base}/{name}-{edition}.mmdb.gz"
        try:
            return _download(folder, url, progress, timeout), url
        except urllib.error.HTTPError as exc:
            if exc.code != 404:  # only "not published yet" moves on to last month's edition
                raise GeoIPError(
                    url, f"download failed: HTTP {exc.code} {exc.reason}; kept the databases already there"
                ) from None
            last_error = f"HTTP 404 for {edition}"
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise GeoIPError(url, f"cannot download ({reason}); offline? kept the databases already there") from None
    raise GeoIPError(f"{base}/{name}", f"no edition of {', '.join(editions)} published ({last_error})")


def _download(folder: Path, url: str, progress: Progress | None, timeout: float) -> Path:
    """The decompressed file in a temporary file beside its destination; checks the announced size."""
    request = urllib.request.Request(url, headers={"User-Agent": "sentinel-geoip-update"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        fd, name = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".mmdb")
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                received = _inflate(response, out, url, total, progress)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    if total is not None and received != total:
        temp.unlink(missing_ok=True)
        raise GeoIPError(url, f"download cut short: {received:,} of {total:,} bytes; kept the databases already there")
    return temp


def _inflate(response: IO[bytes], out: IO[bytes], url: str, total: int | None, progress: Progress | None) -> int:
    """Copy the gzip stream decompressed into `out`; return the compressed bytes received."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    received = written = 0
    name = url.rsplit("/", 1)[-1]
    while True:
        chunk = response.read(CHUNK)
        if not chunk:
            break
        received += len(chunk)
        try:
            data = inflater.decompress(chunk, MAX_BYTES + 1 - written)
        except zlib.error as exc:
            raise GeoIPError(url, f"not a gzip file ({exc}); kept the databases already there") from None
        written += len(data)
        if written > MAX_BYTES or inflater.unconsumed_tail:
            raise GeoIPError(url, f"decompresses to more than {MAX_BYTES >> 20} MiB: refused")
        out.write(data)
        if progress:
            progress(name, received, total)
    if not inflater.eof:
        raise GeoIPError(url, "the gzip stream is cut short; kept the databases already there")
    return received


def _check(temp: Path, final: Path, url: str, expected_type: str) -> Updated:
    from sentinel.enrich.geoip_mmdb import MmdbDatabase

    size = temp.stat().st_size
    if size < MIN_BYTES:
        raise GeoIPError(url, f"only {size} bytes once decompressed: not a database; kept the one already there")
    if final.is_file() and size < SHRINK * final.stat().st_size:
        raise GeoIPError(
            url,
            f"{size:,} bytes, under half of the {final.stat().st_size:,} bytes of {final.name}: refused, kept it",
        )
    try:
        db = MmdbDatabase(temp, explicit=False)
    except GeoIPError as exc:
        raise GeoIPError(url, f"{exc.problem}; kept the databases already there") from None
    try:
        if not db.database_type.startswith(expected_type):
            raise GeoIPError(url, f"a {db.database_type!r} database, not {expected_type!r}; kept the one already there")
        probe = db.lookup_v4(np.array([0x01010101], dtype=np.uint32))  # 1.1.1.1
        if probe.prefix[0] < 0:
            raise GeoIPError(url, "has no answer for 1.1.1.1: not a usable database; kept the one already there")
    finally:
        db.close()
    return Updated(final, url, size, db.info.date or "?")


class Bar:
    """A progress bar on stderr: redrawn in place on a terminal, a line per file elsewhere."""

    def __init__(self, stream: IO[str], width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self._last = 0.0
        self._name: str | None = None

    def __call__(self, name: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if name != self._name:
            if self._name is not None:
                self.stream.write("\n" if self.tty else "")
            self._name = name
        elif not finished and now - self._last < 0.1:
            return
        self._last = now
        if total:
            filled = int(self.width * min(done, total) / total)
            text = f"{name} [{'#' * filled}{'.' * (self.width - filled)}] {done / total:4.0%} {done / 1e6:.1f} MB"
        else:
            text = f"{name} {done / 1e6:.1f} MB"
        if self.tty:
            self.stream.write("\r" + text)
        elif finished:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._name is not None:
            self.stream.write("\n")
            self.stream.flush()

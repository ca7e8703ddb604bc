"""Options for the Spark JVM that Sentinel launches itself: a class-data archive, the collector and its heap.

Measured on 2 cores (bench/bench_speed.py, README Performance): a JVM loads more than ten thousand classes
before its first query (17,297 for a session and one `SELECT 1`), several seconds of the run. Java's
application class-data sharing (AppCDS) writes the classes a run loaded into an archive as the JVM exits
(`-XX:ArchiveClassesAtExit`); later JVMs map it (`-XX:SharedArchiveFile`) instead of loading and verifying
each class again. The archive lives in the user cache, one per Java and pyspark installation (it is only
valid for those); the JVM checks it and ignores one that does not match. Set SENTINEL_SPARK_CLASS_ARCHIVE=0
to go without it.

The JVM writes the archive after Sentinel's process has ended (a run does not wait for it), to a `.part`
file, header last: a `.part` whose header carries the archive's magic number is complete, and the next
launch renames it into place. One with no header is being written, or its JVM was killed; it is removed
once it is an hour old.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
import uuid
from pathlib import Path

from sentinel.user_cache import cache_dir

ARCHIVE_ENV = "SENTINEL_SPARK_CLASS_ARCHIVE"
#: The first four bytes of a complete dynamic archive (CDS_DYNAMIC_ARCHIVE_MAGIC, little-endian).
DYNAMIC_MAGIC = (0xF00BABA8).to_bytes(4, "little")
STALE_PART_S = 3600  # a .part without its header, older than this, was left by a killed JVM
UNUSED_ARCHIVE_S = 30 * 86400  # archives of other installations, unused this long, are removed
_PREFIX = "spark-classes-"


def archive_dir() -> Path:
    return cache_dir() / "spark"


def java_options(master: str | None, driver_memory: str | None = None) -> list[str]:
    """JVM options for a driver Sentinel starts with `master` (None: under spark-submit, not Sentinel's) and
    `driver_memory` (spark.driver.memory, the JVM's largest heap)."""
    options = collector(master) + heap(master, driver_memory)
    if os.environ.get(ARCHIVE_ENV, "1").strip().lower() not in {"0", "off", "no", "false"}:
        key = installation_key()
        if key is not None:
            options += archive_options(archive_dir(), key)
    return options


def collector(master: str | None) -> list[str]:
    """The serial collector where Spark runs in this JVM on at most two cores: on 2 cores the JVM's default
    (G1) took 15% longer (its concurrent threads and barriers compete with the two task threads). Elsewhere
    the JVM's own choice stands (not measured)."""
    cores = local_cores(master)
    return ["-XX:+UseSerialGC"] if cores is not None and cores <= 2 else []


#: Metaspace the JVM may fill before its first full collection: Spark's classes need about 100 MB, so the
#: default threshold (about 21 MB) costs a full collection of the heap during the first query.
METASPACE = "256m"
#: The most heap a JVM starts with (Sentinel's default driver memory): committed at start, so a driver memory
#: set beyond the machine's memory must not make the JVM fail to start, as it would with -Xms that large.
MOST_INITIAL_HEAP_MB = 2048
_UNITS = {"": 1 / 2**20, "k": 1 / 2**10, "m": 1, "g": 2**10, "t": 2**20}


def heap(master: str | None, driver_memory: str | None) -> list[str]:
    """Where Spark runs in this JVM (a local master), its heap at the driver memory from the start (at most
    MOST_INITIAL_HEAP_MB): a JVM starts with a 64th of the machine's memory and grows the heap by full
    collections, its young generation (a third of the heap) small until then. The four original analyses at
    10M flows, local on 2 cores: time in collection 1.27-1.45 s -> 0.68-0.69 s (README Engines). Pages of the
    heap count as the process's memory only once touched. A driver memory the JVM would not read as a size
    is left to the JVM."""
    size = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)b?\s*", driver_memory or "", re.IGNORECASE)
    if local_cores(master) is None or size is None:
        return []
    mb = min(int(int(size.group(1)) * _UNITS[size.group(2).lower()]), MOST_INITIAL_HEAP_MB)
    return ([f"-Xms{mb}m"] if mb > 0 else []) + [f"-XX:MetaspaceSize={METASPACE}"]


def local_cores(master: str | None) -> int | None:
    """The task threads of a local master (local, local[N], local[*], local[N,F]); None for a cluster."""
    if master is None:
        return None
    match = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if match is None:
        return None
    given = match.group(1)
    if given is None:
        return 1
    return os.cpu_count() or 1 if given == "*" else int(given)


def installation_key() -> str | None:
    """What an archive is valid for: this Java binary (as spark-class picks it) and this pyspark."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    try:
        import pyspark

        java_path = Path(java).resolve() if java else None
        if java_path is None:
            return None
        stat = java_path.stat()
    except (ImportError, OSError):
        return None
    text = f"{java_path}|{stat.st_size}|{stat.st_mtime_ns}|{pyspark.__version__}|{Path(pyspark.__file__).parent}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def archive_options(directory: Path, key: str, now: float | None = None) -> list[str]:
    """Map the archive if one is there; else have this JVM write one at exit, unless another is writing it.

    Paths with whitespace or quotes are left out: spark-submit splits the driver's Java options on them.
    """
    if any(c.isspace() or c in "'\"" for c in str(directory)):
        return []
    now = time.time() if now is None else now
    final = directory / f"{_PREFIX}{key}.jsa"
    with contextlib.suppress(OSError):  # an unwritable cache: the run goes on without an archive
        if not is_complete(final):
            _remove(final)
        writing = False
        # Two first runs at once each write one: the first complete is moved into place, the others go.
        for part in sorted(directory.glob(f"{_PREFIX}{key}.*.part")):
            if is_complete(part) and not is_complete(final):
                os.replace(part, final)
            elif is_complete(part) or now - part.stat().st_mtime > STALE_PART_S:
                _remove(part)
            else:
                writing = True
        if not is_complete(final):
            if writing:
                return []
            directory.mkdir(parents=True, exist_ok=True)
            return [f"-XX:ArchiveClassesAtExit={directory / f'{_PREFIX}{key}.{uuid.uuid4().hex}.part'}"]
        os.utime(final, (now, now))  # its modification time says when it was last used
        _prune(directory, keep=final, now=now)
        return [f"-XX:SharedArchiveFile={final}"]
    return []


def is_complete(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(4) == DYNAMIC_MAGIC
    except OSError:
        return False


def _prune(directory: Path, keep: Path, now: float) -> None:
    """Archives of other installations (an upgrade leaves one behind) go once unused for a month."""
    for path in directory.glob(f"{_PREFIX}*.jsa"):
        with contextlib.suppress(OSError):
            if path != keep and now - path.stat().st_mtime > UNUSED_ARCHIVE_S:
                path.unlink()


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()

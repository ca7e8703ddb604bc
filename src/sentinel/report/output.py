"""Writing reports without ever overwriting what the user owns unless asked (--force)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sentinel.errors import OutputError


def _fail(path: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"{path}: cannot write ({reason})")


def write_new(path: Path, data: bytes) -> None:
    """Create `path`; fail if it exists (exclusive create, so a race cannot clobber either)."""
    try:
        with open(path, "xb") as fh:
            fh.write(data)
    except FileExistsError as exc:
        raise OutputError(f"{path}: exists already; choose another name or pass --force") from exc
    except OSError as exc:
        raise _fail(path, exc) from exc


def write_replacing(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename), replacing `path` if it exists: only behind --force."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise _fail(path, exc) from exc


def write(path: Path, data: bytes, force: bool) -> None:
    (write_replacing if force else write_new)(path, data)


def free_stem(directory: Path, stem: str, suffixes: tuple[str, ...]) -> str:
    """`stem`, or `stem-2`, `stem-3`, ... : the first for which no file `stem<suffix>` exists yet."""
    n = 1
    candidate = stem
    while any((directory / f"{candidate}{s}").exists() for s in suffixes):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def ensure_directory(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"{directory}: is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(directory, exc) from exc

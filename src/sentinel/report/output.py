"""Writing reports without ever overwriting what the user owns unless asked (--force)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from sentinel.errors import OutputError


def _fail(path: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"{path}: cannot write ({reason})")


def exists_error(path: Path | str) -> OutputError:
    return OutputError(f"{path}: exists already; choose another name or pass --force")


def write_new(path: Path, data: bytes) -> None:
    """Create `path`; fail if it exists (exclusive create, so a race cannot clobber either)."""
    try:
        with open(path, "xb") as fh:
            fh.write(data)
    except FileExistsError as exc:
        raise exists_error(path) from exc
    except OSError as exc:
        raise _fail(path, exc) from exc


def temp_beside(final: Path, write: Callable[[Path], None]) -> Path:
    """Write via `write` into a temporary file next to `final`, so that os.replace onto it is atomic.

    Not mkstemp: its 0600 mode would survive the rename; this file gets the usual umask mode.
    """
    temp = final.with_name(f".{final.name}.{secrets.token_hex(6)}.tmp")
    try:
        write(temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def write_replacing(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename), replacing `path` if it exists: only behind --force."""
    try:
        os.replace(temp_beside(path, lambda t: t.write_bytes(data)), path)
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

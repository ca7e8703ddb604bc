"""Writing reports without ever overwriting what the user owns unless asked (--force).

Only regular files are ever created or replaced. A FIFO or character device (/dev/null, /dev/stdout on a
pipe or terminal, a named pipe) is a stream: the report is written into it, and nothing is replaced, so
no --force is needed. Anything else (directory, symbolic link, socket, block device) is refused.
"""

from __future__ import annotations

import functools
import os
import secrets
import stat
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from sentinel import interrupt
from sentinel.errors import OutputError


class Destination(Enum):
    NEW = "new"  # nothing there yet: create it
    REPLACE = "replace"  # a regular file, and --force: replace it atomically
    STREAM = "stream"  # a FIFO or character device: write into it


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


def temp_beside(final: Path, write: Callable[[Path], object]) -> Path:
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
    """Write atomically (temp file + rename), replacing `path` if it is a regular file: only behind --force."""
    temp = None
    try:
        temp = temp_beside(path, lambda t: t.write_bytes(data))
        _check_replaceable(path)  # again: it may have changed since the analysis started
        os.replace(temp, path)
    except OSError as exc:
        raise _fail(path, exc) from exc
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)  # gone after a successful rename; else no temp file is left behind


def write_stream(path: Path, data: bytes) -> None:
    """Write into a FIFO or character device (following links: /dev/stdout); never create or truncate."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)  # no O_CREAT, no O_TRUNC: a regular file stays intact
        with open(fd, "wb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):  # replaced since it was checked
                raise OutputError(f"{path}: is no longer a FIFO or character device; nothing written")
            fh.write(data)
    except OSError as exc:
        raise _fail(path, exc) from exc


def destination(path: Path, force: bool) -> Destination:
    """What writing a report to `path` would do; an OutputError if it must not be written at all."""
    try:
        target = _stat(path, follow=True)  # /dev/stdout is a link to the stream
        if target is not None and (stat.S_ISFIFO(target.st_mode) or stat.S_ISCHR(target.st_mode)):
            return Destination.STREAM
        entry = _stat(path, follow=False)
    except OSError as exc:
        raise _fail(path, exc) from exc
    except ValueError:  # only through the API: a command line cannot carry a NUL
        raise OutputError(f"{path}: is not a file name (it contains a NUL character)") from None
    if entry is None:
        if not path.parent.is_dir():
            raise OutputError(f"{path}: cannot write (no directory {path.parent})")
        return Destination.NEW
    _check_replaceable(path, entry)
    if not force:
        raise exists_error(path)
    return Destination.REPLACE


def write(path: Path, data: bytes, force: bool) -> None:
    kind = destination(path, force)
    if kind is Destination.STREAM:
        write_stream(path, data)
    else:
        (write_replacing if kind is Destination.REPLACE else write_new)(path, data)


def _stat(path: Path, follow: bool) -> os.stat_result | None:
    try:
        return os.stat(path, follow_symlinks=follow)
    except FileNotFoundError:
        return None


def _check_replaceable(path: Path, entry: os.stat_result | None = None) -> None:
    """Only a regular file (or nothing) may be replaced; never a link, directory or device."""
    entry = entry or _stat(path, follow=False)
    if entry is not None and not stat.S_ISREG(entry.st_mode):
        raise OutputError(f"{path}: is {_kind(entry.st_mode)}, not a regular file; Sentinel never replaces it")


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), "a special file")


_MAX_STEMS = 10_000


Identity = tuple[int, int, int]  # device, inode, size: a reused inode number alone would not tell files apart


def _identity(st: os.stat_result) -> Identity:
    return st.st_dev, st.st_ino, st.st_size


def create_exclusive(path: Path) -> Identity:
    """Create `path` empty, only if nothing (not even a dangling link) is there: O_CREAT|O_EXCL, O_NOFOLLOW.

    Returns its identity, by which a later clean-up knows the file is still the one created here.
    FileExistsError if the name is taken; an OutputError for any other failure (no permission, ...).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o666)
    except FileExistsError:
        raise
    except OSError as exc:
        raise _fail(path, exc) from exc
    try:
        return _identity(os.fstat(fd))
    finally:
        os.close(fd)


class Batch:
    """Report files written all or none.

    Their names are reserved before the analysis (empty files, created exclusively), so concurrent runs
    never pick the same name and a run cannot end in "name taken". `commit` writes each file into a temp
    file beside it and then renames them all into place; until it has finished, `abort` removes every temp
    file, reservation and file already renamed, so a failed or interrupted run leaves nothing behind.
    """

    def __init__(self) -> None:
        self._ours: dict[Path, Identity] = {}  # path -> identity of the file we put there
        self._committed = False

    @property
    def committed(self) -> bool:
        return self._committed

    def reserve(self, path: Path) -> None:
        try:
            self._ours[path] = create_exclusive(path)
        except FileExistsError as exc:
            raise exists_error(path) from exc

    def reserve_stem(self, directory: Path, stem: str, suffixes: tuple[str, ...]) -> str:
        """Reserve `stem<suffix>` for every suffix under the first of stem, stem-2, ... entirely free (a link,
        even a dangling one, takes its name: it is never followed)."""
        for n in range(1, _MAX_STEMS + 1):
            candidate = stem if n == 1 else f"{stem}-{n}"
            taken: list[Path] = []
            try:
                for suffix in suffixes:
                    path = directory / f"{candidate}{suffix}"
                    self._ours[path] = create_exclusive(path)
                    taken.append(path)
                return candidate
            except BaseException as exc:
                for path in taken:
                    self._remove(path)
                if not isinstance(exc, FileExistsError):
                    raise  # FileExistsError: a name of this stem is taken (maybe by a concurrent run): next
        raise OutputError(f"{directory}: no free name for {stem} (tried {_MAX_STEMS})")

    def commit(self, files: dict[Path, bytes], replacing: frozenset[Path] = frozenset()) -> None:
        """Write `files` and rename them into place: new ones first, the ones `replacing` (--force) last,
        so that a failure never costs the user a file they had."""
        temps: dict[Path, Path] = {}
        try:
            for path, data in files.items():
                temps[path] = temp_beside(path, functools.partial(_write_file, data=data))
            interrupt.check()  # the last point to stop; the renames below are not interrupted half way
            for path in sorted(temps, key=lambda p: p in replacing):
                self._rename(temps[path], path, path in replacing)
                del temps[path]
            self._committed = True
        except OSError as exc:
            raise _fail(path, exc) from exc
        finally:
            for temp in temps.values():
                temp.unlink(missing_ok=True)

    def release(self, path: Path) -> None:
        """Give back a name reserved but not used (a chart a run did not draw): its empty file goes."""
        self._remove(path)

    def abort(self) -> None:
        """Remove what this batch put in place, unless it was committed."""
        if not self._committed:
            for path in list(self._ours):
                self._remove(path)

    def _rename(self, temp: Path, path: Path, replacing: bool) -> None:
        if replacing:
            _check_replaceable(path)
        elif path not in self._ours:
            try:
                self._ours[path] = create_exclusive(path)  # a name not reserved earlier: take it now, or fail
            except FileExistsError as exc:
                raise exists_error(path) from exc
        os.replace(temp, path)
        self._ours[path] = _identity(os.lstat(path))

    def _remove(self, path: Path) -> None:
        identity = self._ours.pop(path, None)
        try:
            st = os.lstat(path)
        except OSError:
            return
        if _identity(st) == identity:  # never remove what someone else put there since
            path.unlink(missing_ok=True)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)


def ensure_directory(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"{directory}: is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(directory, exc) from exc

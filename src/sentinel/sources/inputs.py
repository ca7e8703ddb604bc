"""From what the user gave as --data to the files to read: exact paths, directories and globs.

A path that exists is that file or directory, exactly, whatever characters it contains; only a name that
does not exist and contains glob characters is expanded, by Sentinel itself, and the run says which files
it matched. Directories are walked recursively in name order, skipping hidden entries and those whose
name starts with "_" (metadata by the Hive/Spark convention: _SUCCESS, _sentinel/).
"""

from __future__ import annotations

import glob
import os
import re
import zlib
from collections.abc import Iterator, Sequence

from sentinel.errors import InputError
from sentinel.files import unusable_reason
from sentinel.sources.base import HEAD_BYTES, Sample

_GLOB_CHARS = set("*?[")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def expand(inputs: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(file, how it was named) for every input file, in order without repeats; and notes for the report.

    `how` is "file", "dir" (found in a directory: unrecognised files there are skipped), "glob", or "uri" (a
    path such as hdfs://... that only the engine can read).
    """
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    notes: list[str] = []

    def add(path: str, how: str) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            out.append((path, how))

    for given in inputs:
        if given == "":
            raise InputError("--data", "an empty file name")
        if "\x00" in given:  # only through the API: a command line cannot carry a NUL
            raise InputError(given, "is not a file name (it contains a NUL character)")
        if _URI.match(given) and not os.path.lexists(given):  # hdfs://, s3a://: for an engine that reads them
            add(given, "uri")
            continue
        if os.path.lexists(given):
            if os.path.isdir(given):
                found = list(_walk(given))
                if not found:
                    raise InputError(given, "is a directory with no files in it")
                for path in found:
                    add(path, "dir")
            else:
                add(given, "file")
        elif _GLOB_CHARS & set(given):
            matched = sorted(p for p in glob.glob(given, recursive=True) if os.path.isfile(p))
            if not matched:
                raise InputError(given, "no such file, and as a pattern it matches no file")
            shown = ", ".join(matched[:5]) + (f" and {len(matched) - 5} more" if len(matched) > 5 else "")
            notes.append(f"{given} matched {len(matched)} file(s): {shown}.")
            for path in matched:
                add(path, "glob")
        else:
            raise InputError(given, "no such file or directory")
    return out, notes


def _walk(top: str) -> Iterator[str]:
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if not name.startswith((".", "_")):
                yield os.path.join(root, name)


def sample(path: str) -> Sample:
    """The first bytes of `path`, decompressed when it is gzip or zstd; InputError if it cannot be read."""
    reason = unusable_reason(path, "a flow file")
    if reason:
        raise InputError(path, reason)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from None
    if raw.startswith(_GZIP_MAGIC):
        return Sample(path, "gzip", _gunzip_head(path))
    if raw.startswith(_ZSTD_MAGIC):
        return Sample(path, "zstd", _unzstd_head(path))
    return Sample(path, None, raw)


def _gunzip_head(path: str) -> bytes:
    # A truncated or damaged stream still gives what it has: the rows it holds are read and the damage is
    # reported when the engine reaches it.
    with open(path, "rb") as fh:
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = b""
        while len(out) < HEAD_BYTES:
            chunk = fh.read(16384)
            if not chunk:
                break
            try:
                out += decomp.decompress(chunk, HEAD_BYTES - len(out))
            except zlib.error as exc:
                if not out:
                    raise InputError(path, f"is not a readable gzip file ({exc})") from None
                break
            if decomp.eof:
                break
        return out[:HEAD_BYTES]


def _unzstd_head(path: str) -> bytes:
    import zstandard

    try:
        with open(path, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as reader:
            out = b""
            while len(out) < HEAD_BYTES:
                chunk = reader.read(HEAD_BYTES - len(out))
                if not chunk:
                    break
                out += chunk
            return out
    except zstandard.ZstdError as exc:
        raise InputError(path, f"is not a readable zstd file ({exc})") from None

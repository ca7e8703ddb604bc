"""Why a path given by a user cannot be read, said before its contents are looked at."""

from __future__ import annotations

import os
import stat


def unusable_reason(path: str | os.PathLike[str], what: str) -> str | None:
    """A one-line reason `path` cannot be read as `what` ("a Parquet file", ...), or None if it can."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except PermissionError:
        return "cannot access the file: permission denied"
    except OSError as exc:
        return f"cannot access the file: {exc.strerror or exc}"
    except ValueError:  # only through the API: a command line cannot carry a NUL
        return "is not a file name (it contains a NUL character)"
    if stat.S_ISDIR(st.st_mode):
        return f"is a directory, not {what}"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"  # a FIFO or a device: reading it could block or never end
    if not os.access(path, os.R_OK):
        return "cannot read the file: permission denied"
    return None

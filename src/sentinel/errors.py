"""Errors Sentinel reports to users, and the exit status each maps to.

Every error a user can cause is a SentinelError: the CLI prints its one-line message and
exits with its status; only --debug shows a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit codes; documented in the README and `sentinel --help`."""

    OK = 0
    ERROR = 1  # unexpected internal error (a bug: please report it with --debug output)
    USAGE = 2  # bad command line: unknown option, invalid value (CIDR, percentile, ...)
    INPUT = 3  # a data file is missing, unreadable or lacks the needed columns
    GEOIP = 4  # a GeoIP database is missing, unreadable or not a GeoIP database
    OUTPUT = 5  # a report cannot be written (exists already, no permission, ...)
    ALERTS = 10  # --fail-on SEVERITY: the run succeeded and raised an alert at or above SEVERITY
    INTERRUPTED = 130  # Ctrl-C


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (a library's often runs to many), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SentinelError(Exception):
    """Base of every error meant for the user; `str()` is the one-line message."""

    status: ExitStatus = ExitStatus.ERROR


class ConfigError(SentinelError):
    """An option or setting has an invalid value."""

    status = ExitStatus.USAGE


class InputError(SentinelError):
    """A data file cannot be used: names the file (and row or column where known)."""

    status = ExitStatus.INPUT

    def __init__(self, path: str, problem: str, row: int | None = None) -> None:
        where = f"{path}:{row}" if row is not None else path
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.row = row


class UnreadableData(Exception):
    """The engine could not read the flows it was scanning (corrupt pages, ...); the pipeline names the file."""


class GeoIPError(SentinelError):
    """A GeoIP database cannot be used."""

    status = ExitStatus.GEOIP

    def __init__(self, path: str, problem: str, option: str | None = None) -> None:
        super().__init__(f"{option} {path}: {problem}" if option else f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def for_option(self, option: str) -> GeoIPError:
        """The same error, saying which command-line option named the file."""
        return GeoIPError(self.path, self.problem, option)


class OutputError(SentinelError):
    """A report or file cannot be written."""

    status = ExitStatus.OUTPUT

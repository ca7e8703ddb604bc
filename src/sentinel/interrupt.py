"""Ctrl-C during an analysis: noted at once, acted on where stopping leaves nothing half done.

Python's own handler raises KeyboardInterrupt wherever the main thread happens to be. Inside an import
that leaves a module half initialised ("partially initialized module 'pandas'") or the import lock held,
so that the chart thread waits for it forever; DuckDB turns it into a RuntimeError, or swallows it while
it imports pandas lazily, and the run goes on as if nothing happened. So the analysis command installs
`handler`, which only sets a flag and interrupts the running query; the run checks the flag between
steps (`check`), and its blocking waits and stream writes raise at once (`raising`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # imported before anything else by the process's entry: kept light
    from concurrent.futures import Future

T = TypeVar("T")

_requested = threading.Event()
_cancels: list[Callable[[], None]] = []  # how to stop what runs now (the engine's query)
_raise_now = False  # inside `raising`: raise at once, as Python's own handler would
_POLL_S = 0.05


def requested() -> bool:
    return _requested.is_set()


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed: call it where stopping is clean."""
    if _requested.is_set():
        raise KeyboardInterrupt


def handler(signum: int, frame: object) -> None:
    _requested.set()
    for cancel in list(_cancels):
        cancel()
    if _raise_now:
        raise KeyboardInterrupt


@contextmanager
def raising() -> Iterator[None]:
    """A block with no import and nothing to leave half done (a blocking write into a pipe): there an
    interrupt raises at once, where a flag would wait for the write to finish, maybe forever."""
    global _raise_now
    check()
    before, _raise_now = _raise_now, True
    try:
        yield
    finally:
        _raise_now = before


@contextmanager
def cancelling(cancel: Callable[[], None]) -> Iterator[None]:
    """While the block runs, an interrupt also calls `cancel` (DuckDB's connection.interrupt)."""
    _cancels.append(cancel)
    try:
        yield
    finally:
        _cancels.remove(cancel)


def wait(future: Future[T]) -> T:
    """`future.result()`, but an interrupt stops the waiting."""
    while True:
        check()
        try:
            return future.result(timeout=_POLL_S)
        except TimeoutError:
            continue


def install() -> Callable[[], None]:
    """Handle SIGINT with `handler`; returns what puts the previous handler back.

    An interrupt that whoever started Sentinel set to be ignored (nohup, a background job of a script)
    stays ignored; and only the main thread can set handlers (the API may run elsewhere). Installed
    already (by the process's entry), it stays, with any interrupt it noted.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN or previous is handler:
        return lambda: None
    _requested.clear()
    signal.signal(signal.SIGINT, handler)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)
        _requested.clear()  # a later run through the API must not stop for this run's interrupt

    return restore


def uninstall() -> None:
    """Back to Python's KeyboardInterrupt (the subcommands have no imports to fear mid-run), raising it
    now if an interrupt came while `handler` was in place."""
    if signal.getsignal(signal.SIGINT) is handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        check()

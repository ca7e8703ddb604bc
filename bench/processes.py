"""Running Sentinel as a user does, one fresh process per measurement (shared by the bench scripts)."""

from __future__ import annotations

import os
import subprocess
import sys
import time


def sentinel(*args: str) -> list[str]:
    """The command line of `sentinel ARGS` in this interpreter (the checkout's Sentinel)."""
    return [sys.executable, "-m", "sentinel", *args]


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB, from wait4) of one process run to completion; exits if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{err}")
    return seconds, usage.ru_maxrss

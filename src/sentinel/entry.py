"""The `sentinel` process (console script and `python -m sentinel`): cli.main with Ctrl-C taken over first.

The interrupt handler is installed before anything heavy is imported, so a Ctrl-C during start-up is
noted (the run stops at its first check) instead of a KeyboardInterrupt traceback out of an import. The
process ends with os._exit once the outputs are flushed: interpreter teardown would stop the chart
thread inside matplotlib's C++ (std::terminate, exit status 134) and put SIGINT back to its default
while native libraries shut down (a late Ctrl-C then killed a finished run).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn

from sentinel import interrupt


def main() -> NoReturn:
    interrupt.install()
    from sentinel import cli

    status = cli.main(sys.argv[1:])
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            stream.flush()
    os._exit(status)

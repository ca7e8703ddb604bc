"""Printing the PDF: Chromium and the helpers it starts stop together (Ctrl-C, a timeout)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from sentinel.report import pdf


def test_stop_ends_the_printer_and_every_helper_it_started(tmp_path):
    marker = tmp_path / "helper.pid"
    # A stand-in for Chromium: it starts a helper that would go on writing, then waits.
    script = (
        "import subprocess, sys, time;"
        "h = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(marker)!r}, 'w').write(str(h.pid)); time.sleep(60)"
    )
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 20
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    helper = int(marker.read_text())
    pdf._stop(process)
    assert process.returncode is not None
    for _ in range(100):  # the helper, killed with the group, is reaped by init
        try:
            os.kill(helper, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{helper}/stat").read_text().split(")")[1].split()[0] == "Z":
            break  # killed, awaiting its reaper
        time.sleep(0.05)
    else:
        raise AssertionError("the helper outlived the printer")

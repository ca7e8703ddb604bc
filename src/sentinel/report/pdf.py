"""The PDF report (`-p`/`--pdf`): the HTML report printed by headless Chromium, as a reader's browser prints it.

Chromium is a program of the system, not a Python package: Debian and Ubuntu have it as `chromium`
(`apt-get install chromium`); `$SENTINEL_CHROMIUM` names another binary (Google Chrome works too).
Without one, `--pdf` is a usage error before any analysis (exit status 2).

The page is printed from a private temporary folder (profile included), offline: the HTML fetches
nothing and its Content-Security-Policy forbids it to. A4 pages, no browser header or footer, each part of
the report on a new page (the HTML's print stylesheet). Two things Chromium would make different in every
run are fixed, so that the same report gives the same PDF: the creation and modification dates are the
report's generation time, and the PDF is untagged (Chromium numbers the tags of a tagged PDF by the
browser's internal node ids, which change between runs).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from sentinel import interrupt
from sentinel.errors import ConfigError, OutputError

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TIMEOUT_S = 180
_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[^)]*\)")


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary to print with: $SENTINEL_CHROMIUM, else the first of NAMES on PATH."""
    named = os.environ.get("SENTINEL_CHROMIUM")
    if named:
        return shutil.which(named) or (named if os.access(named, os.X_OK) else None)
    return next((found for name in NAMES if (found := shutil.which(name))), None)


def require_chromium(option: str = "--pdf") -> str:
    found = find_chromium()
    if found is None:
        where = os.environ.get("SENTINEL_CHROMIUM")
        if where:
            raise ConfigError(f"{option}: SENTINEL_CHROMIUM={where} is not an executable program")
        raise ConfigError(
            f"{option} prints the HTML report with Chromium, which is not installed: install it "
            "(Debian/Ubuntu: apt-get install chromium) or set SENTINEL_CHROMIUM to a Chromium or Chrome binary"
        )
    return found


def command(chromium: str, page: Path, pdf: Path, profile: Path) -> list[str]:
    argv = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--disable-component-update",
        "--disable-pdf-tagging",  # untagged: a tagged PDF numbers its tags by run-dependent node ids
        "--no-pdf-header-footer",
        f"--user-data-dir={profile}",
        f"--print-to-pdf={pdf}",
        page.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")  # Chromium refuses to start as root with its sandbox
    return argv


def fix_dates(pdf: bytes, generated_at: str | None) -> bytes:
    """The PDF's dates set to the report's generation time (same length: the cross-reference table holds)."""
    try:
        moment = dt.datetime.fromisoformat((generated_at or "").replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    stamp = moment.strftime("%Y%m%d%H%M%S").encode()

    def replace(match: re.Match[bytes]) -> bytes:
        old = match.group(0)
        new = b"/" + match.group(1) + b" (D:" + stamp + b"+00'00')"
        return new if len(new) == len(old) else old

    return _DATE.sub(replace, pdf)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill Chromium and every helper it started (its session's process group), and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def render(html: bytes, generated_at: str | None = None, chromium: str | None = None) -> bytes:
    """The PDF of an HTML page (the report), printed by headless Chromium."""
    binary = chromium or require_chromium()
    # ignore_cleanup_errors: a Chromium helper killed a moment ago may still be closing its files there.
    with tempfile.TemporaryDirectory(prefix="sentinel-pdf-", ignore_cleanup_errors=True) as folder:
        page, pdf, profile = Path(folder) / "report.html", Path(folder) / "report.pdf", Path(folder) / "profile"
        page.write_bytes(html)
        try:
            # A session of its own: Chromium's helper processes are stopped with it, as a group, on Ctrl-C or a
            # timeout, instead of writing on into the folder being removed.
            process = subprocess.Popen(
                command(binary, page, pdf, profile),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise OutputError(f"{binary}: cannot run ({exc.strerror or type(exc).__name__})") from exc
        try:
            with interrupt.raising():  # the wait must not outlive a Ctrl-C
                _, stderr = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _stop(process)
            raise OutputError(f"Chromium did not print the PDF report within {TIMEOUT_S} s") from None
        except BaseException:
            _stop(process)
            raise
        if process.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
            lines = [x for x in stderr.decode(errors="replace").splitlines() if x.strip()]
            why = lines[-1] if lines else f"exit status {process.returncode}"
            raise OutputError(f"Chromium could not print the PDF report: {why}")
        return fix_dates(pdf.read_bytes(), generated_at)

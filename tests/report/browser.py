"""Headless Chromium for the tests of the HTML and PDF reports (tests marked `browser`).

Debian's `chromium` and `chromium-driver` packages are driven through selenium (no browser download);
PDF pages are rasterised by `pdftoppm` (Debian's `poppler-utils`). Where they are absent the tests skip,
saying what to install, unless SENTINEL_REQUIRE_BROWSER=1 (CI), where absence is a failure.
Screenshots and page images go to $SENTINEL_ARTEFACTS (else a temporary folder), for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

from sentinel.report.pdf import find_chromium


def require(program: str | None, what: str) -> str:
    if program:
        return program
    reason = f"needs {what} (Debian: apt-get install chromium chromium-driver poppler-utils)"
    if os.environ.get("SENTINEL_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


def chromium() -> str:
    return require(find_chromium(), "Chromium")


def chromedriver() -> str:
    return require(os.environ.get("SENTINEL_CHROMEDRIVER") or shutil.which("chromedriver"), "chromedriver")


def pdftoppm() -> str:
    return require(shutil.which("pdftoppm"), "pdftoppm")


def artefacts(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    root = os.environ.get("SENTINEL_ARTEFACTS")
    folder = Path(root) / name if root else tmp_path_factory.mktemp(name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_driver():
    """One headless Chromium with its browser console recorded (for 'no console errors')."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require(None, "selenium (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium()
    for argument in ("--headless=new", "--disable-gpu", "--window-size=1280,1800", "--hide-scrollbars"):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver()), options=options)


def image(png: bytes) -> np.ndarray:
    """A PNG as an array of RGB(A) floats in 0-1 (matplotlib's reader: no imaging library needed)."""
    from matplotlib import image as mpimg

    return mpimg.imread(BytesIO(png), format="png")


def ink(pixels: np.ndarray) -> float:
    """The share of pixels that are not (nearly) white: 0 for a blank page."""
    rgb = pixels[..., :3]
    return float((rgb.min(axis=-1) < 0.9).mean())


def has_colour(pixels: np.ndarray, hex_colour: str, tolerance: float = 0.06) -> int:
    """How many pixels are of `hex_colour` (e.g. a chart's bars)."""
    target = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(pixels[..., :3] - target).max(axis=-1) < tolerance).sum())

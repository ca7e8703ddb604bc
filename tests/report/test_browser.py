"""The HTML report in a real browser, and its PDF print, as a reader gets them (tests marked `browser`)."""

import datetime as dt
import subprocess

import pytest

from sentinel import cli, pipeline
from sentinel.report import charts, writer
from sentinel.simulate import SimulationConfig, simulate, write_simulation
from tests.flows import config_for
from tests.report import browser

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    sim = simulate(SimulationConfig(hosts=50, flows=40_000, seed=5, attacks=True))
    path, _ = write_simulation(sim, tmp_path_factory.mktemp("browser") / "day.parquet")
    return path


@pytest.fixture(scope="module")
def reports(day, tmp_path_factory):
    """The HTML and PDF reports of a simulated day with attacks, written by the command line."""
    browser.chromium()
    out = browser.artefacts(tmp_path_factory, "reports")
    for name in ("report.html", "report.pdf"):
        (out / name).unlink(missing_ok=True)
    argv = ["--data", str(day), "--date", "2024-05-17", "--all", "-q", "--html", str(out / "report.html")]
    assert cli.main([*argv, "--pdf", str(out / "report.pdf")]) == 0
    return out


@pytest.fixture(scope="module")
def driver():
    chrome = browser.start_driver()  # one browser for the whole module
    yield chrome
    chrome.quit()


def _console_errors(chrome) -> list:
    return [e for e in chrome.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def test_page_loads_with_no_console_errors_and_shows_its_charts(driver, reports, tmp_path_factory):
    driver.get((reports / "report.html").as_uri())
    assert driver.title.startswith("Sentinel traffic report")
    assert _console_errors(driver) == []  # nor a Content-Security-Policy violation
    loaded = driver.execute_script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);")
    assert len(loaded) >= 5  # countries, hours, the heat map, and the alerts' charts
    assert all(done and width > 300 for done, width, _ in loaded), loaded
    assert driver.execute_script("return document.documentElement.classList.contains('js')")  # our script ran
    shots = browser.artefacts(tmp_path_factory, "screenshots")
    driver.set_window_size(1280, 1800)
    driver.execute_script("document.getElementById('section-country_volume').scrollIntoView()")
    png = driver.get_screenshot_as_png()
    (shots / "html-countries.png").write_bytes(png)
    pixels = browser.image(png)
    assert browser.has_colour(pixels, charts.PALETTE[0]) > 2000  # the chart's blue bars are on screen
    driver.execute_script("document.getElementById('alert-1').scrollIntoView()")
    (shots / "html-alert-1.png").write_bytes(driver.get_screenshot_as_png())


def test_a_table_sorts_on_click_and_filters(driver, reports):
    from selenium.webdriver.common.by import By

    driver.get((reports / "report.html").as_uri())
    table = driver.find_element(By.ID, "table-country_volume")

    def flows() -> list[int]:
        return [
            int(c.get_attribute("data-v")) for c in table.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-child(2)")
        ]

    before = flows()
    assert before == sorted(before, reverse=True)  # as the report lists them
    header = table.find_element(By.CSS_SELECTOR, "thead th:nth-child(2) button")
    header.click()
    assert flows() == sorted(before)
    assert table.find_element(By.CSS_SELECTOR, "thead th:nth-child(2)").get_attribute("aria-sort") == "ascending"
    header.click()
    assert flows() == sorted(before, reverse=True)
    search = driver.find_element(By.CSS_SELECTOR, "input[data-table='table-country_volume']")
    search.send_keys("US")
    shown = [r.text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]
    assert shown and all("US" in r for r in shown) and len(shown) < len(before)
    assert _console_errors(driver) == []


def test_pdf_pages_are_not_blank_and_sections_start_pages(reports, tmp_path_factory):
    pdf = reports / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    pages_dir = browser.artefacts(tmp_path_factory, "pdf-pages")
    for old in pages_dir.glob("page-*.png"):
        old.unlink()
    subprocess.run([browser.pdftoppm(), "-r", "40", "-png", str(pdf), str(pages_dir / "page")], check=True)
    pages = sorted(pages_dir.glob("page-*.png"))
    # The summary, one part per analysis and detector, the alerts: each starts a page.
    assert len(pages) >= 6, pages
    for page in pages:
        assert browser.ink(browser.image(page.read_bytes())) > 0.005, page.name  # something printed on it
    blue = [browser.has_colour(browser.image(p.read_bytes()), charts.PALETTE[0], 0.1) for p in pages]
    assert max(blue) > 200  # the charts printed in colour


def test_html_and_pdf_are_byte_identical_across_runs(day):
    browser.chromium()
    config = config_for(day, "country_volume", "hourly", "exfiltration", "botnet")
    first, second = (pipeline.run(config, now=lambda: NOW) for _ in range(2))
    assert writer.render_file("html", first) == writer.render_file("html", second)
    pdf = writer.render_file("pdf", first)
    assert pdf == writer.render_file("pdf", second)
    assert b"/CreationDate (D:20260102030405+00'00')" in pdf  # the report's generation time, not the print's

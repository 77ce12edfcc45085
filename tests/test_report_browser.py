"""report.html in real headless Chromium, offline: charts drawn, table filled, no request left the page.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``scripts/install_browser.sh``)
and ``selenium`` (the ``dev`` extra). :func:`check_report_in_browser` works on any report: the
report stage's sample input and the session's finished demo run are both checked.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from pathlib import Path

import pytest

from feedback_miner.config import ReportConfig
from feedback_miner.report import render_report

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.browser

# Everything the page needs, measured in the browser (one round trip).
_PROBE_JS = """
const box = el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
const nav = performance.getEntriesByType('navigation')[0];
const svgs = Array.from(document.querySelectorAll('svg'));
const firstTheme = document.querySelector('article.theme');
return {
  title: document.title,
  svg_count: svgs.length,
  svg_nonempty: svgs.filter(s => { const [w, h] = box(s); return w > 0 && h > 0; }).length,
  svg_with_shapes: svgs.filter(s => s.querySelector('rect,line,circle,polyline,path')).length,
  treemap_box: document.querySelector('svg.treemap') ? box(document.querySelector('svg.treemap')) : null,
  treemap_rects: document.querySelectorAll('svg.treemap rect').length,
  ci_bars_nonempty: Array.from(document.querySelectorAll('#pain-table svg.ci'))
      .filter(s => { const [w, h] = box(s); return w > 0 && h > 0; }).length,
  pain_rows: document.querySelectorAll('#pain-table tbody tr').length,
  theme_sections: document.querySelectorAll('article.theme').length,
  first_theme: firstTheme ? firstTheme.querySelector('h3').textContent : null,
  quotes_in_first_theme: firstTheme ? Array.from(firstTheme.querySelectorAll('.quotes li'))
      .filter(q => box(q)[1] > 0 && q.textContent.trim().length > 0).length : 0,
  quotes_total: document.querySelectorAll('article.theme .quotes li').length,
  dom_content_loaded_ms: nav ? nav.domContentLoadedEventEnd : null,
  load_event_ms: nav ? nav.loadEventEnd : null,
  page_height: document.documentElement.scrollHeight,
};
"""

# Click the "Customers" header of the pain-point table twice and read the column each time.
_SORT_JS = """
const table = document.getElementById('pain-table');
if (!table) return null;
const heads = Array.from(table.tHead.rows[0].cells);
const col = heads.findIndex(th => th.textContent.trim().startsWith('Customers'));
const read = () => Array.from(table.tBodies[0].rows).map(r => parseFloat(r.cells[col].dataset.value));
heads[col].click(); const asc = read();
heads[col].click(); const desc = read();
return {asc, desc};
"""


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1366,900",
        "--hide-scrollbars",
        # No name resolves: any request to a host fails before it leaves the machine.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--no-default-browser-check",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=opts, service=service)


def check_report_in_browser(path: str | Path, screenshot: str | Path | None = ARTIFACTS / "report.png") -> dict:
    """Open a report file in headless Chromium with the network off; measure what rendered.

    Returns a dict: ``load_s`` (wall time of the navigation), ``load_event_ms`` /
    ``dom_content_loaded_ms`` (the page's own timings), ``requests`` (every URL the page asked
    for), ``external_requests`` (those other than the file itself and ``data:`` URIs),
    ``console_errors``, SVG counts (``svg_count``, ``svg_nonempty``, ``treemap_box``,
    ``ci_bars_nonempty``), ``pain_rows``, ``theme_sections``, ``quotes_in_first_theme``,
    ``sort`` (the Customers column after one and two clicks), ``size_bytes`` and ``screenshot``.
    """
    path = Path(path).resolve()
    url = path.as_uri()
    driver = _driver()
    try:
        driver.set_page_load_timeout(30)
        # Network off for the page itself, on top of the resolver rules.
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
        t0 = time.perf_counter()
        driver.get(url)
        load_s = time.perf_counter() - t0
        result = driver.execute_script(_PROBE_JS)
        result["sort"] = driver.execute_script(_SORT_JS)
        requests = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                requests.append(msg["params"]["request"]["url"])
        result["requests"] = requests
        result["external_requests"] = [u for u in requests if u != url and not u.startswith("data:")]
        result["console_errors"] = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        result["load_s"] = load_s
        result["size_bytes"] = path.stat().st_size
        if screenshot is not None:
            screenshot = Path(screenshot)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            shot = driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
                },
            )
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            result["screenshot"] = str(screenshot)
        return result
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def browser_ready() -> None:
    if not CHROMIUM.exists() or shutil.which("chromedriver") is None:
        pytest.skip(
            "headless Chromium not installed: run scripts/install_browser.sh (Debian chromium, chromium-driver)"
        )
    pytest.importorskip("selenium", reason="selenium not installed: pip install -e .[dev]")


def test_report_renders_offline_in_chromium(browser_ready, tmp_path, report_sample):
    report = tmp_path / "report.html"
    report.write_text(render_report(report_sample.build(), ReportConfig()), encoding="utf-8")
    r = check_report_in_browser(report, ARTIFACTS / "report.png")
    print(
        f"\nreport.html {r['size_bytes'] / 1024:.0f} KiB: navigation {r['load_s'] * 1000:.0f} ms, "
        f"load event {r['load_event_ms']:.0f} ms; {r['svg_nonempty']}/{r['svg_count']} SVGs drawn; "
        f"screenshot {r['screenshot']}"
    )
    assert r["external_requests"] == [], r["requests"]
    assert r["requests"][:1] == [report.as_uri()]
    assert r["console_errors"] == []
    assert r["svg_count"] > 20 and r["svg_nonempty"] == r["svg_count"] == r["svg_with_shapes"]
    assert r["treemap_box"][0] > 600 and r["treemap_box"][1] > 250
    assert r["treemap_rects"] == 12
    assert r["pain_rows"] == 6 and r["ci_bars_nonempty"] == 6
    assert r["theme_sections"] == 6
    assert r["first_theme"] == "Billing errors & double charges"
    assert r["quotes_in_first_theme"] >= 3
    assert r["sort"]["asc"] == sorted(r["sort"]["asc"]) and r["sort"]["desc"] == sorted(r["sort"]["desc"])[::-1]
    assert r["load_event_ms"] < 2000
    assert Path(r["screenshot"]).stat().st_size > 50_000


# Quotes a reader can see: displayed (not hidden, not inside a closed sub-theme).
_VISIBLE_QUOTES_JS = """
return Array.from(document.querySelectorAll('[data-quote]'))
  .filter(q => q.checkVisibility())
  .map(q => ({lang: q.dataset.lang, text: q.textContent}));
"""
_TABLE_JS = """
return Array.from(document.querySelectorAll('#theme-table tbody tr'))
  .filter(r => !r.hidden)
  .map(r => [r.dataset.themeId, r.querySelector('[data-col="n"]').dataset.value]);
"""


def _wait_for_file(folder: Path, name: str, timeout: float = 10.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        f = folder / name
        if f.exists() and f.stat().st_size > 0 and not list(folder.glob("*.crdownload")):
            return f
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded into {folder}")


def _click(driver, element) -> None:
    """Scroll an element to the middle of the window (clear of the sticky bars), then click it."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _viewport_shot(driver, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path


def test_filters_drilldown_search_and_export(browser_ready, tmp_path, report_sample):
    """Language 'it' leaves only Italian quotes and changes the volumes; search narrows the quotes;
    a sub-theme shows its quotes; the CSV export holds the visible rows; nothing leaves the page."""
    import csv

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    report = tmp_path / "report.html"
    report.write_text(render_report(report_sample.build(), ReportConfig()), encoding="utf-8")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = _driver()
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        driver.get(report.as_uri())
        before_rows = dict(driver.execute_script(_TABLE_JS))
        before_quotes = driver.execute_script(_VISIBLE_QUOTES_JS)
        assert {q["lang"] for q in before_quotes} >= {"en", "it", "fr", "ro"}

        # 1. language it: only Italian quotes visible, volumes recomputed
        Select(driver.find_element(By.CSS_SELECTOR, 'select[data-filter="language"]')).select_by_value("it")
        it_quotes = driver.execute_script(_VISIBLE_QUOTES_JS)
        assert it_quotes and {q["lang"] for q in it_quotes} == {"it"}
        it_rows = dict(driver.execute_script(_TABLE_JS))
        assert it_rows["T0006"] == "16" and it_rows["T0001"] == "410"  # the themes' Italian counts
        assert all(float(it_rows[t]) < float(before_rows[t]) for t in it_rows)
        kpi = driver.find_element(By.CSS_SELECTOR, '[data-kpi="statements"]').text
        assert kpi != "9,377" and int(kpi.replace(",", "")) == sum(int(v) for v in it_rows.values())
        # the weekly chart of the theme is redrawn from the same cells: its bars add up to the same 410
        weekly = driver.execute_script(
            "return Array.from(document.querySelectorAll('[data-weekly=\"T0001\"] rect title'))"
            ".map(t => parseInt(t.textContent.split(': ')[1].replace(/,/g, '')))"
        )
        assert len(weekly) == 5 and sum(weekly) == 410  # 5 weeks in the window
        driver.execute_script("document.getElementById('explore').scrollIntoView()")
        _viewport_shot(driver, ARTIFACTS / "report-filtered.png")

        # 2. search narrows the quotes to those with the word
        search = driver.find_element(By.CSS_SELECTOR, 'input[data-filter="search"]')
        search.send_keys("rinnovo")
        found = driver.execute_script(_VISIBLE_QUOTES_JS)
        assert 0 < len(found) < len(it_quotes)
        assert all("rinnovo" in q["text"] for q in found)
        search.clear()
        search.send_keys(" ")  # an input event after clear(); blank search = no search
        assert len(driver.execute_script(_VISIBLE_QUOTES_JS)) == len(it_quotes)

        # 3. a sub-theme opens to its own quotes (keyboard: focus its summary, press Enter)
        sub = driver.find_element(By.CSS_SELECTOR, 'details[data-subtheme-id="T0001.1"]')
        inside = (
            'return Array.from(arguments[0].querySelectorAll("[data-quote]")).filter(q => q.checkVisibility()).length'
        )
        assert driver.execute_script(inside, sub) == 0
        summary = sub.find_element(By.TAG_NAME, "summary")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", summary)
        summary.send_keys("\ue007")  # Enter
        shown = driver.execute_script(inside, sub)
        assert shown > 0 and sub.get_attribute("open") is not None
        assert all(
            q.get_attribute("data-lang") == "it"
            for q in sub.find_elements(By.CSS_SELECTOR, "[data-quote]")
            if q.is_displayed()
        )
        _viewport_shot(driver, ARTIFACTS / "report-drilldown.png")

        # 4. export: the CSV holds exactly the visible rows of the filtered table, and the quotes
        _click(driver, driver.find_element(By.CSS_SELECTOR, '[data-export="themes"]'))
        table_csv = _wait_for_file(downloads, "themes-filtered.csv")
        rows = list(csv.DictReader(table_csv.read_text(encoding="utf-8-sig").splitlines()))
        assert [[r["theme_id"], r["statements"]] for r in rows] == driver.execute_script(_TABLE_JS)
        assert rows and all(int(r["statements"]) > 0 for r in rows)
        _click(driver, driver.find_element(By.CSS_SELECTOR, '[data-export="quotes"]'))
        quotes_csv = _wait_for_file(downloads, "quotes-filtered.csv")
        quotes = list(csv.DictReader(quotes_csv.read_text(encoding="utf-8-sig").splitlines()))
        assert quotes and {q["language"] for q in quotes} == {"it"}
        assert "mario.rossi@example.it" not in quotes_csv.read_text(encoding="utf-8-sig")

        # 5. no request left the page: the file itself, nothing else
        urls = [
            json.loads(e["message"])["message"]["params"]["request"]["url"]
            for e in driver.get_log("performance")
            if json.loads(e["message"])["message"].get("method") == "Network.requestWillBeSent"
        ]
        assert [u for u in urls if u != report.as_uri() and not u.startswith("data:")] == []
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()


def test_demo_run_report_renders_offline_in_chromium(browser_ready, demo_run):
    html = demo_run.run_dir / "report.html"
    assert html.stat().st_size < 5 * 1024 * 1024
    res = check_report_in_browser(html, screenshot=ARTIFACTS / "demo-report.png")
    assert res["external_requests"] == [], res["requests"]
    assert res["console_errors"] == []
    assert res["svg_nonempty"] == res["svg_count"] > 0 and res["treemap_rects"] > 0
    pains = demo_run.result.pain_points
    assert res["pain_rows"] == pains["rank"].notna().sum() > 0
    assert res["quotes_in_first_theme"] > 0
    assert res["load_s"] < 2.0

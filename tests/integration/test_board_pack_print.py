"""The 2,000-device demo's HTML report printed to PDF by a REAL headless Chromium (issue 14).

A board pack must print: A4, the appendices' wide tables in landscape, repeated table headers,
no words broken in the middle, a contents list, the summary first.  Chromium lays the page out
with the report's own print stylesheet (``Page.printToPDF`` with ``preferCSSPageSize``) and the
PDF's pages are counted: the whole report in at most 120 A4 pages, its summary (estate, sites
compared, plan by financial year, register) in at most 8.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import require_or_skip
from tests.integration.test_html_chromium import Cdp

pytestmark = pytest.mark.integration

AS_OF = date(2026, 12, 6)
MAX_PAGES, MAX_SUMMARY_PAGES = 120, 8
A4 = (595.0, 842.0)  # points


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cdp, Path]]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        require_or_skip("chromium is not installed (apt-get install -y chromium)")
    try:
        import websocket  # noqa: F401
    except ImportError:
        require_or_skip("websocket-client is not installed (pip install -e .[test])")
    import reports.html
    from scanner.demo import DEMO_CONFIG, DEMO_EXCEPTIONS, generate
    from scanner.judge.match import match_estate
    from scanner.model import Policy
    from scanner.plan.config import config_from_dict
    from scanner.plan.risk_register import parse_toml
    from scanner.report.build import build_report
    from tests.unit import report_estate as est

    estate = generate(devices=2000, sites=3, seed=7, as_of=AS_OF)
    report = build_report(
        match_estate(estate.current, est.ctx(), AS_OF, Policy()),
        estate.statuses,
        AS_OF,
        est.ctx().catalog.version,
        "t",
        config=config_from_dict(tomllib.loads(DEMO_CONFIG)),
        register=parse_toml(DEMO_EXCEPTIONS, "exceptions.toml"),
        demo="DEMO DATA — print test",
    )
    tmp = tmp_path_factory.mktemp("print")
    (tmp / "full.html").write_text(reports.html.render(report), encoding="utf-8")
    (tmp / "summary.html").write_text(reports.html.render(report, summary_only=True), encoding="utf-8")
    profile = tmp / "profile"
    proc = subprocess.Popen(
        [
            str(exe),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:  # noqa: S310
            targets = json.load(resp)
        cdp = Cdp(next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"))
        cdp.ws.settimeout(300)
        cdp.call("Page.enable")
        yield cdp, tmp
        cdp.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _print(cdp: Cdp, html: Path) -> bytes:
    cdp.events.clear()
    cdp.call("Page.navigate", url=html.as_uri())
    cdp.wait_event("Page.loadEventFired", timeout=120)
    pdf = base64.b64decode(cdp.call("Page.printToPDF", printBackground=True, preferCSSPageSize=True)["data"])
    html.with_suffix(".pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-")
    return pdf


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's size (MediaBox width, height in points), in document order."""
    boxes = re.findall(
        rb"/Type\s*/Page\b.*?/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf, flags=re.S
    )
    count = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert len(boxes) == count, "every page object carries its MediaBox"
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


def _is(size: tuple[float, float], want: tuple[float, float]) -> bool:
    return abs(size[0] - want[0]) < 2 and abs(size[1] - want[1]) < 2


def test_the_whole_demo_report_prints_on_at_most_120_a4_pages(printed: tuple[Cdp, Path]) -> None:
    cdp, tmp = printed
    pages = _pages(_print(cdp, tmp / "full.html"))
    assert 10 <= len(pages) <= MAX_PAGES, len(pages)
    portrait = [p for p in pages if _is(p, A4)]
    landscape = [p for p in pages if _is(p, (A4[1], A4[0]))]
    assert len(portrait) + len(landscape) == len(pages), set(pages)  # every page is A4
    assert portrait and pages[0] in portrait  # the summary reads portrait
    assert len(landscape) > len(pages) // 2  # the device appendices and registers are landscape
    (tmp / "pages.txt").write_text(f"{len(pages)} pages, {len(landscape)} landscape\n")


def test_the_summary_prints_on_at_most_8_pages(printed: tuple[Cdp, Path]) -> None:
    cdp, tmp = printed
    pages = _pages(_print(cdp, tmp / "summary.html"))
    assert 1 <= len(pages) <= MAX_SUMMARY_PAGES, len(pages)


def test_print_layout_rules(printed: tuple[Cdp, Path]) -> None:
    """What the page count cannot see: no mid-word breaks, repeated headers, a contents list, one
    summary section per site ahead of the device appendices."""
    cdp, tmp = printed
    cdp.events.clear()
    cdp.call("Page.navigate", url=(tmp / "full.html").as_uri())
    cdp.wait_event("Page.loadEventFired", timeout=120)
    cdp.call("Emulation.setEmulatedMedia", media="print")
    try:
        td = "getComputedStyle(document.querySelector('section.devices td'))"
        assert cdp.eval(f"{td}.overflowWrap") in ("normal", "break-word")
        assert cdp.eval(f"{td}.wordBreak") == "normal"
        assert (
            cdp.eval("getComputedStyle(document.querySelector('section.devices thead')).display")
            == "table-header-group"
        )
        assert cdp.eval("getComputedStyle(document.querySelector('section.devices')).page") == "wide"
        assert cdp.eval("getComputedStyle(document.querySelector('td.np') || document.body).display") == "none"
        links = cdp.eval("[...document.querySelectorAll('nav.toc a')].map(a => a.getAttribute('href'))")
        assert {"#summary", "#plan", "#register", "#evidence", "#devices-0"} <= set(links)
        order = cdp.eval("[...document.querySelectorAll('main > section')].map(s => s.className)")
        assert order[0] == "summary"
        sites = [i for i, c in enumerate(order) if c == "site"]
        appendices = [i for i, c in enumerate(order) if "devices" in c]
        assert len(sites) == len(appendices) == 3 and max(sites) < min(appendices)
        # the scoring weights are a table, never a raw Python dict
        assert "{'" not in cdp.eval("document.querySelector('#scoring').innerText")
        # printed, the device lists run in full (no scroll box)
        assert cdp.eval("getComputedStyle(document.querySelector('section.devices .tw')).maxHeight") == "none"
    finally:
        cdp.call("Emulation.setEmulatedMedia", media="")
    # on screen the long device lists scroll in their own box under sticky headers, so the page is a
    # few screens of summary and sections, not 560,000 px of rows
    box = "document.querySelector('section.devices .tw')"
    assert cdp.eval(f"{box}.scrollHeight > {box}.clientHeight")
    assert cdp.eval("document.documentElement.scrollHeight") < 150_000

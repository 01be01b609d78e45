"""The HTML report in a REAL headless Chromium, driven over the DevTools protocol.

What a unit test cannot show: that the page renders (layout, inline SVG), that the strict CSP
lets our own (hash-pinned) style and script run and nothing else, that no console error or
exception appears, and that clicking a column header really sorts the table.  Chromium runs with
no network features (``--disable-background-networking`` etc.), on a file:// URL.
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
import time
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_or_skip
from tests.unit import report_estate as est

# Priced entitlements (one with a hostile name) so the "Replace or pay" section is rendered too.
SITE_CATALOG = """\
[[entitlements]]
product = "windows"
cycles = ["10-22h2"]
name = "W10 ESU <img src=x onerror=alert(1)>"
cost = 61
"""

pytestmark = pytest.mark.integration


class Cdp:
    """A minimal DevTools client: send commands, collect events."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client (test extra)

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.events:
                if ev["method"] == method:
                    return ev
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
        raise AssertionError(f"no {method} event within {timeout} s")

    def eval(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in res:
            raise AssertionError(f"evaluation failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cdp, Path]]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        require_or_skip("chromium is not installed (apt-get install -y chromium)")
    try:
        import websocket  # noqa: F401
    except ImportError:
        require_or_skip("websocket-client is not installed (pip install -e .[test])")
    import reports.html

    tmp = tmp_path_factory.mktemp("chromium")
    html_file = tmp / "report.html"
    html_file.write_text(
        reports.html.render(est.report(demo="DEMO DATA — browser test", site_catalog=SITE_CATALOG)), encoding="utf-8"
    )
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
            "--window-size=1400,1000",
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
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        cdp = Cdp(ws_url)
        cdp.call("Runtime.enable")
        cdp.call("Log.enable")
        cdp.call("Page.enable")
        cdp.call("Page.navigate", url=html_file.as_uri())
        cdp.wait_event("Page.loadEventFired")
        yield cdp, html_file
        cdp.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_replace_or_pay_section_renders_and_escapes_the_catalogue(page: tuple[Cdp, Path]) -> None:
    """The site catalogue's priced entitlements render as their own section; a hostile name from
    that file is shown as text (an injected handler would also break the no-console-errors test)."""
    cdp, _ = page
    heading = "[...document.querySelectorAll('h2')].find(h => h.textContent.startsWith('Replace or pay'))"
    assert cdp.eval(f"!!{heading}") is True
    table = f"{heading}.nextElementSibling.nextElementSibling.querySelector('table')"
    assert cdp.eval(f"{table}.tBodies[0].rows.length") >= 1
    assert cdp.eval(f"{table}.getBoundingClientRect().height") > 20
    assert cdp.eval("document.querySelectorAll('img').length") == 0
    assert "<img src=x onerror=alert(1)>" in cdp.eval("document.body.innerText")


def test_renders_with_no_console_errors(page: tuple[Cdp, Path]) -> None:
    cdp, _ = page
    assert cdp.eval("document.title").startswith("DEMO — legacyscan replacement plan")
    assert cdp.eval("document.querySelectorAll('svg').length") == 3
    assert cdp.eval("document.querySelectorAll('table.sortable').length") >= 5
    # the inline stylesheet applied (CSP hash matched): the header cells have the house colour
    assert cdp.eval("getComputedStyle(document.querySelector('th')).backgroundColor") == "rgb(31, 78, 121)"
    # the inline script ran (CSP hash matched): it made headers keyboard-focusable
    assert cdp.eval("document.querySelector('table.sortable th').getAttribute('tabindex')") == "0"
    problems = [
        e
        for e in cdp.events
        if e["method"] in ("Runtime.exceptionThrown",)
        or (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "warning"))
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning"))
    ]
    assert problems == []


def _png_is_not_blank(png: bytes) -> bool:
    """Decode enough of the PNG (8-bit RGB/RGBA) to count distinct row colours — stdlib only."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, colour = 8, b"", 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, _, _, colour = struct.unpack(">IIBB", data[:10])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp = 4 if colour == 6 else 3
    stride = 1 + width * bpp
    distinct = {raw[i : i + stride][1:][::97] for i in range(0, len(raw), stride * 25)}
    return len(distinct) > 5


def test_screenshot_is_not_blank(page: tuple[Cdp, Path]) -> None:
    cdp, html_file = page
    shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    (html_file.parent / "screenshot.png").write_bytes(shot)
    assert len(shot) > 20_000
    assert _png_is_not_blank(shot)


def test_clicking_a_header_sorts_the_table(page: tuple[Cdp, Path]) -> None:
    cdp, _ = page
    # the replacement list of the first site; column 2 is the numeric priority
    table = "document.querySelector('section.site table.sortable')"
    read = f"Array.from({table}.tBodies[0].rows).map(r => parseFloat(r.cells[2].dataset.v))"
    before = cdp.eval(read)
    assert before == sorted(before, reverse=True) and len(before) >= 3
    cdp.eval(f"{table}.querySelectorAll('th')[2].scrollIntoView()")
    rect = cdp.eval(
        f"(() => {{ const r = {table}.querySelectorAll('th')[2].getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    cdp.click(*rect)
    ascending = cdp.eval(read)
    assert ascending == sorted(before)
    assert cdp.eval(f"{table}.querySelectorAll('th')[2].getAttribute('aria-sort')") == "ascending"
    cdp.click(*rect)
    assert cdp.eval(read) == sorted(before, reverse=True)
    # a text column sorts too (device names)
    names_js = f"Array.from({table}.tBodies[0].rows).map(r => r.cells[1].textContent.toLowerCase())"
    rect = cdp.eval(
        f"(() => {{ const r = {table}.querySelectorAll('th')[1].getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    cdp.click(*rect)
    names = cdp.eval(names_js)
    assert names == sorted(names)


def test_prints_to_pdf(page: tuple[Cdp, Path]) -> None:
    cdp, html_file = page
    pdf = base64.b64decode(cdp.call("Page.printToPDF", printBackground=True, preferCSSPageSize=True)["data"])
    (html_file.parent / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 3  # a page per site section at least
    # the print stylesheet is the one in force while printing
    cdp.call("Emulation.setEmulatedMedia", media="print")
    assert cdp.eval("getComputedStyle(document.querySelector('section.site')).breakBefore") == "page"
    cdp.call("Emulation.setEmulatedMedia", media="")

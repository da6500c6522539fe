"""End to end, as a reader meets the review: the HTML report in a real browser, and the notebook in JupyterLab.

* The report (built once per session by test_report.built_report) is opened in headless
  Chromium (Debian's /usr/bin/chromium) through Playwright; every request that is not a
  local file is refused and recorded, so the page must render offline.
* JupyterLab is started on 127.0.0.1 (a free port, a known token, its own runtime and
  config folders) and notebook 02 is fetched through its contents API.

Each test skips, saying why, when Chromium, Playwright or JupyterLab is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import lbpevidence as lbp
from lbpevidence import report
from test_report import built_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A page that may load local files only; ``page.refused`` lists every other request."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.refused = []

    def route(handle):
        if handle.request.url.startswith(("file:", "data:")):
            handle.continue_()
        else:
            page.refused.append(handle.request.url)
            handle.abort()

    page.route("**/*", route)
    yield page
    context.close()


HEADLINE_FIGURE_JS = """() => {
  const heading = [...document.querySelectorAll("h2")].find(h => h.textContent.includes("The headline figure"));
  if (!heading) return null;
  const img = [...document.querySelectorAll("img")].find(
      i => heading.compareDocumentPosition(i) & Node.DOCUMENT_POSITION_FOLLOWING);
  return img ? {complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
                src: img.src.slice(0, 22)} : null;
}"""

HEADLINE_TABLE_JS = """() => {
  const heading = [...document.querySelectorAll("h2")].find(h => h.textContent.includes("The headline table"));
  const table = [...document.querySelectorAll("table.lbp-table")].find(
      t => heading.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING);
  if (!table) return null;
  return {headers: [...table.querySelectorAll("thead th")].map(th => th.textContent.trim()),
          rows: table.querySelectorAll("tbody tr").length,
          first: [...table.querySelectorAll("tbody tr:first-child td")].map(td => td.textContent.trim()),
          visible: table.getBoundingClientRect().height > 0};
}"""


def test_report_headline_renders_in_chromium(page):
    folder = built_report()
    page.goto((folder / "index.html").as_uri())
    assert page.title() == "lbpevidence: the review"
    page.click("text=Which treatments does the evidence support?")
    page.wait_for_load_state("load")
    assert page.url.endswith("/02-modality-evidence.html")
    assert page.title() == "Which treatments does the evidence support?"

    figure = page.evaluate(HEADLINE_FIGURE_JS)
    assert figure is not None, "no image after the 'The headline figure' heading"
    assert figure["complete"] and figure["width"] > 0 and figure["height"] > 0
    assert figure["src"].startswith("data:image/png;base64")

    table = page.evaluate(HEADLINE_TABLE_JS)
    assert table is not None and table["visible"]
    assert table["headers"] == report.HEADLINE_COLUMNS
    assert table["rows"] == len(lbp.load_review().headline)
    assert table["first"][0] == report.headline_table(lbp.load_review())["modality"].iloc[0]
    assert page.refused == []


def test_every_report_image_renders_offline(page):
    folder = built_report()
    for name in report.NOTEBOOKS:
        page.goto((folder / f"{name}.html").as_uri())
        sizes = page.evaluate("() => [...document.images].map(i => [i.complete, i.naturalWidth])")
        assert all(done and width > 0 for done, width in sizes), name
    assert page.refused == []


# --- JupyterLab -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


@pytest.fixture
def jupyterlab(tmp_path):
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install -e '.[lab]')")
    port, token = free_port(), "lbpevidence-e2e-token"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "IPYTHONDIR": str(tmp_path / "ipython")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={report.notebooks_dir()}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
               "--allow-root"]
    log = (tmp_path / "jupyterlab.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n"
                            f"{(tmp_path / 'jupyterlab.log').read_text(errors='replace')[-3000:]}")
            try:
                if get(f"{base}/api/status", token)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("JupyterLab did not answer within 90 s")
            time.sleep(0.5)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(tmp_path / "runtime", ignore_errors=True)


def test_jupyterlab_serves_the_headline_notebook(jupyterlab):
    base, token = jupyterlab
    status, body = get(f"{base}/api/contents/02-modality-evidence.ipynb?content=1", token)
    assert status == 200
    model = json.loads(body)
    assert model["type"] == "notebook" and model["name"] == "02-modality-evidence.ipynb"
    cells = model["content"]["cells"]
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"].startswith("# Which treatments")
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code[0]["source"].startswith("import lbpevidence as lbp")
    assert any("image/png" in out.get("data", {}) for c in code for out in c["outputs"])
    status, body = get(f"{base}/lab/tree/02-modality-evidence.ipynb", token)
    assert status == 200 and b"JupyterLab" in body

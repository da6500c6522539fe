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
from lbpevidence import report, tables
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


ANSWER_JS = """() => {
  const img = document.querySelector("figure#evidence-map img");
  const table = document.querySelector("table.lbp-answers");
  return {
    image: img ? {complete: img.complete, width: img.naturalWidth, shown: img.getBoundingClientRect().width,
                  alt: img.alt, src: img.src.slice(0, 22)} : null,
    rows: table ? [...table.querySelectorAll("tbody tr")].map(tr => [
        tr.querySelector("th").textContent.trim(),
        ...[...tr.querySelectorAll("td.lbp-answer")].map(td => td.querySelector(".lbp-verdict")?.textContent)]) : null,
    headers: table ? [...table.querySelectorAll("thead th")].map(th => th.textContent.trim()) : null,
    top: table ? table.getBoundingClientRect().top + window.scrollY : null,
  };
}"""

PAGE_FACTS_JS = """() => {
  const root = document.documentElement;
  const height = root.scrollHeight;
  document.querySelectorAll("details").forEach(d => { d.open = true; });  // what a reader may unfold must fit too
  const wide = [...document.querySelectorAll("table, .jp-OutputArea-output, .jp-Cell, img, pre")]
      .filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible"
                    || el.getBoundingClientRect().right > root.clientWidth + 1)
      .map(el => el.tagName + "." + el.className + ": " + el.scrollWidth + " > " + el.clientWidth);
  return {
    height: height,
    scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
    wide: wide,
    headers: [...document.querySelectorAll("table th")].map(th => th.textContent.trim()),
    cells: [...document.querySelectorAll("table td")].map(td => td.textContent.trim()),
    text: document.body.innerText,
    errors: document.querySelectorAll(".jp-RenderedText[data-mime-type*=stderr], .jp-OutputArea-output pre.ansi")
        .length,
  };
}"""

_SLUGS = {term for term in (*lbp.vocabulary.MODALITIES, *lbp.vocabulary.TIME_WINDOWS, "acute-subacute",
                            "not-reported", "some-concerns", "usual-care", "no-treatment", "other-exercise",
                            "other-therapy", "study-level only, not pooled") if "-" in term or " " in term}


def test_index_shows_the_answer_and_the_evidence_map(page):
    review = lbp.load_review()
    page.goto((built_report() / "index.html").as_uri())
    assert page.title() == "lbpevidence: the review"
    facts = page.evaluate(ANSWER_JS)
    image = facts["image"]
    assert image is not None and image["complete"] and image["width"] > 600 and image["shown"] > 600
    assert image["src"].startswith("data:image/png;base64") and "Evidence map" in image["alt"]
    table = tables.answer_table(review)
    assert facts["headers"] == ["Treatment", "Pain, 0–100", "Disability, 0–100", "Details"]
    assert facts["rows"] == [[row["modality"], row["pain_verdict"], row["disability_verdict"]]
                             for row in table.to_dict("records")]
    assert facts["top"] < 3000  # the answer is on the first screens, not after a list of notebooks
    assert page.refused == []


def test_index_links_reach_the_forest_plot_and_the_summary_of_findings_row(page):
    page.goto((built_report() / "index.html").as_uri())
    page.click("#answer-exercise >> text=forest plot")
    page.wait_for_load_state("load")
    assert page.url.endswith("/03-meta-analysis.html#forest-exercise")
    assert page.locator("#forest-exercise").count() == 1
    page.goto((built_report() / "index.html").as_uri())
    page.click("#answer-exercise >> text=disability: summary of findings")
    page.wait_for_load_state("load")
    row = page.locator("tr#sof-exercise-disability-chronic-mixed")
    assert row.is_visible()
    assert "−7 (−8 to −5) points on 0–100" in row.inner_text()  # Hayden 2021 as printed, on the row linked to


def test_headline_page_words_agree_with_its_table(page):
    page.goto((built_report() / "02-modality-evidence.html").as_uri())
    assert page.title() == "Which treatments does the evidence support?"
    page.click("text=Every answer in words")  # folded: the reader opens it
    sentences = page.locator("details:has(summary:text('Every answer in words')) tbody tr")
    table = tables.headline_table(lbp.load_review(), statements=True)
    assert sentences.count() == len(table)
    assert sentences.first.is_visible()
    for i in (0, len(table) - 1):
        cells = sentences.nth(i).locator("td").all_inner_texts()
        assert cells == [table["modality"].iloc[i], table["outcome"].iloc[i], table["statement"].iloc[i]]


@pytest.mark.parametrize("name", ["index", *report.NOTEBOOKS])
def test_page_reads_well_at_1280_px(page, name):
    """No traceback, no raw column name or slug in a table, nothing wider than the window, a page one can scan."""
    page.goto((built_report() / f"{name}.html").as_uri())
    facts = page.evaluate(PAGE_FACTS_JS)
    assert "Traceback" not in facts["text"] and facts["errors"] == 0
    raw = [h for h in facts["headers"] if "_" in h or (h and h == h.lower() and "-" in h)]
    assert raw == [], f"raw column names in {name}: {raw}"
    slugs = sorted({c for c in facts["cells"] if c in _SLUGS})
    assert slugs == [], f"slugs in {name}: {slugs}"
    assert facts["scrollWidth"] <= facts["clientWidth"], f"{name} scrolls sideways"
    assert facts["wide"] == [], f"{name}: elements wider than the page: {facts['wide'][:3]}"
    assert facts["height"] < 8000, f"{name} is {facts['height']} px tall at 1280 px"
    assert page.refused == []


def test_every_report_image_renders_offline(page):
    folder = built_report()
    for name in ["index", *report.NOTEBOOKS]:
        page.goto((folder / f"{name}.html").as_uri())
        sizes = page.evaluate("() => [...document.images].map(i => [i.complete, i.naturalWidth])")
        assert all(done and width > 0 for done, width in sizes), name
        assert sizes or name == "01-reference-table", f"{name}: no figure"
    assert page.refused == []


def test_folded_tables_open_on_click(page):
    page.goto((built_report() / "01-reference-table.html").as_uri())
    table = page.locator("details:has(summary:text('Every publication')) table")
    assert not table.is_visible()
    page.click("summary:text('Every publication')")
    assert table.is_visible()
    assert table.locator("tbody tr").count() == len(lbp.load_review().references)


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

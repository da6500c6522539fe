"""The HTML report and the `summary` / `report` commands.

The report is built twice per session, once on the bundled refs/ and once on a copy whose
first title holds a <script> tag (it must reach every page escaped). Each build executes
the five notebooks (about 25 s on 2 cores); :func:`built_report` caches them for
test_e2e.py too.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

import lbpevidence as lbp
from conftest import REPO
from lbpevidence import report, tables
from lbpevidence.cli import main
from lbpevidence.vocabulary import column_label

SCRIPT_TITLE = "<script>alert('lbpevidence-xss')</script> Exercise therapy for chronic low back pain"
ESCAPED_TITLE = "&lt;script&gt;alert('lbpevidence-xss')&lt;/script&gt; Exercise therapy"
RAW_MARKER = "<script>alert("


def scripted_refs(folder: Path) -> Path:
    """A copy of the bundled refs/ whose first entry's title carries a <script> tag."""
    shutil.copytree(lbp.bundled_refs(), folder, ignore=shutil.ignore_patterns("*.md"))
    studies = folder / "studies.bib"
    text = studies.read_text(encoding="utf-8")
    text, count = re.subn(r"(title\s*=\s*\{)Exercise therapy for chronic low back pain\}",
                          lambda m: m.group(1) + SCRIPT_TITLE + "}", text, count=1)
    assert count == 1
    studies.write_text(text, encoding="utf-8")
    return folder


@functools.cache
def built_report(kind: str = "bundled") -> Path:
    """Build the report once per session: ``bundled`` refs, or ``scripted`` (a copy with a <script> title).

    Returns the report folder. The scripted build goes through the CLI (`lbpevidence report -o DIR --refs`).
    """
    scratch = Path(tempfile.mkdtemp(prefix=f"lbpevidence-report-{kind}-"))
    atexit.register(shutil.rmtree, scratch, True)
    out = scratch / "report"
    if kind == "bundled":
        report.build_report(out)
    else:
        refs = scripted_refs(scratch / "refs")
        assert main(["report", "-o", str(out), "--refs", str(refs)]) == 0
    return out


def stored_images(name: str) -> int:
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.outputs)


# --- the bundled report ----------------------------------------------------------------------------


def test_index_links_every_notebook_page():
    index = (built_report() / "index.html").read_text(encoding="utf-8")
    for name in report.NOTEBOOKS:
        assert f'href="{name}.html"' in index
        assert (built_report() / f"{name}.html").is_file()
    assert "<title>lbpevidence: the review</title>" in index
    assert "Which treatments does the evidence support?" in index


def test_index_holds_the_evidence_map_and_one_answer_row_per_treatment():
    index = (built_report() / "index.html").read_text(encoding="utf-8")
    figure = index[index.index('<figure id="evidence-map">'):]
    assert figure.index("data:image/png;base64,") < figure.index("</figure>")
    table = index[index.index('<table class="lbp-table lbp-answers">'):]
    table = table[:table.index("</table>")]
    answers = tables.answer_table(lbp.load_review())
    assert re.findall(r'<tr id="answer-([a-z-]+)">', table) == list(answers["term"])
    assert [h for h in re.findall(r"<th>([^<]+)</th>", table)] == ["Treatment", "Pain, 0–100", "Disability, 0–100",
                                                                   "Details"]
    assert "−7 (−8 to −5)" in table  # Hayden 2021 disability, as printed: 7 (5 to 8) points better
    assert 'href="03-meta-analysis.html#forest-exercise"' in table
    assert 'href="04-certainty.html#sof-exercise-pain-chronic-mixed"' in table


def test_every_link_of_the_index_reaches_an_id_of_its_page():
    folder = built_report()
    index = (folder / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="(\d\d-[a-z-]+\.html)#([^"]+)"', index))
    assert links
    for page, anchor in links:
        assert f'id="{anchor}"' in (folder / page).read_text(encoding="utf-8"), (page, anchor)


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_page_embeds_its_figures_as_images(name):
    page = (built_report() / f"{name}.html").read_text(encoding="utf-8")
    images = re.findall(r'<img[^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)
    assert len(images) == stored_images(name)
    assert 'href="index.html"' in page


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_page_fetches_nothing(name):
    page = (built_report() / f"{name}.html").read_text(encoding="utf-8")
    assert "<script" not in page  # no require.js, MathJax, mermaid or widget loader
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"(@import|url\()\s*['\"]?(https?:)?//", page)


def test_headline_page_holds_the_answer_the_headline_table_and_figure():
    page = (built_report() / "02-modality-evidence.html").read_text(encoding="utf-8")
    assert "<title>Which treatments does the evidence support?</title>" in page
    answers = page[page.index('<table class="lbp-table lbp-answers">'):]
    assert answers.count('<tr id="answer-') == len(tables.answer_table(lbp.load_review()))
    table = page[page.index("Every comparison"):]
    table = table[table.index('<table class="lbp-table">'):]
    table = table[:table.index("</table>")]
    headers = re.findall(r"<th>([^<]+)</th>", table)
    assert headers == [column_label(c) for c in tables.HEADLINE_WORDS_COLUMNS]
    assert "Certainty (who rated it)" in headers and "Effect, 0–100 (95% CI)" in headers
    assert table.count("<tr") - 1 == len(lbp.load_review().headline)  # minus the header row
    assert "<td>Exercise therapy</td>" in table
    assert "<td>−7 (−8 to −5)</td>" in table
    figure = page[page.index("Figure 2."):]
    assert figure.index("data:image/png;base64,") < figure.index("In plain words")


def test_pages_show_no_code_and_no_prompts():
    page = (built_report() / "03-meta-analysis.html").read_text(encoding="utf-8")
    assert "import lbpevidence" not in page and "In&nbsp;[" not in page


# --- a refs/ copy with a <script> title ---------------------------------------------------------------


def test_report_on_a_copy_reads_the_copy_and_escapes_its_strings():
    out = built_report("scripted")
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.html")}
    assert sorted(pages) == sorted([*(f"{n}.html" for n in report.NOTEBOOKS), "index.html"])
    assert ESCAPED_TITLE in pages["01-reference-table.html"]  # the notebooks read $LBPEVIDENCE_REFS
    for name, page in pages.items():
        assert RAW_MARKER not in page, name
        assert "lbpevidence-xss')</script>" not in page, name


# --- commands ------------------------------------------------------------------------------------------


def test_report_command_fails_fast_on_an_invalid_table(tmp_path, capsys):
    refs = scripted_refs(tmp_path / "refs")
    (refs / "outcomes.csv").write_text("key,outcome\nnobody2020,pain\n", encoding="utf-8")
    assert main(["report", "-o", str(tmp_path / "out"), "--refs", str(refs)]) == 1
    assert "outcomes.csv" in capsys.readouterr().err
    assert not (tmp_path / "out" / "index.html").exists()


def test_summary_markdown_prints_the_headline_table(capsys):
    assert main(["summary", "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| " + " | ".join(tables.HEADLINE_COLUMNS) + " |"
    assert len(lines) == 2 + len(lbp.load_review().headline)
    assert lines[2].startswith(f"| {tables.headline_table(lbp.load_review())['modality'].iloc[0]} | pain |")


def test_summary_csv_and_invalid_input(tmp_path, capsys):
    assert main(["summary", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith(",".join(tables.HEADLINE_COLUMNS) + "\n")
    refs = scripted_refs(tmp_path / "refs")
    (refs / "studies.bib").write_text("@article{x,\n  title = {No}\n}\n", encoding="utf-8")
    assert main(["summary", str(refs)]) == 1
    assert "studies.bib" in capsys.readouterr().err


def test_refs_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(report.REFS_ENV, raising=False)
    assert report.refs_path() is None
    monkeypatch.setenv(report.REFS_ENV, str(tmp_path))
    assert report.refs_path() == tmp_path

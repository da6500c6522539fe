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
import pandas as pd
import pytest

import lbpevidence as lbp
from conftest import REPO
from lbpevidence import report
from lbpevidence.cli import main
from lbpevidence.evidence import strength_order
from lbpevidence.vocabulary import REBUILT_MARK, column_label

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
    answers = report.answer_table(lbp.load_review())
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
    assert answers.count('<tr id="answer-') == len(report.answer_table(lbp.load_review()))
    table = page[page.index("Every comparison"):]
    table = table[table.index('<table class="lbp-table">'):]
    table = table[:table.index("</table>")]
    headers = re.findall(r"<th>([^<]+)</th>", table)
    assert headers == [column_label(c) for c in report.HEADLINE_WORDS_COLUMNS]
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


def test_display_table_escapes_html():
    table = report.display_table(pd.DataFrame({"title": [SCRIPT_TITLE]}))
    assert RAW_MARKER not in table._repr_html_() and "&lt;script&gt;" in table._repr_html_()


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
    assert lines[0] == "| " + " | ".join(report.HEADLINE_COLUMNS) + " |"
    assert len(lines) == 2 + len(lbp.load_review().headline)
    assert lines[2].startswith(f"| {report.headline_table(lbp.load_review())['modality'].iloc[0]} | pain |")


def test_summary_csv_and_invalid_input(tmp_path, capsys):
    assert main(["summary", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith(",".join(report.HEADLINE_COLUMNS) + "\n")
    refs = scripted_refs(tmp_path / "refs")
    (refs / "studies.bib").write_text("@article{x,\n  title = {No}\n}\n", encoding="utf-8")
    assert main(["summary", str(refs)]) == 1
    assert "studies.bib" in capsys.readouterr().err


def test_headline_table_rows_and_order():
    review = lbp.load_review()
    table = report.headline_table(review, statements=True)
    assert len(table) == len(review.headline)
    assert list(table["outcome"]) == sorted(table["outcome"], key=["pain", "disability"].index)
    assert table["statement"].str.len().min() > 20
    assert set(table["certainty"]) <= {"high", "moderate", "low", "very low"}
    assert table["rated_by"].str.len().gt(0).all()
    shown = table.dropna(subset=["effect_0_100"])
    assert (shown["ci_low_0_100"] <= shown["effect_0_100"]).all()
    assert (shown["effect_0_100"] <= shown["ci_high_0_100"]).all()


def test_refs_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(report.REFS_ENV, raising=False)
    assert report.refs_path() is None
    monkeypatch.setenv(report.REFS_ENV, str(tmp_path))
    assert report.refs_path() == tmp_path


# --- the tables readers see ------------------------------------------------------------------------------


def test_answer_table_one_row_per_treatment_sorted_by_strength():
    review = lbp.load_review()
    table = report.answer_table(review)
    primary = review.headline[review.headline["primary"]]
    assert list(table["term"]) == strength_order(review.headline)
    assert sorted(table["term"]) == sorted(primary["modality"].unique())
    assert table["tier"].is_monotonic_increasing  # strongest evidence first
    for row in table.to_dict("records"):  # every cell is the headline's primary answer, in its words
        for outcome in ("pain", "disability"):
            answer = primary[(primary["modality"] == row["term"]) & (primary["outcome"] == outcome)].iloc[0]
            assert row[f"{outcome}_verdict"] == answer["verdict"]
            assert row[f"{outcome}_certainty"].split(" (")[0] == answer["certainty"]
            assert row[f"{outcome}_statement"] == answer["statement"]


def test_published_estimates_are_shown_with_the_ci_they_printed():
    """Hayden 2021 printed disability 7 (5 to 8) points better: shown as −7 (−8 to −5), not a symmetric interval."""
    table = report.headline_table(lbp.load_review(), words=True)
    hayden = table[(table["modality"] == "Exercise therapy") & (table["outcome"] == "disability")
                   & (table["certainty_rated_by"].str.contains("Hayden 2021"))]
    assert "−7 (−8 to −5)" in set(hayden["effect_ci_0_100"])
    assert REBUILT_MARK not in "".join(table["effect_ci_0_100"])  # every published CI here was printed


def test_headline_words_agree_with_the_numbers():
    review = lbp.load_review()
    numbers = report.headline_table(review)
    words = report.headline_table(review, words=True)
    assert len(words) == len(numbers)
    for n, w in zip(numbers.to_dict("records"), words.to_dict("records"), strict=True):
        assert w["verdict"] == n["verdict"] and w["modality"] == n["modality"]
        assert w["certainty_rated_by"].startswith(n["certainty"] + " (")
        if n["effect_0_100"] == n["effect_0_100"]:
            shown = float(w["effect_ci_0_100"].split(" ")[0].replace("−", "-"))
            assert shown == pytest.approx(n["effect_0_100"], abs=0.051)
        else:
            assert w["effect_ci_0_100"] == ""


def test_study_labels_tell_two_studies_of_one_author_and_year_apart():
    """Nadler 2003 wrote two heat-wrap trials (continuous, overnight): two studies, not a duplicate."""
    labels = report.study_labels(lbp.load_review().references)
    assert labels["nadler2003continuous"] == "Nadler 2003a" and labels["nadler2003overnight"] == "Nadler 2003b"
    assert len(set(labels.values())) == len(labels)
    trials, _ = report.assessed_trials(lbp.load_review())
    assert not trials["study"].duplicated().any()


def test_headline_trials_each_once_per_treatment():
    review = lbp.load_review()
    trials = report.headline_trials(review)
    assert not trials.duplicated(["modality", "key"]).any()
    used = {k for ev in review.headline["evidence"] for k in ev}
    assert set(trials["key"]) <= used
    assessed = report.headline_trials(review, assessed_only=True)
    assert "not assessed" not in set(assessed["category"]) and len(assessed) < len(trials)


def test_single_trials_and_pooled_tables_split_the_analyses():
    review = lbp.load_review()
    pooled, single = report.pooled_table(review), report.single_trials(review)
    assert (pooled["k"] >= 2).all() and len(pooled) == int((review.pooled["k"] >= 2).sum())
    assert len(single) == int((review.pooled["k"] == 1).sum())  # one trial per single-trial analysis


def test_small_study_effects_needs_ten_trials():
    note = report.small_study_effects(lbp.load_review())
    assert isinstance(note, report.Note) and "10 or more trials" in note.text


def test_display_table_headings_are_words_and_values_are_not_slugs():
    frame = pd.DataFrame({"modality": ["spinal-manipulation"], "window": ["short-term"], "effect_0_100": [-3.54],
                          "comparator_class": ["inactive"], "participants": [1922], "usable": [True]})
    table = report.display_table(frame)
    html = table._repr_html_()
    assert re.findall(r"<th>([^<]+)</th>", html) == ["Treatment", "Follow-up", "Effect, 0–100", "Compared with",
                                                      "Participants", "Usable"]
    assert table.cells() == [["Spinal manipulation / chiropractic", "short term (up to 3 months)", "−3.5",
                              "usual care / no treatment", "1,922", "yes"]]


def test_display_table_folds_into_details_and_links_rows():
    table = report.display_table(pd.DataFrame({"a": [1, 2]}), summary="Two rows", row_ids=["r1", "r2"])
    html = table._repr_html_()
    assert html.startswith('<details class="lbp-details"><summary>Two rows</summary>')
    assert '<tr id="r1">' in html and '<tr id="r2">' in html
    with pytest.raises(ValueError, match=r"The value for `row_ids` must have one id per row \(2\), but 1 were"):
        report.display_table(pd.DataFrame({"a": [1, 2]}), row_ids=["r1"])

"""The notebooks stay thin, stored with deterministic outputs, and in step with scripts/build_notebooks.py.

Executing them is nbval's job (``pytest`` collects notebooks/ with ``--nbval``, see
pyproject.toml); these tests read the stored files only.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib

import nbformat
import pytest

from conftest import REPO
from lbpevidence import report

NOTEBOOK_DIR = REPO / "notebooks"
MAX_LINES = 6


def load(name):
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("build_notebooks", REPO / "scripts" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_five_notebooks_exist_and_nothing_else():
    assert sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")) == list(report.NOTEBOOKS)


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_notebook_is_valid_and_starts_with_a_title(name):
    nb = load(name)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_first_code_cell_imports_lbpevidence(name):
    first = code_cells(load(name))[0].source.splitlines()
    assert first[0] == "import lbpevidence as lbp"
    assert any("lbp.load_review(report.refs_path())" in line for line in first)


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_code_cells_are_short_and_define_nothing(name):
    for cell in code_cells(load(name)):
        lines = [line for line in cell.source.splitlines() if line.strip()]
        assert len(lines) <= MAX_LINES, cell.source
        tree = ast.parse(cell.source)
        defined = [type(node).__name__ for node in ast.walk(tree)
                   if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)]
        assert defined == [], f"{name}: logic belongs in the library, not in a cell: {cell.source}"


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_every_cell_after_the_first_shows_something(name):
    for cell in code_cells(load(name))[1:]:
        assert cell.outputs, f"{name}: no stored output for {cell.source!r}"
        assert all(out.output_type in ("display_data", "execute_result") for out in cell.outputs), cell.source


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_plot_cells_end_with_a_semicolon_and_show_one_image(name):
    for cell in code_cells(load(name)):
        if not any(figures in cell.source.splitlines()[-1] for figures in ("plots.", "maps.")):
            continue
        assert cell.source.rstrip().endswith(";"), cell.source
        kinds = [sorted(out.get("data", {})) for out in cell.outputs]
        assert kinds == [["image/png", "text/plain"]], f"{cell.source}: {kinds}"


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_table_cells_show_rounded_html_tables(name):
    for cell in code_cells(load(name)):
        if "display_table" not in cell.source:
            continue
        (out,) = cell.outputs
        html = out["data"]["text/html"]
        assert html.startswith(('<table class="lbp-table">', '<details class="lbp-details">'))
        assert not re.search(r"<td>[-−]?\d+\.\d{3,}</td>", html), f"{name}: unrounded number in {cell.source}"
        headers = re.findall(r"<th>([^<]*)</th>", html)
        assert headers and not [h for h in headers if "_" in h], f"{name}: a raw column name in {cell.source}"


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_outputs_are_deterministic(name):
    text = (NOTEBOOK_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    nb = load(name)
    assert "execution" not in str([cell.metadata for cell in nb.cells])  # no timings
    assert not re.search(r"\b0x[0-9a-f]{6,}\b", text)  # no memory addresses
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text)  # no timestamps
    assert [cell.id for cell in nb.cells] == [f"{name[:2]}-{i:02d}" for i in range(len(nb.cells))]
    assert "version" not in nb.metadata.get("language_info", {})
    counts = [cell.execution_count for cell in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1))


@pytest.mark.parametrize(("name", "words"), [
    ("02-modality-evidence", ["REML", "HKSJ", "0-100", "Hayden 2021"]),
    ("03-meta-analysis", ["REML", "Hartung-Knapp-Sidik-Jonkman", "prediction interval", "MD100"]),
    ("04-certainty", ["PEDro", "RoB 2", "Hayden 2021"]),
])
def test_captions_name_the_methods(name, words):
    text = " ".join(cell.source for cell in load(name).cells if cell.cell_type == "markdown")
    assert all(word in text for word in words)


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_notebooks_are_what_the_generator_writes(name, generator):
    made = generator.make_notebook(name, generator.NOTEBOOKS[name])
    stored = load(name)
    assert [(c.cell_type, c.source) for c in stored.cells] == [(c.cell_type, c.source) for c in made.cells], (
        "notebooks/ is out of step with scripts/build_notebooks.py: run it")


def test_the_answer_comes_first_in_notebook_02():
    cells = code_cells(load("02-modality-evidence"))
    assert cells[1].source == "tables.AnswerTable(review, links=False)"
    assert cells[2].source == "maps.answer_map(review.headline);"
    assert any("tables.headline_table(review, words=True)" in c.source for c in cells[3:])
    assert any(c.source == "maps.headline_figure(review);" for c in cells[3:])


def test_funnel_plots_only_where_egger_can_run():
    """Notebook 03 asks the library, which draws a funnel plot only for an analysis of 10 or more trials."""
    cells = code_cells(load("03-meta-analysis"))
    assert not any("funnel_plot(" in c.source for c in cells)
    (cell,) = [c for c in cells if "small_study_effects" in c.source]
    text = cell.outputs[0]["data"]["text/plain"]
    assert "No funnel plot" in text and "10 or more trials" in text


def test_pytest_runs_the_notebooks_with_the_sanitize_file():
    options = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "notebooks" in options["testpaths"]
    assert "--nbval --nbval-sanitize-with notebooks/sanitize.cfg" in options["addopts"]
    assert "--nbval-lax" not in options["addopts"]
    patterns = re.findall(r"^regex: (.*)$\n^replace: (.*)$", (NOTEBOOK_DIR / "sanitize.cfg").read_text(), re.M)
    assert patterns
    for pattern, _ in patterns:
        re.compile(pattern)


def test_notebooks_ship_in_the_wheel():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]["notebooks"] == "lbpevidence/notebooks"
    assert (report.notebooks_dir() / "02-modality-evidence.ipynb").is_file()

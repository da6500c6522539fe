"""The HTML report: the review's notebooks executed and rendered as pages, and the page of the answer.

* :func:`build_report` executes the review's notebooks (``notebooks/`` in a source
  checkout, ``lbpevidence/notebooks`` inside the wheel) with nbclient and renders each
  to a self-contained HTML page (nbconvert's lab template, images embedded as
  ``data:`` URIs, no script or style fetched from the network), plus an ``index.html``
  (:func:`index_page`: the answer map and the answer table) linking them. Every string from
  refs/ reaches the page HTML-escaped.
* The notebooks read the refs/ folder named by the environment variable
  :data:`REFS_ENV` (``LBPEVIDENCE_REFS``) when it is set, the bundled one otherwise
  (:func:`refs_path`), so a report can be built on any copy of the table.
* The tables the notebooks show are :mod:`lbpevidence.tables`; their figures
  :mod:`lbpevidence.plots` and :mod:`lbpevidence.maps`.

nbclient and nbconvert are imported only by the functions that need them (the
``report`` or ``test`` extras).

Examples
--------
>>> NOTEBOOKS[0], (notebooks_dir() / f"{NOTEBOOKS[0]}.ipynb").is_file()
('01-reference-table', True)
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import check_choice
from .tables import AnswerTable, display_table, verdict_legend

__all__ = [
    "NOTEBOOKS",
    "REFS_ENV",
    "build_report",
    "execute_notebook",
    "execute_notebooks",
    "index_page",
    "notebooks_dir",
    "refs_path",
    "render_html",
]

#: The review's notebooks, in reading order (file stems in notebooks/).
NOTEBOOKS = ("01-reference-table", "02-modality-evidence", "03-meta-analysis", "04-certainty", "05-article-audit")
#: Environment variable naming the refs/ folder the notebooks read.
REFS_ENV = "LBPEVIDENCE_REFS"

_PACKAGE_DIR = Path(__file__).resolve().parent


def notebooks_dir() -> Path:
    """The folder of the review's notebooks: inside the installed wheel, else the checkout's notebooks/.

    >>> (notebooks_dir() / "02-modality-evidence.ipynb").is_file()
    True
    """
    installed = _PACKAGE_DIR / "notebooks"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent.parent / "notebooks"


def refs_path() -> Path | None:
    """The refs/ folder the notebooks should read: ``$LBPEVIDENCE_REFS`` when set, else None (the bundled one).

    >>> import os
    >>> os.environ.pop(REFS_ENV, None) and None
    >>> refs_path() is None
    True
    """
    value = os.environ.get(REFS_ENV, "").strip()
    return Path(value) if value else None


# --- executing and rendering ---------------------------------------------------------------------------------

#: Styles shared by the notebook pages and the index: tables that wrap instead of scrolling, folded details.
_PAGE_STYLE = """
.lbp-nav { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px;
  padding: 8px 12px; border-bottom: 1px solid #ddd; display: flex; flex-wrap: wrap; gap: 4px 14px; }
.lbp-nav a { color: #1a4f8b; text-decoration: none; } .lbp-nav a:hover { text-decoration: underline; }
.lbp-nav .lbp-here { font-weight: 600; color: #222; }
table.lbp-table { border-collapse: collapse; font-size: 12.5px; max-width: 100%; margin: 4px 0 10px; }
table.lbp-table td, table.lbp-table th { text-align: left; vertical-align: top; padding: 3px 6px;
  overflow-wrap: break-word; white-space: normal; border-bottom: 1px solid #e6e6e6; }
table.lbp-table thead th { border-bottom: 2px solid #999; font-weight: 600; }
table.lbp-table tbody tr:target { background: #fff3bf; }
.jp-RenderedHTMLCommon table.lbp-table td, .jp-RenderedHTMLCommon table.lbp-table th { text-align: left;
  vertical-align: top; white-space: normal; }
details.lbp-details { margin: 6px 0 12px; } details.lbp-details > summary { cursor: pointer; font-weight: 600;
  color: #1a4f8b; margin: 4px 0; }
details.lbp-details li { margin: 4px 0; }
.lbp-note { color: #444; font-size: 13px; margin: 4px 0 12px; }
.lbp-answers td.lbp-answer { border-left: 6px solid #bababa; min-width: 16rem; }
.lbp-answers .lbp-verdict { font-weight: 600; } .lbp-answers .lbp-effect { font-variant-numeric: tabular-nums; }
.lbp-answers .lbp-certainty, .lbp-answers .lbp-context { display: block; }
.lbp-answers .lbp-context { color: #555; font-size: 12px; } .lbp-answers .lbp-none { color: #777; }
.lbp-answers th[scope=row] { font-weight: 600; min-width: 9rem; }
.lbp-answers td.lbp-links { font-size: 12px; white-space: nowrap; }
.jp-OutputArea-output { overflow-x: visible; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
"""


# The lab template without anything fetched from the network: no require.js, MathJax, mermaid
# or widget scripts (the notebooks use none); CSS is inlined by the template itself.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_css -%}
<style type="text/css">
""" + _PAGE_STYLE + """
</style>
{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.lbp_nav }}
{%- endblock body_header -%}
"""


def _kernel_env(refs: str | Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != REFS_ENV}
    if env.get("PYTHONPATH"):  # the kernel runs in the notebook's folder: relative entries would break
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep) if p)
    if refs is not None:
        env[REFS_ENV] = str(Path(refs).resolve())
    return env


async def _execute(path: Path, env: dict[str, str], timeout: int, kernel_name: str) -> Any:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])  # no transport warnings on stderr
    await client.async_execute(env=env)
    return nb


async def _execute_all(paths: list[Path], env: dict[str, str], timeout: int, kernel_name: str, jobs: int) -> list:
    import asyncio

    limit = asyncio.Semaphore(jobs)

    async def one(path: Path) -> Any:
        async with limit:
            return await _execute(path, env, timeout, kernel_name)

    return list(await asyncio.gather(*(one(p) for p in paths)))


def execute_notebook(path: str | Path, refs: str | Path | None = None, timeout: int = 600,
                     kernel_name: str = "python3") -> Any:
    """Execute a notebook with nbclient and return it (a NotebookNode), leaving the file unchanged.

    The kernel runs in the notebook's folder with ``LBPEVIDENCE_REFS`` set to ``refs``
    (or unset, for the bundled refs/). No timings are recorded, so two runs give the
    same notebook.
    """
    from nbclient.util import run_sync

    return run_sync(_execute_all)([Path(path)], _kernel_env(refs), timeout, kernel_name, 1)[0]


def execute_notebooks(paths: Iterable[str | Path], refs: str | Path | None = None, timeout: int = 600,
                      kernel_name: str = "python3", jobs: int | None = None) -> list:
    """Execute several notebooks, ``jobs`` kernels at a time (default: one per CPU); return them in order."""
    from nbclient.util import run_sync

    paths = [Path(p) for p in paths]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths) or 1))
    return run_sync(_execute_all)(paths, _kernel_env(refs), timeout, kernel_name, jobs)


def _title(nb: Any, default: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return default


def _summary(nb: Any) -> str:
    """The first sentence of the notebook's first paragraph, for the index page."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            paragraphs = [p.strip() for p in re.split(r"\n\s*\n", cell.source) if p.strip()]
            text = [p for p in paragraphs if not p.startswith("#")]
            if text:
                plain = re.sub(r"\s+", " ", re.sub(r"[*_`]", "", text[0]))
                return re.split(r"(?<=[.!?])\s", plain, maxsplit=1)[0]
    return ""


def _nav_html(current: str | None, pages: Sequence[tuple[str, str]]) -> str:
    """Links to the index and every page; the current one is marked, not linked."""
    items = [("index.html", "The answer")] + [(f"{name}.html", title) for name, title in pages]
    links = []
    for number, (file, title) in enumerate(items):
        label = html.escape(title if number == 0 else f"{number:02d} {title}")
        if file == current:
            links.append(f'<span class="lbp-here" aria-current="page">{label}</span>')
        else:
            links.append(f'<a href="{html.escape(file)}">{label}</a>')
    return f'<nav class="lbp-nav" aria-label="report pages">{"".join(links)}</nav>'


#: Short titles of the pages, for the navigation bar.
PAGE_TITLES = {"01-reference-table": "The reference table", "02-modality-evidence": "The evidence per treatment",
               "03-meta-analysis": "Meta-analyses", "04-certainty": "Certainty", "05-article-audit": "The article"}


def render_html(nb: Any, title: str, name: str | None = None) -> str:
    """One executed notebook as a self-contained HTML page (no code cells, no prompts, nothing fetched).

    ``name`` (the notebook's stem) marks the page in the navigation bar at its top.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"lbp_offline.html.j2": _OFFLINE_TEMPLATE})],
                            template_file="lbp_offline.html.j2", embed_images=True, exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    nav = _nav_html(f"{name}.html" if name else None, list(PAGE_TITLES.items()))
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}, "lbp_nav": nav})
    return body


_INDEX_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 76rem; margin: 0 auto 2rem;
       padding: 0 1rem; line-height: 1.45; color: #222; }
h1 { font-size: 1.6rem; margin: 1.2rem 0 0.4rem; } h2 { font-size: 1.25rem; margin: 1.6rem 0 0.5rem; }
.lead { font-size: 1.05rem; max-width: 60rem; } figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; } figcaption { color: #444; font-size: 0.9rem; max-width: 60rem; }
ol.lbp-pages li { margin: 0.4rem 0; } .small { color: #555; font-size: 0.9rem; }
"""


def _index_html(pages: list[tuple[str, str, str]], facts: str, answers_html: str, map_png: bytes | None,
                legend_html: str) -> str:
    import base64

    items = "\n".join(f'<li><a href="{html.escape(file)}">{html.escape(title)}</a>: '
                      f'<span class="small">{html.escape(summary)}</span></li>' for file, title, summary in pages)
    figure = ""
    if map_png is not None:
        data = base64.b64encode(map_png).decode("ascii")
        figure = (f'<figure id="evidence-map"><img src="data:image/png;base64,{data}" alt="Evidence map: for each '
                  "treatment (rows, strongest evidence first) and outcome (pain, disability), the effect on a 0-100 "
                  'scale with its 95% CI and the verdict; colour = verdict, filled dots = certainty of the evidence.">'
                  "<figcaption><b>Evidence map.</b> One row per treatment, strongest evidence first; one column per "
                  "outcome. Colour is the verdict (where the 95% CI lies against no effect and the minimal important "
                  "difference), the filled dots the certainty of the evidence (four: high; one: very low); beside "
                  "them the effect on a 0–100 scale with its 95% CI, the comparison and the population."
                  "</figcaption></figure>")
    nav = _nav_html("index.html", list(PAGE_TITLES.items()))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>lbpevidence: the review</title>
<style>{_INDEX_STYLE}{_PAGE_STYLE}</style>
</head>
<body>
{nav}
<h1>Which non-drug treatments help low back pain, and how sure can we be?</h1>
<p class="lead">The review's answer, treatment by treatment: for pain and for back-related disability, what the
strongest evidence in the reference table shows, how large the effect is on a 0–100 scale (negative means less pain or
disability than with the comparison) and how sure we can be. The strongest evidence comes first.</p>
{figure}
<h2 id="answer">The answer, treatment by treatment</h2>
{answers_html}
{legend_html}
<h2>The review, page by page</h2>
<ol class="lbp-pages">
{items}
</ol>
<p class="small">{html.escape(facts)}</p>
</body>
</html>
"""


def _raise_for_failed_outputs(name: str, nb: Any) -> None:
    """Fail when a cell ran but its output could not be made (a figure that fails to draw).

    nbclient raises only when a cell's code fails; an exception while the kernel renders
    a figure after the cell (a label that breaks mathtext) ends up as an ``error`` output
    inside the page, and the run would succeed with a traceback in the report.
    """
    from .errors import LbpEvidenceError

    for number, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                detail = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip().rstrip(":")
                raise LbpEvidenceError(f"{name}.ipynb, cell {number}: its output failed ({detail}); the report was "
                                       "not written. Run the notebook in JupyterLab to see the traceback.")


def build_report(output: str | Path = "report", refs: str | Path | None = None,
                 notebooks: Iterable[str] | None = None, timeout: int = 600, jobs: int | None = None) -> Path:
    """Execute the notebooks and write the HTML report; return the path of its ``index.html``.

    Parameters
    ----------
    output : path
        Folder to write (created if needed): ``index.html`` and one ``<notebook>.html``
        per notebook.
    refs : path, optional
        The refs/ folder to review (default: the bundled one). It is loaded first, so
        an invalid table fails at once with
        :class:`~lbpevidence.errors.ReferenceTableError` listing every problem.
    notebooks : iterable of str, optional
        Notebook stems to include (default: :data:`NOTEBOOKS`, all of them).
    timeout : int
        Seconds each cell may run.
    jobs : int, optional
        Notebooks executed at once (default: one per CPU).
    """
    from . import __version__
    from .review import load_review

    names = list(NOTEBOOKS if notebooks is None else notebooks)
    for name in names:
        check_choice("notebooks", name, list(NOTEBOOKS))
    review = load_review(refs)  # fail fast, with every problem, before starting a kernel
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    executed = execute_notebooks([notebooks_dir() / f"{name}.ipynb" for name in names], refs=refs, timeout=timeout,
                                 jobs=jobs)
    for name, nb in zip(names, executed, strict=True):
        _raise_for_failed_outputs(name, nb)  # before anything is written: no page with a traceback in it
    for name, nb in zip(names, executed, strict=True):
        title = _title(nb, name)
        (out / f"{name}.html").write_text(render_html(nb, title, name), encoding="utf-8")
        pages.append((f"{name}.html", title, _summary(nb)))
    facts = (f"Built by lbpevidence {__version__} from a reference table of {len(review.references)} publications "
             f"and {len(review.outcomes)} outcome rows.")
    index = out / "index.html"
    index.write_text(index_page(review, pages, facts), encoding="utf-8")
    return index


def index_page(review: Any, pages: list[tuple[str, str, str]] = (), facts: str = "") -> str:  # type: ignore[assignment]
    """The report's first page: the evidence map, the answer table (one row per treatment) and the pages.

    ``pages`` are ``(file, title, summary)`` of the notebook pages. The figure is
    :func:`lbpevidence.maps.answer_map` as an embedded PNG; the table
    :class:`~lbpevidence.tables.AnswerTable`.
    """
    from .maps import answer_map
    from .plots import figure_png

    png = figure_png(answer_map(review.headline).figure)
    legend = display_table(verdict_legend(), summary="What the verdicts mean")._repr_html_()
    return _index_html(list(pages), facts, AnswerTable(review)._repr_html_(), png, legend)

"""The notebooks and the HTML report: what a reader sees, and the tables the notebooks show.

* :func:`build_report` executes the review's notebooks (``notebooks/`` in a source
  checkout, ``lbpevidence/notebooks`` inside the wheel) with nbclient and renders each
  to a self-contained HTML page (nbconvert's lab template, images embedded as
  ``data:`` URIs, no script or style fetched from the network), plus an ``index.html``
  linking them. Every string from refs/ reaches the page through pandas' HTML escaping.
* The notebooks read the refs/ folder named by the environment variable
  :data:`REFS_ENV` (``LBPEVIDENCE_REFS``) when it is set, the bundled one otherwise
  (:func:`refs_path`), so a report can be built on any copy of the table.
* :func:`display_table` and :func:`headline_table` are the table helpers the notebooks
  and ``lbpevidence summary`` use, so that the notebooks stay free of logic.

nbclient and nbconvert are imported only by the functions that need them (the
``report`` or ``test`` extras).

Examples
--------
>>> import lbpevidence as lbp
>>> table = headline_table(lbp.load_review())
>>> list(table.columns[:6])
['modality', 'outcome', 'population', 'comparison', 'verdict', 'certainty']
>>> sorted(table["outcome"].unique()), table["modality"].iloc[0]
(['disability', 'pain'], 'Exercise therapy')
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import check_choice
from .vocabulary import (
    CERTAINTY_LEVELS,
    COMPARISON_LABELS,
    MODALITIES,
    POPULATION_GROUP_LABELS,
    VERDICTS,
    mid_for,
    to_0_100,
)

__all__ = [
    "NOTEBOOKS",
    "REFS_ENV",
    "Table",
    "build_report",
    "display_table",
    "execute_notebook",
    "execute_notebooks",
    "headline_table",
    "notebooks_dir",
    "refs_path",
    "render_html",
    "verdict_legend",
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


# --- tables --------------------------------------------------------------------------------------------


#: Columns the notebooks show from each table of the review.
REFERENCE_COLUMNS = ["key", "first_author", "year", "title", "journal", "modality", "design", "population",
                     "participants", "comparator", "finding", "unverified"]
EFFECT_COLUMNS = ["study", "modality", "outcome", "instrument", "window", "comparator", "level", "data_type", "measure",
                  "yi", "yi_ci_low", "yi_ci_high", "pool", "usable", "problem"]
POOLED_COLUMNS = ["modality", "outcome", "comparator_class", "window", "measure", "k", "estimate", "ci_low", "ci_high",
                  "pi_low", "pi_high", "tau2", "i2", "note"]
ROB_COLUMNS = ["study", "rob", "pedro", "category", "source"]
AUDIT_COLUMNS = ["printed_number", "key", "verdict", "best_match", "score", "wrong_fields", "explanation"]
CORRECTION_COLUMNS = ["printed_number", "verdict", "corrections", "sources"]
CLAIM_COLUMNS = ["claim_id", "modality", "outcome", "claimed_direction", "claimed_strength", "citation", "verdict",
                 "reason", "evidence_verdict", "certainty", "basis"]


class Table:
    """A rounded table for display: full (never truncated), without the index, HTML-escaped.

    ``frame`` is the DataFrame. In a notebook it renders as an HTML table
    (:meth:`pandas.DataFrame.to_html` with ``escape=True``); as text it is
    :meth:`~pandas.DataFrame.to_string`. Missing values show as empty cells.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def _cells(self) -> pd.DataFrame:
        frame = self.frame.astype(object)
        return frame.where(self.frame.notna(), "")  # pd.NA in Int64 columns ignores na_rep

    def _repr_html_(self) -> str:
        return self._cells().to_html(index=False, escape=True, border=0, classes="lbp-table")

    def __repr__(self) -> str:
        return self._cells().to_string(index=False)

    def __len__(self) -> int:
        return len(self.frame)


def _flatten(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value))
    return value


def display_table(frame: pd.DataFrame, digits: int = 1, columns: Sequence[str] | None = None) -> Table:
    """The table as a notebook shows it: chosen columns, floats rounded, lists joined with '; '.

    Parameters
    ----------
    frame : DataFrame
    digits : int
        Decimals of every float column (:meth:`pandas.DataFrame.round`).
    columns : list of str, optional
        Columns to keep, in this order (all by default).

    Returns
    -------
    Table
        Shows every row (no truncation), no index, HTML-escaped text. A float column
        whose values are all whole numbers (a count with missing values) shows them as
        integers.

    Examples
    --------
    >>> import pandas as pd
    >>> display_table(pd.DataFrame({"study": ["<b>A</b>"], "yi": [-1.23456], "keys": [["a", "b"]]}), digits=2)
       study    yi keys
    <b>A</b> -1.23 a; b
    >>> display_table(pd.DataFrame({"citation": [3.0, float("nan")]}))
    citation
           3
    <BLANKLINE>
    >>> display_table(pd.DataFrame({"a": [1]}), columns=["b"])
    Traceback (most recent call last):
    ...
    ValueError: The value for `columns` must be one of ['a'], but 'b' was passed.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"The value for `frame` must be a pandas DataFrame, but {type(frame).__name__} was passed.")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"The value for `digits` must be a non-negative integer, but {digits!r} was passed.")
    if columns is not None:
        for column in columns:
            check_choice("columns", column, list(frame.columns))
        frame = frame[list(columns)]
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        if out[column].dtype == object and out[column].map(lambda v: isinstance(v, list | tuple)).any():
            out[column] = out[column].map(_flatten)
        elif pd.api.types.is_float_dtype(out[column]):
            values = out[column].dropna()
            if len(values) and values.map(float.is_integer).all():  # counts with gaps (3.0, NaN) show as 3
                out[column] = out[column].astype("Int64")
    return Table(out.round(digits))


def verdict_legend() -> pd.DataFrame:
    """The verdict vocabulary as a table: ``verdict`` (the word in every table) and ``meaning``.

    Examples
    --------
    >>> verdict_legend().iloc[0].tolist()
    ['important benefit', 'The whole CI lies beyond the minimal important difference, on the side of the treatment.']
    """
    return pd.DataFrame([{"verdict": v.term, "meaning": v.description} for v in VERDICTS.values()])


HEADLINE_COLUMNS = ["modality", "outcome", "population", "comparison", "verdict", "certainty", "rated_by",
                    "effect_0_100", "ci_low_0_100", "ci_high_0_100", "mid", "window", "studies", "participants",
                    "basis"]


def headline_table(review: Any, statements: bool = False, primary_only: bool = False) -> pd.DataFrame:
    """The headline: for each modality and outcome (pain, disability), what the best evidence says, how sure.

    One row per :attr:`Review.headline <lbpevidence.review.Review>` row: the primary answer per
    modality and outcome and, for the core modalities, the answer per comparison
    (``primary_only=True`` keeps the primary answers only). Ordered by outcome (pain, then
    disability), then the primary answer's verdict (vocabulary order: important benefit first)
    and certainty (high first), then the vocabulary's modality order; a modality's primary
    answer comes before its other comparisons.

    Columns: ``modality`` (label), ``outcome``, ``population`` (group), ``comparison``,
    ``verdict``, ``certainty`` and ``rated_by`` (the review's authors, or our GRADE rules),
    ``effect_0_100`` with ``ci_low_0_100`` / ``ci_high_0_100`` (the effect on a 0-100 scale,
    negative favours the modality: a mean difference rescaled to 0-100, or an SMD times a typical
    SD; rounded to 1 decimal), ``mid`` (the minimal important difference on that scale, Hayden
    2021), ``window``, ``studies``, ``participants``, ``basis`` (a published review, our pooled
    analysis, a single trial, study conclusions only) and, with ``statements``, the
    plain-language ``statement``.
    """
    head = review.headline
    if primary_only:
        head = head[head["primary"].astype(bool)]
    rows = []
    for row in head.to_dict("records"):
        measure, outcome = row["measure"], row["outcome"]
        familiar = measure in ("MD100", "SMD")
        rows.append({
            "_modality": row["modality"],
            "modality": MODALITIES[row["modality"]].label if row["modality"] in MODALITIES else row["modality"],
            "outcome": outcome,
            "population": POPULATION_GROUP_LABELS.get(row["population"], row["population"]),
            "comparison": COMPARISON_LABELS.get(row["comparator_class"], row["comparator_class"]),
            "verdict": row["verdict"],
            "certainty": row["certainty"],
            "rated_by": row["rated_by"],
            "effect_0_100": to_0_100(measure, outcome, row["estimate"]),
            "ci_low_0_100": to_0_100(measure, outcome, row["ci_low"]),
            "ci_high_0_100": to_0_100(measure, outcome, row["ci_high"]),
            "mid": mid_for("MD100", outcome) if familiar else float("nan"),
            "window": row["window"],
            "studies": int(row["k"]) if row["k"] else pd.NA,
            "participants": row["participants"],
            "basis": row["basis"],
            "statement": row["statement"],
        })
    table = pd.DataFrame(rows, columns=["_modality", *HEADLINE_COLUMNS, "statement"])
    table["studies"] = table["studies"].astype("Int64")
    table["participants"] = table["participants"].astype("Int64")
    for column in ("effect_0_100", "ci_low_0_100", "ci_high_0_100", "mid"):
        table[column] = table[column].astype(float).round(1)
    modality_rank = {m: i for i, m in enumerate(MODALITIES)}
    verdict_rank = {v: i for i, v in enumerate(VERDICTS)}
    certainty_rank = {c: i for i, c in enumerate(CERTAINTY_LEVELS)}
    primary = {(r["modality"], r["outcome"]): (verdict_rank.get(r["verdict"], 99),
                                               certainty_rank.get(r["certainty"], 9))
               for r in head.to_dict("records") if r.get("primary", True)}
    table["_rank"] = [
        (("pain", "disability").index(o) if o in ("pain", "disability") else 2, *primary.get((m, o), (99, 9)),
         modality_rank.get(m, 99), 0 if is_primary else 1)
        for m, o, is_primary in zip(table["_modality"], table["outcome"],
                                    head["primary"] if "primary" in head.columns else [True] * len(head),
                                    strict=True)]
    table = table.sort_values("_rank", kind="stable")
    if not statements:
        table = table.drop(columns="statement")
    return table.drop(columns=["_modality", "_rank"]).reset_index(drop=True)


# --- executing and rendering ---------------------------------------------------------------------------------

# The lab template without anything fetched from the network: no require.js, MathJax, mermaid
# or widget scripts (the notebooks use none); CSS is inlined by the template itself.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_css -%}
<style type="text/css">
.lbp-nav { font-family: var(--jp-ui-font-family); font-size: 14px; padding: 8px 0 0 8px; }
.jp-RenderedHTMLCommon table.lbp-table td, .jp-RenderedHTMLCommon table.lbp-table th {
  text-align: left; vertical-align: top; }
</style>
{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="lbp-nav"><a href="index.html">&larr; lbpevidence report: all notebooks</a></nav>
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
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            paragraphs = [p.strip() for p in re.split(r"\n\s*\n", cell.source) if p.strip()]
            text = [p for p in paragraphs if not p.startswith("#")]
            if text:
                return re.sub(r"\s+", " ", re.sub(r"[*_`]", "", text[0]))
    return ""


def render_html(nb: Any, title: str) -> str:
    """One executed notebook as a self-contained HTML page (no code cells, no prompts, nothing fetched)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"lbp_offline.html.j2": _OFFLINE_TEMPLATE})],
                            template_file="lbp_offline.html.j2", embed_images=True, exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


_INDEX_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { font-size: 1.6rem; } li { margin: 0.6rem 0; } .small { color: #555; font-size: 0.9rem; }
"""


def _index_html(pages: list[tuple[str, str, str]], facts: str) -> str:
    items = "\n".join(f'<li><a href="{html.escape(file)}">{html.escape(title)}</a><br>'
                      f'<span class="small">{html.escape(summary)}</span></li>' for file, title, summary in pages)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>lbpevidence: the review</title>
<style>{_INDEX_STYLE}</style>
</head>
<body>
<h1>lbpevidence: non-surgical, non-drug care of low back pain, reviewed</h1>
<p>Which treatments does the evidence support, for which outcome, and how sure can we be? Each page below is one of
the review's notebooks, executed on the reference table and rendered as it ran.</p>
<ol>
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
        (out / f"{name}.html").write_text(render_html(nb, title), encoding="utf-8")
        pages.append((f"{name}.html", title, _summary(nb)))
    facts = (f"Built by lbpevidence {__version__} from a reference table of {len(review.references)} publications "
             f"and {len(review.outcomes)} outcome rows.")
    index = out / "index.html"
    index.write_text(_index_html(pages, facts), encoding="utf-8")
    return index

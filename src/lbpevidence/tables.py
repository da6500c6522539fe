"""The tables readers see: the review's tables in words, for the notebooks, the report and ``lbpevidence summary``.

* :func:`display_table` shows any table as readers should see it (a :class:`Table`): the
  chosen columns, values in words (:func:`readable`), headings from
  :func:`~lbpevidence.vocabulary.column_label`, numbers rounded with a real minus sign
  (:func:`~lbpevidence.vocabulary.number_text`), HTML escaped, every row.
* The answer: :func:`headline_table` (also what ``lbpevidence summary`` prints) and
  :func:`answer_table`, one row per treatment, which :class:`AnswerTable` shows on the
  report's first page with links to the details.
* The pages after it: :func:`outcome_rows`, :func:`pooled_table`, :func:`single_trials`,
  :func:`small_study_effects`, :func:`summary_of_findings`, :func:`assessed_trials` and
  :func:`headline_trials`.

The notebooks call these, so that they stay free of logic. matplotlib is imported only where
a table needs a figure's colour (:class:`AnswerTable`) or is a figure (:func:`small_study_effects`),
so ``lbpevidence summary`` does not load it.

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
import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import check_choice
from .evidence import strength_order
from .review import analysis_effects
from .vocabulary import (
    BASIS_LABELS,
    CERTAINTY_LEVELS,
    COMPARISON_LABELS,
    DESIGNS,
    INSTRUMENTS,
    MEASURE_LABELS,
    MODALITIES,
    POPULATION_GROUP_LABELS,
    REBUILT_NOTE,
    VERDICTS,
    WINDOW_LABELS,
    certainty_text,
    column_label,
    finite,
    interval_text,
    is_rebuilt,
    mid_for,
    natural_scale,
    number_text,
    to_0_100,
)

__all__ = [
    "AnswerTable",
    "Note",
    "Table",
    "answer_table",
    "assessed_trials",
    "display_table",
    "headline_table",
    "headline_trials",
    "outcome_rows",
    "pooled_table",
    "readable",
    "single_trials",
    "small_study_effects",
    "study_labels",
    "summary_of_findings",
    "verdict_legend",
]


# --- values in words ---------------------------------------------------------------------------------------


def _words(value: object) -> str:
    """A controlled term as words: 'acute-subacute' -> 'acute subacute'."""
    text = str(value)
    return text.replace("-", " ") if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", text) else text


def _label_of(vocab: dict, value: object) -> object:
    if isinstance(value, list | tuple):
        return "; ".join(str(_label_of(vocab, v)) for v in value)
    return vocab[value].label if isinstance(value, str) and value in vocab else value


def _mapped(mapping: dict, value: object) -> object:
    if isinstance(value, list | tuple):
        return "; ".join(str(_mapped(mapping, v)) for v in value)
    return mapping.get(value, _words(value)) if isinstance(value, str) else value


def _slugs(value: object) -> object:
    if isinstance(value, list | tuple):
        return "; ".join(_words(v) for v in value)
    return _words(value) if isinstance(value, str) else value


#: How the values of known columns are shown: slugs become the vocabulary's words.
_READABLE = {
    "modality": lambda v: _label_of(MODALITIES, v),
    "design": lambda v: _label_of(DESIGNS, v),
    "window": lambda v: _mapped(WINDOW_LABELS, v),
    "comparator_class": lambda v: _mapped(COMPARISON_LABELS, v),
    "basis": lambda v: _mapped(BASIS_LABELS, v),
    "measure": lambda v: _mapped(MEASURE_LABELS, v),
    "instrument": lambda v: _label_of(INSTRUMENTS, v),
    **{c: _slugs for c in ("outcome", "comparator", "finding", "population", "data_type", "level", "severity",
                           "claimed_direction", "claimed_strength", "wrong_fields", "category")},
}


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose values read as words: modality names, follow-up windows, comparisons, yes/no.

    Only known columns change (:data:`_READABLE`); citation keys, titles and numbers stay as
    they are. Headings are changed by :func:`display_table` (:func:`~lbpevidence.vocabulary.column_label`).

    Examples
    --------
    >>> readable(pd.DataFrame({"modality": ["spinal-manipulation"], "window": ["short-term"], "pool": [True]}))
                                modality                       window pool
    0  Spinal manipulation / chiropractic  short term (up to 3 months)  yes
    """
    out = frame.copy()
    for column in out.columns:
        convert = _READABLE.get(column)
        if convert is not None:
            out[column] = out[column].map(lambda v, f=convert: v if v is None or v is pd.NA else f(v))
        elif out[column].dtype == bool:
            out[column] = out[column].map({True: "yes", False: "no"})
    return out


def study_labels(references: pd.DataFrame) -> dict[str, str]:
    """Citation key -> the study as readers cite it, 'Nadler 2003a' / 'Nadler 2003b' when two share author and year.

    Two publications by one first author in one year are two studies (Nadler 2003: the
    continuous and the overnight heat-wrap trials); a table that called both 'Nadler 2003'
    would look like a duplicate. Letters follow the order of the keys.
    """
    base = {key: f"{author} {int(year)}" if finite(year) else str(author)
            for key, author, year in zip(references["key"], references["first_author"], references["year"],
                                         strict=True)}
    groups: dict[str, list[str]] = {}
    for key in sorted(base):
        groups.setdefault(base[key], []).append(key)
    labels = dict(base)
    for label, keys in groups.items():
        if len(keys) > 1:
            for i, key in enumerate(keys):
                labels[key] = f"{label}{'abcdefghijklmnopqrstuvwxyz'[i % 26]}"
    return labels


# --- tables --------------------------------------------------------------------------------------------


#: Columns the notebooks show from each table of the review.
REFERENCE_COLUMNS = ["key", "first_author", "year", "title", "journal", "modality", "design", "population",
                     "participants", "finding", "unverified"]
EFFECT_COLUMNS = ["study", "modality", "outcome", "instrument", "window", "comparator", "data_type", "measure",
                  "effect", "pool", "usable", "problem"]
POOLED_COLUMNS = ["modality", "outcome", "comparator_class", "window", "measure", "k", "estimate", "ci_low", "ci_high",
                  "pi_low", "pi_high", "tau2", "i2", "note"]
ROB_COLUMNS = ["study", "rob", "pedro", "category", "source"]
AUDIT_COLUMNS = ["printed_number", "key", "verdict", "best_match", "score", "wrong_fields", "explanation"]
CORRECTION_COLUMNS = ["printed_number", "verdict", "corrections", "sources"]
CLAIM_COLUMNS = ["claim_id", "modality", "outcome", "claimed_direction", "claimed_strength", "citation", "verdict",
                 "reason", "evidence_verdict", "certainty", "basis"]


def _cell_text(value: object, column: str, digits: int) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}" if column == "participants" else str(int(value))
    if isinstance(value, numbers.Real):
        if float(value).is_integer() and column in _COUNT_COLUMNS:
            return f"{int(value):,}" if column == "participants" else str(int(value))
        return number_text(value, digits)
    return str(value)


def _breakable(text: str) -> str:
    """HTML-escaped text in which a long unbroken URL or key may wrap after '/', '.', '_' or '-' (a ``<wbr>``)."""
    parts = re.split(r"([\w/.:\-?=#%~+]{24,})", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            pieces = [chunk for piece in re.split(r"(?<=[/._\-])", part) for chunk in re.findall(r".{1,12}", piece)]
            out.append("<wbr>".join(html.escape(piece, quote=False) for piece in pieces))
        else:
            out.append(html.escape(part, quote=False))
    return "".join(out)


_COUNT_COLUMNS = ("participants", "k", "studies", "citation", "printed_number", "year", "pedro")


class Table:
    """A table for readers: every row (never truncated), no index, headings in words, HTML-escaped.

    ``frame`` is the DataFrame. In a notebook it renders as an HTML table whose headings are
    :func:`~lbpevidence.vocabulary.column_label` and whose cells are escaped; ``summary``
    folds it into a ``<details>`` element (closed unless ``open``) with that summary line;
    ``row_ids`` gives each row an ``id`` that links can point at. As text it is
    :meth:`~pandas.DataFrame.to_string` with the same headings. Missing values show as empty cells.
    """

    def __init__(self, frame: pd.DataFrame, digits: int = 1, summary: str | None = None, open: bool = False,
                 row_ids: Sequence[str] | None = None, caption: str | None = None) -> None:
        self.frame = frame
        self.digits = digits
        self.summary = summary
        self.open = open
        self.row_ids = list(row_ids) if row_ids is not None else None
        self.caption = caption

    @property
    def labels(self) -> list[str]:
        """The headings a reader sees."""
        return [column_label(str(c)) for c in self.frame.columns]

    def cells(self) -> list[list[str]]:
        """Every cell as the text shown."""
        columns = [str(c) for c in self.frame.columns]
        return [[_cell_text(v, c, self.digits) for v, c in zip(row, columns, strict=True)]
                for row in self.frame.itertuples(index=False, name=None)]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(label, quote=False)}</th>" for label in self.labels)
        ids = self.row_ids or [""] * len(self.frame)
        body = "\n".join(
            f"<tr{f' id={chr(34)}{html.escape(i)}{chr(34)}' if i else ''}>"
            + "".join(f"<td>{_breakable(cell)}</td>" for cell in row) + "</tr>"
            for i, row in zip(ids, self.cells(), strict=True))
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        table = (f'<table class="lbp-table">{caption}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>'
                 "</table>")
        if self.summary is None:
            return table
        return (f'<details class="lbp-details"{" open" if self.open else ""}><summary>{html.escape(self.summary)}'
                f"</summary>\n{table}\n</details>")

    def __repr__(self) -> str:
        shown = pd.DataFrame(self.cells(), columns=self.labels)
        return shown.to_string(index=False) if len(shown.columns) else ""

    def __len__(self) -> int:
        return len(self.frame)


def _flatten(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value))
    return value


def display_table(frame: pd.DataFrame, digits: int = 1, columns: Sequence[str] | None = None, *,
                  summary: str | None = None, open: bool = False, row_ids: Sequence[str] | None = None,
                  words: bool = True) -> Table:
    """The table as a notebook shows it: chosen columns, values in words, numbers rounded, lists joined with '; '.

    Parameters
    ----------
    frame : DataFrame
    digits : int
        Decimals of every float (a value that rounds to 0 keeps the decimals that show its sign).
    columns : list of str, optional
        Columns to keep, in this order (all by default).
    summary : str, optional
        Fold the table into a collapsible ``<details>`` element with this summary line.
    open : bool
        With ``summary``: shown unfolded.
    row_ids : list of str, optional
        An HTML ``id`` per row, for links to a row.
    words : bool
        Show the values of known columns in words (:func:`readable`): modality names, not slugs.

    Returns
    -------
    Table
        Every row (no truncation), no index, headings from
        :func:`~lbpevidence.vocabulary.column_label`, HTML-escaped text. A float column whose
        values are all whole numbers (a count with missing values) shows them as integers.

    Examples
    --------
    >>> import pandas as pd
    >>> display_table(pd.DataFrame({"study": ["<b>A</b>"], "yi": [-1.23456], "keys": [["a", "b"]]}), digits=2)
       Study Effect Keys
    <b>A</b>  −1.23 a; b
    >>> display_table(pd.DataFrame({"citation": [3.0, float("nan")]}))
    Citation
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
    if words:
        out = readable(out)
    for column in out.columns:
        if out[column].dtype == object and out[column].map(lambda v: isinstance(v, list | tuple)).any():
            out[column] = out[column].map(_flatten)
        elif pd.api.types.is_float_dtype(out[column]):
            values = out[column].dropna()
            if len(values) and values.map(float.is_integer).all():  # counts with gaps (3.0, NaN) show as 3
                out[column] = out[column].astype("Int64")
    if row_ids is not None and len(row_ids) != len(out):
        raise ValueError(f"The value for `row_ids` must have one id per row ({len(out)}), but {len(row_ids)} "
                         "were passed.")
    return Table(out, digits=digits, summary=summary, open=open, row_ids=row_ids)


class Note:
    """A sentence a notebook shows as text (markdown in JupyterLab, a paragraph in the report)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        return f'<p class="lbp-note">{html.escape(self.text)}</p>'

    def _repr_markdown_(self) -> str:
        return html.escape(self.text)

    def __repr__(self) -> str:
        return self.text


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
#: The headline as readers see it (:func:`headline_table` with ``words=True``): headings from
#: :data:`~lbpevidence.vocabulary.COLUMN_LABELS`, the effect and its CI in one cell.
HEADLINE_WORDS_COLUMNS = ["modality", "outcome", "population", "comparison", "verdict", "certainty_rated_by",
                          "effect_ci_0_100", "window", "studies", "participants", "basis"]


def _modality_label(term: str) -> str:
    return MODALITIES[term].label if term in MODALITIES else str(term)


def headline_table(review: Any, statements: bool = False, primary_only: bool = False,
                   words: bool = False) -> pd.DataFrame:
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

    ``words=True`` gives the table as readers see it (:data:`HEADLINE_WORDS_COLUMNS`): the
    certainty with who rated it, the effect and its 95% CI in one cell as its source printed it
    (``−7 (−8 to −5)``; an interval rebuilt from a standard error is marked
    :data:`REBUILT_MARK`), the follow-up window and the basis in words.
    """
    head = review.headline
    if primary_only:
        head = head[head["primary"].astype(bool)]
    rows = []
    for row in head.to_dict("records"):
        measure, outcome = row["measure"], row["outcome"]
        familiar = measure in ("MD100", "SMD")
        effect, low, high = (to_0_100(measure, outcome, row[c]) for c in ("estimate", "ci_low", "ci_high"))
        rows.append({
            "_modality": row["modality"],
            "modality": _modality_label(row["modality"]),
            "outcome": outcome,
            "population": POPULATION_GROUP_LABELS.get(row["population"], row["population"]),
            "comparison": COMPARISON_LABELS.get(row["comparator_class"], row["comparator_class"]),
            "verdict": row["verdict"],
            "certainty": row["certainty"],
            "rated_by": row["rated_by"],
            "certainty_rated_by": certainty_text(row["certainty"], row["rated_by"]),
            "effect_0_100": effect,
            "ci_low_0_100": low,
            "ci_high_0_100": high,
            "effect_ci_0_100": interval_text(effect, low, high, rebuilt=is_rebuilt(row)),
            "mid": mid_for("MD100", outcome) if familiar else float("nan"),
            "window": row["window"],
            "studies": int(row["k"]) if row["k"] else pd.NA,
            "participants": row["participants"],
            "basis": row["basis"],
            "statement": row["statement"],
        })
    table = pd.DataFrame(rows, columns=["_modality", *HEADLINE_COLUMNS, "certainty_rated_by", "effect_ci_0_100",
                                        "statement"])
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
    columns = list(HEADLINE_WORDS_COLUMNS if words else HEADLINE_COLUMNS) + (["statement"] if statements else [])
    table = table.reset_index(drop=True)
    if words:
        table["window"] = table["window"].map(lambda w: WINDOW_LABELS.get(w, _words(w)))
        table["basis"] = table["basis"].map(lambda b: BASIS_LABELS.get(b, b))
    return table[columns]


# --- the answer: one row per treatment ----------------------------------------------------------------------

_ANSWER_OUTCOMES = ("pain", "disability")


ANSWER_COLUMNS = ["modality", "term", "tier", "certainty", *[
    f"{o}_{c}" for o in _ANSWER_OUTCOMES for c in ("verdict", "0_100", "certainty", "comparison", "population",
                                                   "studies", "participants", "basis", "statement", "key")]]


def answer_table(review: Any) -> pd.DataFrame:
    """The review's answer, one row per treatment, strongest evidence first (:func:`strength_order`).

    For each treatment, its primary answer (``review.headline``, ``primary``) for pain and for
    disability: ``<outcome>_verdict``, ``<outcome>_0_100`` (the effect on 0-100 with its 95% CI,
    as printed by its source; negative = less pain or disability), ``<outcome>_certainty`` (with
    who rated it), ``<outcome>_comparison``, ``<outcome>_population``, ``<outcome>_studies``,
    ``<outcome>_participants``, ``<outcome>_basis``, ``<outcome>_statement`` and
    ``<outcome>_key`` (the id of its summary-of-findings row on page 04). ``tier`` and
    ``certainty`` are the sort keys; ``term`` the modality's vocabulary term.

    Examples
    --------
    >>> import lbpevidence as lbp
    >>> table = answer_table(lbp.load_review())
    >>> table.loc[0, ["modality", "disability_verdict", "disability_0_100"]].tolist()
    ['Exercise therapy', 'benefit below MID', '−7 (−8 to −5)']
    """
    head = review.headline
    primary = head[head["primary"].astype(bool)]
    rows = []
    for modality in strength_order(head):
        mine = primary[primary["modality"] == modality]
        best = int(mine["tier"].min())
        certainty_rank = {c: i for i, c in enumerate(CERTAINTY_LEVELS)}
        certainty = min(mine.loc[mine["tier"] == best, "certainty"], key=lambda c: certainty_rank.get(c, 9))
        row: dict[str, Any] = {"modality": _modality_label(modality), "term": modality, "tier": best,
                               "certainty": certainty}
        for outcome in _ANSWER_OUTCOMES:
            found = mine[mine["outcome"] == outcome].to_dict("records")
            if not found:
                row.update({f"{outcome}_{c}": "" for c in ("verdict", "0_100", "certainty", "comparison",
                                                            "population", "basis", "statement", "key")})
                row.update({f"{outcome}_studies": pd.NA, f"{outcome}_participants": pd.NA})
                continue
            answer = found[0]
            row.update({
                f"{outcome}_verdict": answer["verdict"],
                f"{outcome}_0_100": interval_text(answer["estimate_0_100"], answer["ci_low_0_100"],
                                                  answer["ci_high_0_100"], rebuilt=is_rebuilt(answer)),
                f"{outcome}_certainty": certainty_text(answer["certainty"], answer["rated_by"]),
                f"{outcome}_comparison": COMPARISON_LABELS.get(answer["comparator_class"], answer["comparator_class"]),
                f"{outcome}_population": POPULATION_GROUP_LABELS.get(answer["population"], answer["population"]),
                f"{outcome}_studies": int(answer["k"]) if finite(answer["k"]) and answer["k"] else pd.NA,
                f"{outcome}_participants": int(answer["participants"]) if finite(answer["participants"]) else pd.NA,
                f"{outcome}_basis": BASIS_LABELS.get(answer["basis"], answer["basis"]),
                f"{outcome}_statement": answer["statement"],
                f"{outcome}_key": answer_id(answer),
            })
        rows.append(row)
    return pd.DataFrame(rows, columns=ANSWER_COLUMNS)


def answer_id(row: dict | pd.Series) -> str:
    """The HTML id of an answer's summary-of-findings row on page 04.

    ``sof-<modality>-<outcome>-<population>-<comparison>``, from the answer's terms.

    >>> answer_id({"modality": "exercise", "outcome": "pain", "population": "chronic", "comparator_class": "mixed"})
    'sof-exercise-pain-chronic-mixed'
    """
    return "sof-" + "-".join(str(row[c]) for c in ("modality", "outcome", "population", "comparator_class"))


def forest_id(modality: str) -> str:
    """The HTML id of a treatment's forest plots on page 03.

    >>> forest_id("spinal-manipulation")
    'forest-spinal-manipulation'
    """
    return f"forest-{modality}"


def _evidence_text(row: dict, outcome: str) -> str:
    studies, participants = row[f"{outcome}_studies"], row[f"{outcome}_participants"]
    amount = []
    if finite(studies):
        amount.append(f"{int(studies)} stud{'y' if int(studies) == 1 else 'ies'}")
    if finite(participants):
        amount.append(f"{int(participants):,} participants")
    basis = row[f"{outcome}_basis"]
    return basis + (f", {', '.join(amount)}" if amount else "")


class AnswerTable:
    """:func:`answer_table` as readers see it: one row per treatment, a cell per outcome, links to the details.

    Each outcome cell says the verdict, the effect on 0-100 with its 95% CI, the certainty and
    who rated it, and what it rests on: the comparison, the population, the evidence. ``links``
    adds links to the treatment's forest plots (page 03) and summary-of-findings rows (page 04).
    """

    def __init__(self, review: Any, links: bool = True) -> None:
        self.frame = answer_table(review)
        self.links = links
        pooled = review.pooled
        self.forests = set(pooled.loc[pooled["k"] >= 2, "modality"])
        self.single = set(pooled.loc[pooled["k"] == 1, "modality"])

    def _cell(self, row: dict, outcome: str) -> str:
        verdict = row[f"{outcome}_verdict"]
        if not verdict:
            return '<td class="lbp-answer">no evidence in the table</td>'
        effect = row[f"{outcome}_0_100"]
        effect_html = (f'<span class="lbp-effect">{html.escape(effect)}</span>' if effect
                       else '<span class="lbp-effect lbp-none">no estimate</span>')
        context = (f"vs {row[f'{outcome}_comparison']}; {row[f'{outcome}_population']} pain; "
                   f"{_evidence_text(row, outcome)}")
        if row[f"{outcome}_population"] == "any duration":
            context = _evidence_text(row, outcome)
        from .plots import ANSWER_COLOURS  # the map's colours: the table and the figure agree

        colour = ANSWER_COLOURS.get(verdict, "#bababa")
        return (f'<td class="lbp-answer" data-verdict="{html.escape(verdict)}" style="border-left-color: {colour}">'
                f'<span class="lbp-verdict">{html.escape(verdict)}</span> {effect_html}'
                f'<span class="lbp-certainty">certainty: {html.escape(row[f"{outcome}_certainty"])}</span>'
                f'<span class="lbp-context">{html.escape(context)}</span></td>')

    def _links(self, row: dict) -> str:
        term = row["term"]
        parts = []
        if term in self.forests:
            parts.append(f'<a href="03-meta-analysis.html#{html.escape(forest_id(term))}">forest plot</a>')
        if term in self.single:
            parts.append('<a href="03-meta-analysis.html#single-trials">single trials</a>')
        for outcome in _ANSWER_OUTCOMES:
            key = row[f"{outcome}_key"]
            if key:
                parts.append(f'<a href="04-certainty.html#{html.escape(key)}">{outcome}: summary of findings</a>')
        return "<td class=\"lbp-links\">" + "<br>".join(parts) + "</td>"

    def _repr_html_(self) -> str:
        heads = ["modality", *(f"{o}_0_100" for o in _ANSWER_OUTCOMES)] + (["links"] if self.links else [])
        head = "".join(f"<th>{html.escape(column_label(c))}</th>" for c in heads)
        body = []
        for row in self.frame.to_dict("records"):
            cells = [f'<th scope="row">{html.escape(row["modality"])}</th>',
                     *(self._cell(row, o) for o in _ANSWER_OUTCOMES)]
            if self.links:
                cells.append(self._links(row))
            body.append(f'<tr id="answer-{html.escape(row["term"])}">' + "".join(cells) + "</tr>")
        note = ("Effects are differences from the comparison on a 0–100 scale with their 95% CI, as printed by their "
                "source; negative = less pain or disability with the treatment. The minimal important difference "
                "is 15 points for pain and 10 for disability (Hayden 2021). " + REBUILT_NOTE + ".")
        return (f'<table class="lbp-table lbp-answers"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(body)
                + f'\n</tbody></table>\n<p class="lbp-note">{html.escape(note)}</p>')

    def __repr__(self) -> str:
        columns = ["modality", "pain_verdict", "pain_0_100", "disability_verdict", "disability_0_100"]
        return self.frame[columns].to_string(index=False)

    def __len__(self) -> int:
        return len(self.frame)


# --- the review's other tables, as readers see them ---------------------------------------------------------


def outcome_rows(review: Any) -> pd.DataFrame:
    """Every outcome row with the effect the review computed from it, for reading: :data:`EFFECT_COLUMNS`.

    ``effect`` is the effect and its 95% CI on the row's measure (negative favours the
    treatment); the other columns are those of :attr:`Review.effects <lbpevidence.review.Review>`,
    with ``study`` labelled by :func:`study_labels`.
    """
    effects = review.effects
    labels = study_labels(review.references)
    out = effects.assign(
        study=effects["key"].map(labels).fillna(effects["study"]),
        effect=[interval_text(y, lo, hi, digits=_digits(m)) for y, lo, hi, m in
                zip(effects["yi"], effects["yi_ci_low"], effects["yi_ci_high"], effects["measure"], strict=True)])
    return out[EFFECT_COLUMNS].reset_index(drop=True)


def pooled_table(review: Any, min_k: int = 2) -> pd.DataFrame:
    """Our meta-analyses of ``min_k`` or more trials, one row per analysis, in words.

    Columns: ``modality``, ``outcome``, ``population`` (group), ``comparator_class``, ``window``, ``measure``, ``k``,
    ``estimate_ci`` (pooled effect and 95% CI on the analysis scale), ``prediction_interval``
    and ``i2``. Analyses of a single trial are :func:`single_trials`.
    """
    pooled = review.pooled
    rows = pooled[pooled["k"] >= min_k]
    out = pd.DataFrame({
        "modality": rows["modality"], "outcome": rows["outcome"],
        "population": rows["population_group"].map(lambda g: POPULATION_GROUP_LABELS.get(g, g)),
        "comparator_class": rows["comparator_class"],
        "window": rows["window"], "measure": rows["measure"], "k": rows["k"].astype(int),
        "estimate_ci": [interval_text(e, lo, hi, digits=_digits(m)) for e, lo, hi, m in
                        zip(rows["estimate"], rows["ci_low"], rows["ci_high"], rows["measure"], strict=True)],
        "prediction_interval": [f"{number_text(lo, _digits(m))} to {number_text(hi, _digits(m))}" if finite(lo)
                                else "" for lo, hi, m in zip(rows["pi_low"], rows["pi_high"], rows["measure"],
                                                             strict=True)],
        "i2": rows["i2"].round(0),
    })
    return out.reset_index(drop=True)


def _digits(measure: str) -> int:
    return 1 if measure in ("MD100", "MD") else 2


def single_trials(review: Any) -> pd.DataFrame:
    """Analyses that rest on one trial: not pooled, so no forest plot; one row each, with the trial's effect.

    Columns: ``modality``, ``outcome``, ``population`` (group), ``comparator_class``, ``window``,
    ``measure``, ``study`` and ``effect`` (the trial's effect and 95% CI on the analysis scale).
    """
    pooled = review.pooled
    labels = study_labels(review.references)
    rows = []
    for row in pooled[pooled["k"] == 1].to_dict("records"):
        trial, _ = analysis_effects(review, row["modality"], row["outcome"], row["comparator_class"], row["window"],
                                    row["measure"], row["population_group"])
        for effect in trial.to_dict("records"):
            rows.append({"modality": row["modality"], "outcome": row["outcome"],
                         "population": POPULATION_GROUP_LABELS.get(row["population_group"], row["population_group"]),
                         "comparator_class": row["comparator_class"], "window": row["window"],
                         "measure": row["measure"], "study": labels.get(effect["key"], effect.get("study", "")),
                         "effect": interval_text(effect["yi"], effect["yi_ci_low"], effect["yi_ci_high"],
                                                 digits=_digits(row["measure"]))})
    return pd.DataFrame(rows, columns=["modality", "outcome", "population", "comparator_class", "window", "measure",
                                       "study", "effect"])


def small_study_effects(review: Any, min_k: int = 10) -> Any:
    """Funnel plots where they mean something: a figure for each analysis of ``min_k`` or more trials, else a note.

    Egger's test and a funnel plot need at least 10 trials (Cochrane Handbook 13.3.5.4); with
    fewer, a funnel plot shows nothing that can be read.
    """
    from .plots import funnel_plot

    pooled = review.pooled
    large = pooled[pooled["k"] >= min_k]
    if not len(large):
        biggest = int(pooled["k"].max()) if len(pooled) else 0
        return Note(f"No funnel plot: no analysis pools {min_k} or more trials (the largest pools {biggest}), and "
                    f"with fewer a funnel plot or Egger's test cannot show small-study effects.")
    row = large.sort_values("k", ascending=False, kind="stable").iloc[0]
    rows, result = analysis_effects(review, row["modality"], row["outcome"], row["comparator_class"], row["window"],
                                    row["measure"], row["population_group"])
    return funnel_plot(rows, result).figure


def summary_of_findings(review: Any, modality: str) -> Table:
    """The summary of findings of one treatment as readers see it: one row per question, the details folded.

    The rows are :meth:`Review.summary_of_findings <lbpevidence.review.Review.summary_of_findings>`
    (the answers of :mod:`lbpevidence.evidence`); each row has the id :func:`answer_id`, which
    the index page links to. The reasons for the certainty and the plain-language statement
    follow the table, folded (``<details>``).
    """
    check_choice("modality", modality, list(MODALITIES))
    sof = review.summary_of_findings(modality)
    answers = review.answers[review.answers["modality"] == modality].to_dict("records")
    shown = pd.DataFrame({
        "outcome": sof["outcome"], "population": sof["population"], "comparison": sof["comparison"],
        "window": sof["window"], "studies": sof["studies"].replace(0, pd.NA).astype("Int64"),
        "participants": sof["participants"].astype("Int64"),
        "effect": [_effect_words(a) for a in answers],
        "certainty_rated_by": [certainty_text(c, r) for c, r in zip(sof["certainty"], sof["rated_by"], strict=True)],
        "verdict": sof["verdict"],
    })
    table = display_table(shown, row_ids=[answer_id(a) for a in answers])
    return SummaryOfFindings(table, sof)


def _effect_words(row: dict) -> str:
    """The effect in words: on 0-100 where it has a 0-100 form, with the scale it was analysed on.

    '−4 (−6 to −2) points on 0–100'; an SMD as '−3.5 (−7.1 to 0.0) on 0–100 (SMD −0.2 (−0.4 to 0.0))';
    a ratio or a risk difference on its natural scale (:func:`lbpevidence.vocabulary.natural_scale`:
    for a good event, such as responding, RR above 1 and RD above 0 favour the treatment).
    """
    measure = row["measure"]
    if not finite(row["estimate"]):
        return ""
    rebuilt = is_rebuilt(row)
    if measure in ("RR", "OR", "RD"):
        est, low, high = natural_scale(measure, row["outcome"], row["estimate"], row["ci_low"], row["ci_high"])
        return f"{measure} {interval_text(est, low, high, digits=2, rebuilt=rebuilt)}"
    text = interval_text(row["estimate"], row["ci_low"], row["ci_high"], digits=_digits(measure), rebuilt=rebuilt)
    if measure == "MD100":
        return f"{text} points on 0–100"
    if measure == "SMD" and finite(row.get("estimate_0_100")):
        familiar = interval_text(row["estimate_0_100"], row["ci_low_0_100"], row["ci_high_0_100"])
        return f"{familiar} on 0–100 (SMD {text})"
    return f"{MEASURE_LABELS.get(measure, measure)} {text}"


class SummaryOfFindings:
    """A summary-of-findings table and, folded below it, why each row has its certainty, in words."""

    def __init__(self, table: Table, sof: pd.DataFrame) -> None:
        self.table = table
        self.sof = sof

    def _repr_html_(self) -> str:
        items = []
        for row in self.sof.to_dict("records"):
            what = f"{row['outcome']}, {row['population']}, vs {row['comparison']}"
            items.append(f"<li><b>{html.escape(what)}</b>: {html.escape(str(row['statement']))} "
                         f"<i>Why this certainty:</i> {html.escape(str(row['reasons']))}</li>")
        details = (f'<details class="lbp-details"><summary>In plain words, and why this certainty '
                   f"({len(items)} row{'' if len(items) == 1 else 's'})</summary><ul>{''.join(items)}</ul></details>")
        return self.table._repr_html_() + "\n" + details

    def __repr__(self) -> str:
        return repr(self.table)

    def __len__(self) -> int:
        return len(self.table)


def assessed_trials(review: Any) -> tuple[pd.DataFrame, Note]:
    """Every trial of the table whose risk of bias was assessed, and a note counting those that were not.

    Returns ``(table, note)``: :attr:`Review.rob <lbpevidence.review.Review>` rows with a
    category other than ``not assessed`` (``study`` labelled by :func:`study_labels`), and a
    :class:`Note` saying how many of the table's trials have no assessment (counted as
    unclear by the grading).
    """
    rob = review.rob
    labels = study_labels(review.references)
    assessed = rob[rob["category"] != "not assessed"].assign(study=lambda t: t["key"].map(labels).fillna(t["study"]))
    missing = len(rob) - len(assessed)
    note = Note(f"{len(assessed)} of the {len(rob)} randomised trials in the table have a risk-of-bias judgement or "
                f"a PEDro score; the other {missing} were not assessed and count as unclear risk in the grading.")
    return assessed.reset_index(drop=True), note


def headline_trials(review: Any, assessed_only: bool = False) -> pd.DataFrame:
    """The trials behind the headline and their risk of bias: one row per trial and treatment.

    The trials are those a headline row rests on (its ``evidence``), as
    :func:`~lbpevidence.grading.risk_of_bias_table` gives them (randomised trials, each once);
    ``modality`` is the treatment whose headline row uses the trial, ``study`` its label
    (:func:`study_labels`). Columns: ``modality``, ``key``, ``study``, ``category`` (low, some
    concerns, high, not assessed), ``judged_from`` (what the category rests on), ``source``.
    ``assessed_only`` leaves out the trials no one assessed.
    """
    from .grading import risk_of_bias_table

    head = review.headline
    uses: dict[str, list[str]] = {}
    for modality, evidence in zip(head["modality"], head["evidence"], strict=True):
        for key in evidence if isinstance(evidence, list | tuple) else []:
            if modality not in uses.setdefault(key, []):
                uses[key].append(modality)
    table = risk_of_bias_table(review.references, keys=sorted(uses))
    labels = study_labels(review.references)
    order = {m: i for i, m in enumerate(MODALITIES)}
    rows = [{"modality": modality, "key": row["key"], "study": labels.get(row["key"], row["study"]),
             "category": row["category"], "judged_from": row["basis"], "source": row["source"]}
            for row in table.to_dict("records") for modality in uses[row["key"]]]
    out = pd.DataFrame(rows, columns=["modality", "key", "study", "category", "judged_from", "source"])
    if assessed_only:
        out = out[out["category"] != "not assessed"]
    return out.sort_values(["modality", "study"], key=lambda s: s.map(order) if s.name == "modality" else s,
                           kind="stable").reset_index(drop=True)

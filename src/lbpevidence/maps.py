"""Figures of the answer: the answer map, the evidence map and the headline figure.

Each draws the review's answers (:attr:`Review.headline <lbpevidence.review.Review>`, the
primary answer per treatment and outcome chosen by :mod:`lbpevidence.evidence`) for pain and
disability, one row per treatment: :func:`answer_map` (the report's first page: colour =
verdict, dots = certainty, the effect on 0-100 in words), :func:`evidence_map` (how much
evidence there is, whether it was pooled, how sure it is) and :func:`headline_figure` (the
effects on 0-100 against the minimal important differences). The per-analysis and per-trial
figures (forest, funnel, risk of bias, citation audit) are :mod:`lbpevidence.plots`, whose
colours and axes these share, and whose conventions they follow: axes-level functions draw
on ``ax`` when given and return it, bad arguments fail at once, artists carry a ``gid``.

Examples
--------
The rows of the answer map are the treatments in the order of the strength of their evidence:

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from lbpevidence.review import load_review
>>> head = load_review().headline
>>> rows = [t.get_text() for t in answer_map(head).get_yticklabels()]
>>> rows == [MODALITIES[m].label for m in strength_order(head)]
True
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from .errors import check_choice
from .evidence import strength_order
from .plots import (
    ANSWER_COLOURS,
    CERTAINTY_COLOURS,
    DIRECTION,
    check_frame,
    literal,
    modality_label,
    new_axes,
)
from .vocabulary import (
    CERTAINTY_LEVELS,
    COLUMN_LABELS,
    COMPARISON_LABELS,
    MODALITIES,
    OUTCOME_MIDS,
    OUTCOMES,
    POPULATION_GROUP_LABELS,
    VERDICTS,
    finite,
    interval_text,
    is_rebuilt,
    to_0_100,
)

__all__ = [
    "BASIS_MARKERS",
    "CERTAINTY_DOTS",
    "MAP_STYLES",
    "answer_map",
    "evidence_map",
    "headline_figure",
]

#: GRADE certainty -> filled dots of four (GRADE's ⊕⊕⊕◯ notation).
CERTAINTY_DOTS = {"high": 4, "moderate": 3, "low": 2, "very low": 1}
#: Basis of a headline row -> marker.
BASIS_MARKERS = {"pooled": "o", "published review": "D", "single trial": "s", "study-level only, not pooled": "x",
                 "non-comparative": "v"}
#: Evidence-map cell kinds -> (marker, filled, legend label).
MAP_STYLES = {
    "pooled": ("o", True, "pooled (our meta-analysis or a published review)"),
    "not pooled": ("s", False, "trials but not pooled (single trial or study conclusions only)"),
    "no trials": ("x", True, "no trials in the table"),
}


def _certainty(value: object) -> str:
    return value if isinstance(value, str) and value in CERTAINTY_COLOURS else "not rated"


# --- evidence map ---------------------------------------------------------------------------------------

MAP_SIZES = ("studies", "participants")


def _map_kind(row: pd.Series | None) -> str:
    if row is None:
        return "no trials"
    if row["basis"] in ("pooled", "published review"):
        return "pooled"
    if row["basis"] == "single trial":
        return "not pooled"
    evidence = row.get("evidence")
    has = isinstance(evidence, list | tuple | np.ndarray) and len(evidence) > 0
    return "not pooled" if has else "no trials"


def _map_value(row: pd.Series | None, size: str) -> float:
    if row is None:
        return float("nan")
    if size == "participants":
        value = row.get("participants")
        return float(value) if finite(value) else float("nan")
    k = row.get("k")
    if finite(k) and int(k) > 0:
        return float(k)
    evidence = row.get("evidence")
    return float(len(evidence)) if isinstance(evidence, list | tuple | np.ndarray) and len(evidence) else float("nan")


def evidence_map(verdicts: pd.DataFrame, ax: Axes | None = None, size: str = "studies") -> Axes:
    """Modality x outcome grid: how much evidence there is, whether it was pooled, and how sure it is.

    Parameters
    ----------
    verdicts : DataFrame
        :attr:`Review.headline <lbpevidence.review.Review>` (its primary rows are shown), or
        :attr:`Review.verdicts` / :attr:`Review.answers`, from which the primary answer per
        modality x outcome is chosen by :mod:`lbpevidence.evidence`.
    ax : Axes, optional
    size : {"studies", "participants"}
        Marker area: number of studies (``k``, or the studies named for study-level rows)
        or participants. Cells whose size is unknown get the smallest marker.

    Returns
    -------
    Axes
        One row per modality (every modality the article names, plus any other in the
        table), one column per outcome present. Filled circles are pooled evidence (our
        meta-analysis or a published review), open squares trials that were not pooled
        (a single trial, or only the studies' conclusions), grey crosses no trials.
        Colour is certainty (:data:`~lbpevidence.plots.CERTAINTY_COLOURS`).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import lbpevidence as lbp
    >>> ax = evidence_map(lbp.load_review().headline)
    >>> sorted(c.get_gid() for c in ax.collections)
    ['no trials', 'not pooled', 'pooled']
    >>> evidence_map(lbp.load_review().headline, size="trials")
    Traceback (most recent call last):
    ...
    ValueError: The value for `size` must be one of ['studies', 'participants'], but 'trials' was passed.
    """
    from .evidence import answers, headline

    check_choice("size", size, MAP_SIZES)
    table = check_frame("verdicts", verdicts, ["modality", "outcome", "comparator_class", "window", "k",
                                                "certainty", "basis"])
    outcomes = [o for o in OUTCOMES if o in set(table["outcome"])] or ["pain", "disability"]
    if "primary" in table.columns:
        best = table[table["primary"].astype(bool)]
    else:  # the primary answers only: the headline's other comparisons would overwrite them cell by cell
        best = headline(table if "tier" in table.columns else answers(table), outcomes=outcomes) if len(table) \
            else table.assign(primary=[])
        best = best[best["primary"].astype(bool)]
    cells = {(r["modality"], r["outcome"]): r for _, r in best.iterrows()}
    present = set(table["modality"])
    modalities = [m for m, spec in MODALITIES.items() if spec.in_article or m in present]
    modalities += sorted(m for m in present if m not in MODALITIES)
    ax = new_axes(ax, (2.2 + 1.3 * len(outcomes) + 4.2, 0.9 + 0.36 * len(modalities)))

    values = [_map_value(cells.get((m, o)), size) for m in modalities for o in outcomes]
    finite = [v for v in values if np.isfinite(v)]
    vmax = max(finite) if finite else 1.0

    def area(value: float) -> float:
        return 40.0 + 460.0 * math.sqrt(value / vmax) if np.isfinite(value) else 40.0

    points: dict[str, list[tuple[float, float, float, str]]] = {kind: [] for kind in MAP_STYLES}
    for i, modality in enumerate(modalities):
        for j, outcome in enumerate(outcomes):
            row = cells.get((modality, outcome))
            kind = _map_kind(row)
            value = _map_value(row, size)
            colour = CERTAINTY_COLOURS[_certainty(row["certainty"]) if row is not None else "not rated"]
            points[kind].append((j, -i, area(value) if kind != "no trials" else 40.0, colour))
    for kind, (marker, filled, label) in MAP_STYLES.items():
        pts = points[kind]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        sizes, colours = [p[2] for p in pts], [p[3] for p in pts]
        if kind == "no trials":
            ax.scatter(xs, ys, s=sizes, marker=marker, color="#9e9e9e", linewidths=1.2, gid=kind, label=label)
        elif filled:
            ax.scatter(xs, ys, s=sizes, marker=marker, c=colours, edgecolors="#333333", linewidths=0.6, gid=kind,
                       label=label, zorder=3)
        else:
            ax.scatter(xs, ys, s=sizes, marker=marker, facecolors="none", edgecolors=colours, linewidths=2.0,
                       gid=kind, label=label, zorder=3)
    ax.set_xticks(range(len(outcomes)), [o.replace("-", " ").capitalize() for o in outcomes], fontsize=9)
    ax.xaxis.tick_top()
    ax.set_yticks([-i for i in range(len(modalities))], [modality_label(m) for m in modalities], fontsize=9)
    ax.set_xlim(-0.6, len(outcomes) - 0.4)
    ax.set_ylim(-len(modalities) + 0.4, 0.6)
    ax.grid(True, color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.tick_params(length=0)

    style_handles = [Line2D([], [], linestyle="none", marker=m, markersize=9, markeredgewidth=1.5, label=lab,
                            markerfacecolor="#777777" if f else "none", markeredgecolor="#777777" if f else "#333333")
                     for m, f, lab in MAP_STYLES.values()]
    colour_handles = [Patch(facecolor=CERTAINTY_COLOURS[name], edgecolor="#333333", label=f"certainty: {name}")
                      for name in CERTAINTY_LEVELS]  # every answer is rated: "not rated" is never drawn
    unit = "studies" if size == "studies" else "participants"
    examples = sorted({max(1, round(vmax / 10)), max(1, round(vmax / 2)), max(1, round(vmax))})
    size_handles = [Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", markeredgecolor="#333333",
                           markersize=math.sqrt(area(v)), label=f"{v:g} {unit}") for v in examples]
    ax.legend(handles=[*style_handles, *colour_handles, *size_handles], loc="upper left", bbox_to_anchor=(1.02, 1.0),
              fontsize=8, frameon=False, labelspacing=1.0, borderaxespad=0.0)
    ax.set_title(f"Evidence map: marker size = {unit}, colour = certainty", fontsize=10, loc="left", pad=24)
    return ax


# --- the answer map ---------------------------------------------------------------------------------------


def answer_map(headline: pd.DataFrame, ax: Axes | None = None, *,
               outcomes: Sequence[str] = ("pain", "disability")) -> Axes:
    """The review's answer in one figure: treatment x outcome, colour = verdict, dots = certainty.

    Parameters
    ----------
    headline : DataFrame
        :attr:`Review.headline <lbpevidence.review.Review>`; its primary answers are drawn.
    ax : Axes, optional
    outcomes : list of str
        One column per outcome.

    Returns
    -------
    Axes
        One row per treatment, strongest evidence first (:func:`lbpevidence.evidence.strength_order`,
        the order of the index page's table). Each cell holds four dots, as many of them filled
        as the GRADE certainty has levels (:data:`CERTAINTY_DOTS`: four for high, one for very
        low), all coloured by the verdict (:data:`~lbpevidence.plots.ANSWER_COLOURS`); beside them the effect on
        0-100 with its 95% CI (as printed by its source) and the verdict, and below, in grey,
        the comparison and the population. Cells with no estimate say so.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lbpevidence.review import load_review
    >>> ax = answer_map(load_review().headline)
    >>> [t.get_text() for t in ax.get_yticklabels()][:2]
    ['Exercise therapy', 'Spinal manipulation / chiropractic']
    >>> answer_map(load_review().headline, outcomes=["pain", "mood"])
    Traceback (most recent call last):
    ...
    ValueError: The value for `outcomes` must be one of ['pain', 'disability', 'responder', 'recurrence', \
'global-improvement', 'quality-of-life', 'adverse-events', 'medication-use'], but 'mood' was passed.
    """
    for outcome in outcomes:
        check_choice("outcomes", outcome, list(OUTCOMES))
    table = check_frame("headline", headline, ["modality", "outcome", "verdict", "certainty", "tier",
                                                "estimate_0_100", "ci_low_0_100", "ci_high_0_100",
                                                "comparator_class", "population"])
    primary = table[table["primary"].astype(bool)] if "primary" in table.columns else table
    order = strength_order(primary) if len(primary) else []
    cells = {(r["modality"], r["outcome"]): r for r in primary.to_dict("records")}
    n, m = len(order), len(outcomes)
    width, height = 2.6 + 4.8 * m, 2.2 + 0.46 * max(n, 1)
    created = ax is None
    ax = new_axes(ax, (width, height))
    if created:  # room for the treatment names (left), the headings (top) and the legend (bottom)
        ax.figure.subplots_adjust(left=2.45 / width, right=1 - 0.05 / width, top=1 - 0.75 / height,
                                  bottom=1.25 / height)
    filled: dict[str, list] = {"x": [], "y": [], "c": []}
    empty: dict[str, list] = {"x": [], "y": []}
    for i, modality in enumerate(order):
        y = -i
        for j, outcome in enumerate(outcomes):
            row = cells.get((modality, outcome))
            if row is None:
                ax.text(j + 0.03, y, "no evidence in the table", va="center", fontsize=7.5, color="#777777",
                        style="italic", gid="answer-none")
                continue
            colour = ANSWER_COLOURS.get(row["verdict"], "#bababa")
            level = CERTAINTY_DOTS.get(row["certainty"], 0)
            for d in range(4):
                x = j + 0.03 + 0.032 * d
                if d < level:
                    filled["x"].append(x)
                    filled["y"].append(y)
                    filled["c"].append(colour)
                else:
                    empty["x"].append(x)
                    empty["y"].append(y)
            effect = interval_text(row["estimate_0_100"], row["ci_low_0_100"], row["ci_high_0_100"],
                                   rebuilt=is_rebuilt(row))
            line = f"{effect}  {row['verdict']}" if effect else f"no estimate: {row['verdict']}"
            ax.text(j + 0.16, y + 0.16, literal(line), va="center", fontsize=8.5, color="#222222",
                    gid="answer-effect")
            context = f"{row['certainty']} certainty"
            if row["comparator_class"] not in ("any", "none"):
                context += f"; vs {COMPARISON_LABELS.get(row['comparator_class'], row['comparator_class'])}"
            if row["population"] not in ("any", ""):
                context += f"; {POPULATION_GROUP_LABELS.get(row['population'], row['population'])}"
            ax.text(j + 0.16, y - 0.01, literal("\n".join(textwrap.wrap(context, 78))), va="top", fontsize=7,
                    color="#555555", linespacing=1.15, gid="answer-context")
    ax.scatter(filled["x"], filled["y"], s=42, c=filled["c"] or None, edgecolors="#333333", linewidths=0.6,
               zorder=3, gid="certainty-filled")
    ax.scatter(empty["x"], empty["y"], s=42, facecolors="white", edgecolors="#999999", linewidths=0.6, zorder=3,
               gid="certainty-empty")
    for i in range(1, n):
        ax.axhline(-i + 0.5, color="#e5e5e5", linewidth=0.6, zorder=0)
    for j in range(1, m):
        ax.axvline(j - 0.02, color="#cccccc", linewidth=0.8, zorder=0)
    ax.set_xlim(0, m)
    ax.set_ylim(-max(n, 1) + 0.45, 0.6)
    ax.set_xticks([j + 0.03 for j in range(m)],
                  [COLUMN_LABELS.get(f"{o}_0_100", f"{o}, 0–100") + " (95% CI)" for o in outcomes],
                  fontsize=10, ha="left", fontweight="bold")
    ax.xaxis.tick_top()
    ax.set_yticks([-i for i in range(n)], [modality_label(t) for t in order], fontsize=9.5)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    present = [v for v in VERDICTS if v in set(primary["verdict"])]
    verdict_handles = [Patch(facecolor=ANSWER_COLOURS.get(v, "#bababa"), edgecolor="#333333", label=v)
                       for v in present]
    certainty_handles = [tuple(Line2D([], [], linestyle="none", marker="o", markersize=6.5,
                                      markerfacecolor="#777777" if d < dots else "white",
                                      markeredgecolor="#333333" if d < dots else "#999999", markeredgewidth=0.6)
                               for d in range(4)) for dots in CERTAINTY_DOTS.values()]
    from matplotlib.legend_handler import HandlerTuple

    legend = ax.legend(handles=[*verdict_handles, *certainty_handles],
                       labels=[*present, *(f"{c} certainty" for c in CERTAINTY_DOTS)],
                       handler_map={tuple: HandlerTuple(ndivide=None, pad=0.1)}, loc="upper left",
                       bbox_to_anchor=(0.0, -0.01), ncol=4, fontsize=8, frameon=False, handlelength=4.2,
                       title="colour: verdict (where the 95% CI lies against no effect and the MID); "
                             "dots: certainty of the evidence (GRADE)", title_fontsize=8)
    legend._legend_box.align = "left"
    ax.set_title("The answer: effect on a 0–100 scale (95% CI), negative = less pain or disability; "
                 "MID 15 (pain), 10 (disability)", loc="left", fontsize=9, pad=26, color="#333333")
    return ax



# --- headline figure ------------------------------------------------------------------------------------


def headline_figure(review: Any, *, outcomes: Sequence[str] = ("pain", "disability"),
                    xlim: tuple[float, float] = (-45.0, 25.0)) -> Figure:
    """The review in one figure: for each modality and outcome, the best evidence on a 0-100 scale.

    One panel per outcome, one row per modality (every modality the article names).
    Each row is the :attr:`Review.headline <lbpevidence.review.Review>` evidence: the
    effect on a 0-100 scale (a mean difference rescaled to 0-100, or an SMD times a
    typical SD) with its 95% CI, coloured by certainty and marked by basis (our pooled
    analysis, a published review, a single trial). Rows with no estimate say so. Dashed
    lines are the minimal important differences (15 points for pain, 10 for disability;
    Hayden 2021). CIs beyond ``xlim`` end in an arrow head.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import lbpevidence as lbp
    >>> fig = headline_figure(lbp.load_review())
    >>> [ax.get_title() for ax in fig.axes]
    ['Pain', 'Disability']
    """
    for outcome in outcomes:
        check_choice("outcomes", outcome, list(OUTCOMES))
    head = review.headline
    present = set(head["modality"])
    modalities = [m for m, spec in MODALITIES.items() if spec.in_article or m in present]
    n = len(modalities)
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.2 * len(outcomes) + 2.2, 1.9 + 0.36 * n), sharey=True,
                             squeeze=False)
    axes = axes[0]
    lo_x, hi_x = xlim
    for ax, outcome in zip(axes, outcomes, strict=True):
        primary = head["primary"].astype(bool) if "primary" in head.columns else True
        rows = head[(head["outcome"] == outcome) & primary].set_index("modality")
        for i, modality in enumerate(modalities):
            y = -i
            if modality not in rows.index:
                ax.text(0.02, y, "no evidence in the table", va="center", fontsize=7, color="#777777",
                        style="italic", transform=blended_transform_factory(ax.transAxes, ax.transData))
                continue
            row = rows.loc[modality]
            measure = row["measure"]
            est = to_0_100(measure, outcome, row["estimate"])
            colour = CERTAINTY_COLOURS[_certainty(row["certainty"])]
            if not np.isfinite(est):
                ax.text(0.02, y, f"no estimate: {row['verdict']}", va="center", fontsize=7, color="#777777",
                        style="italic", transform=blended_transform_factory(ax.transAxes, ax.transData),
                        gid="no-estimate")
                continue
            low, high = to_0_100(measure, outcome, row["ci_low"]), to_0_100(measure, outcome, row["ci_high"])
            ax.plot([max(low, lo_x), min(high, hi_x)], [y, y], color=colour, linewidth=2.2, solid_capstyle="butt",
                    gid="headline-ci")
            for end, limit, marker in ((low, lo_x, "<"), (high, hi_x, ">")):
                if end < limit if marker == "<" else end > limit:
                    ax.plot([limit], [y], marker=marker, color=colour, markersize=6, gid="ci-clipped")
            marker = BASIS_MARKERS.get(row["basis"], "o")
            ax.plot([min(max(est, lo_x), hi_x)], [y], marker=marker, markersize=8, color=colour,
                    markeredgecolor="#222222", linestyle="none", zorder=3, gid=f"basis-{row['basis']}")
            k = int(row["k"]) if finite(row["k"]) else 0
            note = f"{COMPARISON_LABELS.get(row['comparator_class'], row['comparator_class'])}"
            note += f", k={k}" if k else ""
            ax.text(max(low, lo_x), y + 0.22, note, va="bottom", ha="left", fontsize=6.5, color="#555555",
                    gid="headline-note")
        mid = OUTCOME_MIDS.get(outcome)
        if mid:
            ax.axvline(-mid, color="#444444", linestyle="--", linewidth=0.9, gid="mid-line")
            ax.text(-mid, 0.9, f"MID \u2212{mid:g}", ha="center", fontsize=7, color="#444444")
        ax.axvline(0, color="#222222", linewidth=0.8)
        ax.set_xlim(lo_x, hi_x)
        ax.set_ylim(-n + 0.4, 1.3)
        ax.set_title(OUTCOMES[outcome].term.capitalize() if outcome in OUTCOMES else outcome, fontsize=11)
        ax.set_xlabel(f"Effect on a 0-100 scale (95% CI)\n{DIRECTION}", fontsize=8)
        ax.grid(True, axis="x", color="#eeeeee")
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    axes[0].set_yticks([-i for i in range(n)], [modality_label(m) for m in modalities], fontsize=9)
    certainty = [Patch(facecolor=CERTAINTY_COLOURS[name], label=name) for name in CERTAINTY_LEVELS]
    basis = [Line2D([], [], linestyle="none", marker=m, markersize=7, color="#777777", markeredgecolor="#222222",
                    label={"study-level only, not pooled": "no estimate (study conclusions only)"}.get(b, b))
             for b, m in BASIS_MARKERS.items() if b != "study-level only, not pooled"]
    mid_handle = [Line2D([], [], color="#444444", linestyle="--", label="minimal important difference (Hayden 2021)")]
    fig.legend(handles=[*certainty, *basis, *mid_handle], loc="lower center", ncol=5, fontsize=8, frameon=False,
               title="certainty of evidence (colour) and basis (marker)", title_fontsize=8)
    fig.suptitle("Which treatments help low back pain, and how sure can we be?", fontsize=12, x=0.02, ha="left")
    fig.subplots_adjust(left=0.2, right=0.98, top=1 - 0.75 / (1.9 + 0.36 * n), bottom=1.45 / (1.9 + 0.36 * n),
                        wspace=0.08)
    return fig

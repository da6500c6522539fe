"""Figures of the analyses and the trials: forest, funnel, risk of bias, citation audit; the shared palette.

With :mod:`lbpevidence.maps` (the figures of the answer), the only modules that import
matplotlib. The functions follow seaborn's conventions: axes-level functions
(:func:`forest_plot`, :func:`funnel_plot`, :func:`rob_summary`, :func:`rob_traffic_light`,
:func:`audit_chart`) draw on ``ax`` when given and return it; without ``ax`` they make a new
figure sized to their content (a forest plot of 30 trials needs more height than one of 2).
:func:`forest_plots` is figure-level and returns the :class:`~matplotlib.figure.Figure`. Bad
arguments fail at once, naming the argument, the allowed values and the value received.

Artists carry a ``gid`` (``"study-squares"``, ``"pooled-diamond"``,
``"prediction-interval"``, ...) so that tests and users can find them without reading
pixels.

Every effect is oriented as in :mod:`lbpevidence.effects`: a negative value favours the
intervention, so the left of each x axis is "favours intervention".

The colours of the review (:data:`CERTAINTY_COLOURS`, :data:`ANSWER_COLOURS`,
:data:`ROB_COLOURS`, :data:`VERDICT_COLOURS`) are defined here once, for every figure and for
the answer table (:class:`lbpevidence.tables.AnswerTable`), as are the helpers every figure
uses (:func:`check_frame`, :func:`new_axes`, :func:`literal`, :func:`modality_label`).

Examples
--------
>>> import pandas as pd
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> effects = pd.DataFrame({"key": ["a", "b", "c"], "study": ["Ames 2001", "Burt 2005", "Cole 2010"],
...                         "yi": [-12.0, -4.0, -9.0], "vi": [9.0, 16.0, 6.0], "measure": "MD100"})
>>> ax = forest_plot(effects)
>>> [t.get_text() for t in ax.get_yticklabels()][:3]
['Ames 2001', 'Burt 2005', 'Cole 2010']
>>> "REML" in ax.get_title(loc="left") and "HKSJ" in ax.get_title(loc="left")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon
from matplotlib.transforms import blended_transform_factory, offset_copy

from .errors import check_choice, is_blank
from .review import analysis_effects
from .vocabulary import (
    COMPARISON_LABELS,
    MODALITIES,
    POPULATION_GROUP_LABELS,
    WINDOW_LABELS,
    finite,
)

__all__ = [
    "ANSWER_COLOURS",
    "CERTAINTY_COLOURS",
    "ROB_COLOURS",
    "VERDICT_COLOURS",
    "audit_chart",
    "figure_png",
    "forest_plot",
    "forest_plots",
    "funnel_plot",
    "rob_summary",
    "rob_traffic_light",
]

Z_95 = 1.959963984540054

#: Certainty of evidence -> colour (GRADE levels; "not rated" for published estimates whose
#: authors gave none and for anything we did not grade).
CERTAINTY_COLOURS = {"high": "#1a7837", "moderate": "#7fbc41", "low": "#f1a340", "very low": "#d6604d",
                     "not rated": "#9e9e9e"}
#: Risk-of-bias category -> colour (robvis colours; grey for trials nobody assessed).
ROB_COLOURS = {"low": "#02c100", "some concerns": "#e2df07", "high": "#bf0000", "not assessed": "#bdbdbd"}
_ROB_MARKERS = {"low": "o", "some concerns": "s", "high": "X", "not assessed": "o"}
#: Verdict of an answer (lbpevidence.vocabulary.VERDICTS) -> colour: greens for benefit (darker = more
#: important), blues for no important difference, oranges and reds for harm, greys where the evidence
#: cannot tell or has no comparison (ColorBrewer PRGn/RdBu hues).
ANSWER_COLOURS = {
    "important benefit": "#1b7837", "benefit, possibly important": "#5aae61", "benefit below MID": "#a6dba0",
    "no important difference": "#4393c3", "harm below MID": "#fdb863", "harm, possibly important": "#e66101",
    "important harm": "#b2182b", "insufficient evidence": "#bababa", "benefit, size not judged": "#c2e699",
    "harm, size not judged": "#fee0b6", "benefit reported, not quantified": "#e5f5e0",
    "no benefit reported": "#d1e5f0", "no comparative estimate": "#f7f7f7",
}
#: Citation-audit verdict -> colour.
VERDICT_COLOURS = {"verified": "#1a9850", "garbled": "#fdae61", "conflated": "#d73027", "not found": "#762a83"}
_MEASURE_LABELS = {
    "MD100": "Mean difference on a 0-100 scale",
    "MD": "Mean difference (instrument units)",
    "SMD": "Standardised mean difference (Hedges' g)",
    "RR": "log risk ratio",
    "OR": "log odds ratio",
    "RD": "Risk difference",
}
_METHOD_LABELS = {"REML": "REML", "DL": "DerSimonian-Laird", "PM": "Paule-Mandel", "FE": "fixed effect"}
_CI_LABELS = {"hksj": "HKSJ", "wald": "Wald"}
#: The x-axis direction of every effect (negative favours the intervention).
DIRECTION = "\u2190 favours intervention  |  favours comparator \u2192"
_PEDRO_ITEMS = {
    "P2": "random allocation", "P3": "concealed allocation", "P4": "baseline comparability",
    "P5": "blinded participants", "P6": "blinded therapists", "P7": "blinded assessors",
    "P8": "adequate follow-up", "P9": "intention-to-treat", "P10": "between-group comparison",
    "P11": "point estimates and variability",
}
_ROB2_DOMAINS = {
    "D1": "randomisation process", "D2": "deviations from interventions", "D3": "missing outcome data",
    "D4": "measurement of the outcome", "D5": "selection of the reported result",
}
_PEDRO_LOW_RISK = 6  # grading.GradeRules.pedro_low_risk: PEDro total at or above which a trial counts as low risk


# --- helpers every figure uses (public for lbpevidence.maps; not in __all__) ----------------------


def check_frame(name: str, frame: object, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` when it is a DataFrame with ``columns``; else a TypeError or ValueError naming argument ``name``."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"The value for `{name}` must be a pandas DataFrame, but {type(frame).__name__} was passed.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"The value for `{name}` must have the columns {list(columns)}, but {missing} "
                         f"{'is' if len(missing) == 1 else 'are'} missing (it has {list(frame.columns)}).")
    return frame


def new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """``ax`` when given (it must be an Axes), else the axes of a new figure of ``size`` inches."""
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    elif not isinstance(ax, Axes):
        raise TypeError(f"The value for `ax` must be a matplotlib Axes or None, but {type(ax).__name__} was passed.")
    return ax


def modality_label(term: str) -> str:
    """A modality's label as a figure shows it: the vocabulary's words, or the term itself, :func:`literal`."""
    return MODALITIES[term].label if term in MODALITIES else literal(str(term))


def literal(text: str) -> str:
    """``text`` as matplotlib will show it, character for character: a '$' does not start mathtext.

    An author "Doe $x^$" would otherwise switch a label to mathtext, fail to parse and
    break the whole figure (at draw time, after the function returned).

    >>> literal("Doe $5 and $x^$ 2020")
    'Doe \\\\$5 and \\\\$x^\\\\$ 2020'
    """
    if "$" not in text or not matplotlib.rcParams["text.parse_math"]:
        return text
    return text.replace("$", r"\$")


def figure_png(figure: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, the same on every run: Agg, ``dpi``, tight bounding box, no metadata.

    No software version or date is written into the file, so a figure drawn twice gives the
    same bytes (the report, docs/ and the image-comparison baselines rely on it). The figure
    is closed afterwards.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(figure, Figure):
        raise TypeError(f"The value for `figure` must be a matplotlib Figure, but {type(figure).__name__} was passed.")
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


# --- pooled result ---------------------------------------------------------------------------------

_RESULT_FIELDS = ("k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "method", "ci_method",
                  "ci_df", "measure", "note")


def _usable(rows: pd.DataFrame) -> np.ndarray:
    yi = pd.to_numeric(rows["yi"], errors="coerce").to_numpy(float)
    vi = pd.to_numeric(rows["vi"], errors="coerce").to_numpy(float)
    ok = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    if "usable" in rows.columns:
        ok &= rows["usable"].fillna(False).astype(bool).to_numpy()
    return ok


def _result_dict(result: object, rows: pd.DataFrame) -> dict[str, Any]:
    """The pooled result as a dict: from a MetaResult, a pooled row, or computed (REML + HKSJ)."""
    from .meta import MetaResult, meta_analysis

    if result is None:
        k = int(_usable(rows).sum())
        if k < 2:
            return {"k": k, "estimate": float("nan"), "note": f"k={k}: not pooled", "method": "", "ci_method": ""}
        result = meta_analysis(rows)
    if isinstance(result, MetaResult):
        return {name: value for name, value in asdict(result).items() if name in _RESULT_FIELDS}
    if isinstance(result, pd.DataFrame) and len(result) == 1:
        result = result.iloc[0]
    if isinstance(result, pd.Series | dict):
        out = {name: result.get(name) for name in _RESULT_FIELDS}
        if not finite(out.get("estimate")):
            k = out.get("k")
            k = int(k) if finite(k) else int(_usable(rows).sum())
            out.update(k=k, estimate=float("nan"), note=out.get("note") or f"k={k}: not pooled")
        return out
    raise TypeError("The value for `result` must be a MetaResult, a pooled row (Series or one-row DataFrame) or "
                    f"None, but {type(result).__name__} was passed.")


def _methods_text(res: dict[str, Any]) -> str:
    if not finite(res.get("estimate")):
        return f"Not pooled ({res.get('note') or 'no estimate'})"
    method = str(res.get("method") or "")
    ci_method = str(res.get("ci_method") or "")
    model = "Fixed effect" if method == "FE" else f"Random effects ({_METHOD_LABELS.get(method, method)})"
    ci = _CI_LABELS.get(ci_method, ci_method)
    if ci_method == "hksj" and finite(res.get("ci_df")):
        ci += f", t with {float(res['ci_df']):g} df"
    text = f"{model}; 95% CI: {ci}"
    if _has_pi(res):
        text += "; 95% prediction interval"
    return text


def _has_pi(res: dict[str, Any]) -> bool:
    return (res.get("method") != "FE" and finite(res.get("estimate")) and finite(res.get("pi_low"))
            and finite(res.get("pi_high")))


def _describe(rows: pd.DataFrame) -> str:
    """'Yoga: disability vs usual care / no treatment, short-term' from the columns the rows share."""
    def one(column: str) -> str | None:
        if column not in rows.columns:
            return None
        values = rows[column].dropna().unique()
        return str(values[0]) if len(values) == 1 else None

    parts = []
    modality, outcome = one("modality"), one("outcome")
    if modality:
        parts.append(modality_label(modality))
    detail = outcome or ""
    comparator = one("comparator_class")
    if comparator:
        detail += f" vs {COMPARISON_LABELS.get(comparator, comparator)}"
    window = one("window")
    if window:
        detail += f", {WINDOW_LABELS.get(window, window)}"
    population = one("population_group")
    if population:
        detail += f"; {POPULATION_GROUP_LABELS.get(population, population)} pain"
    if detail:
        parts.append(detail.strip())
    return ": ".join(parts)


def _digits(measure: str) -> int:
    return 1 if measure in ("MD100", "MD") else 2


# --- forest plot -------------------------------------------------------------------------------------

LABELS = ("study", "key")
FOREST_WIDTH, FOREST_LEFT, FOREST_RIGHT = 10.0, 2.1, 2.9  # inches: figure, label and column margins
SORTS = ("input", "effect", "weight", "label")


def forest_plot(effects: pd.DataFrame, result: object = None, *, ax: Axes | None = None, labels: str = "study",
                rob: pd.DataFrame | None = None, sort: str = "input", title: str | None = None) -> Axes:
    """Forest plot: one row per study with its 95% CI, the pooled diamond and the prediction interval.

    Parameters
    ----------
    effects : DataFrame
        Rows of :func:`~lbpevidence.effect_sizes` (``yi``, ``vi``; optional ``yi_ci_low``,
        ``yi_ci_high``, ``key``, ``study``, ``measure``, ``usable``). Rows that cannot be
        used stay in the plot as a labelled row with "no estimate".
    result : MetaResult, pooled row or None
        The pooled result: a :class:`~lbpevidence.meta.MetaResult`, or one row of
        :attr:`Review.pooled <lbpevidence.review.Review>` (Series or one-row DataFrame).
        None pools the usable rows with the defaults (REML + HKSJ + prediction interval);
        with fewer than 2 usable rows nothing is pooled and a note says so.
    ax : Axes, optional
        Where to draw; a new figure sized to the rows when None.
    labels : {"study", "key"}
        Row labels: the study ("Cherkin 2009") or the reference key.
    rob : DataFrame, optional
        :attr:`Review.rob <lbpevidence.review.Review>` (``key``, ``category``): adds a
        risk-of-bias column (low / some concerns / high / not assessed).
    sort : {"input", "effect", "weight", "label"}
        Row order; every sort is stable (ties keep the input order).
    title : str, optional
        First title line; by default built from the modality, outcome, comparator and
        window the rows share. The second line names the estimator and the CI method.

    Returns
    -------
    Axes

    Notes
    -----
    Square areas are proportional to the random-effects weights ``1 / (vi + tau²)``. The
    diamond spans the pooled 95% CI; the prediction interval is a separate line below it,
    drawn only when the result has one (random effects, k >= 2).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> one = pd.DataFrame({"key": ["a"], "yi": [-5.0], "vi": [4.0], "measure": "MD100"})
    >>> ax = forest_plot(one)
    >>> [a.get_gid() for a in ax.patches], [t.get_text() for t in ax.texts if t.get_gid() == "not-pooled-note"]
    ([], ['k=1: not pooled'])
    >>> forest_plot(one, sort="size")
    Traceback (most recent call last):
    ...
    ValueError: The value for `sort` must be one of ['input', 'effect', 'weight', 'label'], but 'size' was passed.
    """
    check_choice("labels", labels, LABELS)
    check_choice("sort", sort, SORTS)
    rows = check_frame("effects", effects, ["yi", "vi"]).reset_index(drop=True)
    if rob is not None:
        check_frame("rob", rob, ["key", "category"])
    res = _result_dict(result, rows)
    pooled = finite(res.get("estimate"))
    tau2 = float(res["tau2"]) if finite(res.get("tau2")) and res.get("method") != "FE" else 0.0

    usable = _usable(rows)
    yi = pd.to_numeric(rows["yi"], errors="coerce").to_numpy(float)
    vi = pd.to_numeric(rows["vi"], errors="coerce").to_numpy(float)
    if {"yi_ci_low", "yi_ci_high"} <= set(rows.columns):
        low = pd.to_numeric(rows["yi_ci_low"], errors="coerce").to_numpy(float)
        high = pd.to_numeric(rows["yi_ci_high"], errors="coerce").to_numpy(float)
    else:
        low, high = yi - Z_95 * np.sqrt(vi), yi + Z_95 * np.sqrt(vi)
    weights = np.where(usable, 1 / np.where(usable, vi + tau2, 1.0), 0.0)
    weights = 100 * weights / weights.sum() if weights.sum() > 0 else weights
    names = _row_labels(rows, labels)

    order = np.arange(len(rows))
    if sort == "effect":
        order = np.argsort(np.where(usable, yi, np.inf), kind="stable")
    elif sort == "weight":
        order = np.argsort(-weights, kind="stable")
    elif sort == "label":
        order = np.argsort(np.array(names, dtype=object), kind="stable")

    n = len(rows)
    has_pi = _has_pi(res)
    if ax is None:
        height = 1.6 + 0.3 * (n + (2 if has_pi else 1) + 2)
        ax = new_axes(None, (FOREST_WIDTH, height))
        ax.figure.subplots_adjust(left=FOREST_LEFT / FOREST_WIDTH, right=1 - FOREST_RIGHT / FOREST_WIDTH,
                                  top=1 - 0.8 / height, bottom=0.8 / height)
    else:
        ax = new_axes(ax, (FOREST_WIDTH, 4.0))
    y_study = np.arange(n, 0, -1, dtype=float)  # top row first
    y_pooled, y_pi = -0.3, -1.2
    ys = np.empty(n)
    ys[order] = y_study

    ok = usable
    ax.hlines(ys[ok], low[ok], high[ok], color="#333333", linewidth=1.2, gid="study-ci")
    sizes = 20 + 280 * weights / max(weights.max(), 1e-12) if n else np.array([])
    ax.scatter(yi[ok], ys[ok], s=sizes[ok], marker="s", color="#3b6ea8", edgecolor="#1f3b5c", zorder=3,
               gid="study-squares")
    measure = str(res.get("measure") or (rows["measure"].dropna().iloc[0] if "measure" in rows.columns
                                         and rows["measure"].notna().any() else ""))
    digits = _digits(measure)
    # Text columns right of the axes, at fixed distances in inches (independent of the axes width).
    base = blended_transform_factory(ax.transAxes, ax.transData)
    rob_at, effect_at, weight_at = (0.15, 0.35, 2.05) if rob is not None else (None, 0.1, 1.8)

    def column(inches: float) -> Any:
        return offset_copy(base, fig=ax.figure, x=inches, y=0, units="inches")

    def cell(at: float, y: float, text: str, **kw: Any) -> None:
        ax.text(1.0, y, text, transform=column(at), va="center", fontsize=8, clip_on=False, **kw)

    for i in range(n):
        if ok[i]:
            cell(effect_at, ys[i], f"{yi[i]:.{digits}f} [{low[i]:.{digits}f}, {high[i]:.{digits}f}]",
                 gid="effect-text")
            cell(weight_at, ys[i], f"{weights[i]:.1f}%", ha="right", gid="weight-text")
        else:
            problem = rows["problem"].iloc[i] if "problem" in rows.columns else ""
            cell(effect_at, ys[i], "no estimate" + (f" ({problem})" if problem else ""), gid="effect-text")
    top = n + 0.9
    cell(effect_at, top, "Effect [95% CI]", weight="bold")
    cell(weight_at, top, "Weight", ha="right", weight="bold")
    if rob is not None:
        categories = rob.drop_duplicates("key").set_index("key")["category"]
        keys = rows["key"] if "key" in rows.columns else pd.Series([""] * n)
        cats = [categories[k] if k in categories.index else "not assessed" for k in keys]
        for category, colour in ROB_COLOURS.items():
            idx = [i for i in range(n) if cats[i] == category]
            if idx:
                ax.scatter([1.0] * len(idx), ys[idx], transform=column(rob_at), s=45, color=colour,
                           marker=_ROB_MARKERS[category], edgecolor="#555555", clip_on=False, zorder=3,
                           label=f"risk of bias: {category}", gid=f"rob-{category}")
        cell(rob_at, top, "RoB", ha="center", weight="bold")

    ticks, tick_labels = list(y_study), [names[i] for i in order]
    ax.axhline(0.5, color="#999999", linewidth=0.6)
    if pooled:
        est, lo, hi = float(res["estimate"]), float(res["ci_low"]), float(res["ci_high"])
        h = 0.32
        ax.add_patch(Polygon([(lo, y_pooled), (est, y_pooled + h), (hi, y_pooled), (est, y_pooled - h)],
                             closed=True, facecolor="#1f3b5c", edgecolor="#1f3b5c", zorder=3,
                             gid="pooled-diamond", label="pooled estimate (95% CI)"))
        ticks.append(y_pooled)
        i2 = f", I\u00b2 = {float(res['i2']):.0f}%" if finite(res.get("i2")) else ""
        tick_labels.append(f"Pooled (k={int(res['k'])}{i2})")
        cell(effect_at, y_pooled, f"{est:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]", weight="bold")
        cell(weight_at, y_pooled, "100%", ha="right")
        if has_pi:
            pi_lo, pi_hi = float(res["pi_low"]), float(res["pi_high"])
            ax.plot([pi_lo, pi_hi], [y_pi, y_pi], color="#b2182b", linewidth=2.2, solid_capstyle="butt",
                    marker="|", markersize=9, gid="prediction-interval", label="95% prediction interval")
            ticks.append(y_pi)
            tick_labels.append("95% prediction interval")
            cell(effect_at, y_pi, f"[{pi_lo:.{digits}f}, {pi_hi:.{digits}f}]", color="#b2182b")
    else:
        ax.text(0.5, y_pooled, literal(str(res.get("note") or "not pooled")), transform=base, ha="center",
                va="center", fontsize=9, style="italic", color="#555555", gid="not-pooled-note")
        ticks.append(y_pooled)
        tick_labels.append("No pooled estimate")

    ax.axvline(0, color="#555555", linewidth=0.8, zorder=1)
    ax.set_yticks(ticks, tick_labels)
    ax.set_ylim(min(ticks) - 0.7, n + 1.3)
    span = [v for v in (*low[ok], *high[ok], 0.0) if np.isfinite(v)]
    if pooled:
        span += [float(res["ci_low"]), float(res["ci_high"])]
        if has_pi:
            span += [float(res["pi_low"]), float(res["pi_high"])]
    lo_x, hi_x = min(span), max(span)
    pad = 0.06 * (hi_x - lo_x or 1.0)
    ax.set_xlim(lo_x - pad, hi_x + pad)
    ax.set_xlabel(f"{_MEASURE_LABELS.get(measure, measure or 'Effect')}\n{DIRECTION}", fontsize=9)
    ax.tick_params(axis="y", length=0, labelsize=9)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    heading = literal(title) if title is not None else _describe(rows)
    methods = _methods_text(res)
    ax.set_title(f"{heading}\n{methods}" if heading else methods, loc="left", fontsize=9)
    return ax


def _row_labels(rows: pd.DataFrame, labels: str) -> list[str]:
    column = labels if labels in rows.columns else ("key" if "key" in rows.columns else None)
    if column is None:
        return [str(i) for i in rows.index]
    return [literal(str(v)) for v in rows[column]]


def forest_plots(review: Any, modality: str, *, min_k: int = 2, rob: bool = True, labels: str = "study") -> Figure:
    """One forest plot per analysis of ``modality`` with at least ``min_k`` trials, stacked in one figure.

    The analyses are the rows of ``review.pooled`` (modality x outcome x comparator
    class x window x measure), in that table's order. Each panel is :func:`forest_plot`
    with the pooled row as ``result`` and, when ``rob``, the trials' risk of bias. A
    modality with no such analysis gets a figure that says so.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import lbpevidence as lbp
    >>> fig = forest_plots(lbp.load_review(), "yoga")
    >>> len(fig.axes) >= 2
    True
    """
    check_choice("modality", modality, list(MODALITIES))
    check_choice("labels", labels, LABELS)
    pooled = review.pooled
    chosen = pooled[(pooled["modality"] == modality) & (pooled["k"] >= min_k)]
    if not len(chosen):
        fig, ax = plt.subplots(figsize=(FOREST_WIDTH, 1.0))
        ax.set_axis_off()
        ax.text(0.0, 0.5, f"{modality_label(modality)}: no analysis with {min_k} or more trials to pool.",
                transform=ax.transAxes, fontsize=10, style="italic", gid="no-analysis")
        return fig
    panels = []
    for _, row in chosen.iterrows():
        rows, _ = analysis_effects(review, modality, row["outcome"], row["comparator_class"], row["window"],
                                   row["measure"], row["population_group"])
        panels.append((rows, row))
    # Each panel: its rows at 0.3 in each, 0.8 in above (two title lines) and 0.8 in below (x label).
    heights = [0.3 * (len(rows) + (2 if finite(row["pi_low"]) else 1) + 2) for rows, row in panels]
    total = sum(heights) + 1.6 * len(panels)
    fig = plt.figure(figsize=(FOREST_WIDTH, total))
    top = total
    for (rows, row), height in zip(panels, heights, strict=True):
        top -= 0.8
        ax = fig.add_axes((FOREST_LEFT / FOREST_WIDTH, (top - height) / total,
                           1 - (FOREST_LEFT + FOREST_RIGHT) / FOREST_WIDTH, height / total))
        forest_plot(rows, row, ax=ax, labels=labels, rob=review.rob if rob else None)
        top -= height + 0.8
    return fig


# --- funnel plot --------------------------------------------------------------------------------------


def funnel_plot(effects: pd.DataFrame, result: object = None, ax: Axes | None = None) -> Axes:
    """Funnel plot: each study's effect against its standard error, with pseudo 95% limits.

    The vertical line is the pooled estimate (``result`` as in :func:`forest_plot`; the
    usable rows are pooled with REML + HKSJ when None); the dashed funnel is
    ``estimate ± 1.96 SE``. The title gives Egger's test, or why it was not run
    (it needs at least 10 studies).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"yi": [-0.4, -0.2, -0.6, -0.1], "vi": [0.02, 0.05, 0.08, 0.01]})
    >>> ax = funnel_plot(eff)
    >>> bool(ax.yaxis_inverted()), "Egger needs k >= 10" in ax.get_title()
    (True, True)
    """
    from .meta import egger_test

    rows = check_frame("effects", effects, ["yi", "vi"]).reset_index(drop=True)
    res = _result_dict(result, rows)
    ax = new_axes(ax, (5.5, 4.5))
    ok = _usable(rows)
    yi = pd.to_numeric(rows["yi"], errors="coerce").to_numpy(float)[ok]
    se = np.sqrt(pd.to_numeric(rows["vi"], errors="coerce").to_numpy(float)[ok])
    ax.scatter(yi, se, s=30, color="#3b6ea8", edgecolor="#1f3b5c", zorder=3, gid="funnel-studies")
    centre = float(res["estimate"]) if finite(res.get("estimate")) else (float(np.average(yi, weights=1 / se**2))
                                                                           if len(yi) else 0.0)
    se_max = float(se.max()) * 1.1 if len(se) else 1.0
    grid = np.array([0.0, se_max])
    ax.plot(centre - Z_95 * grid, grid, color="#777777", linestyle="--", linewidth=0.8, gid="funnel-limits")
    ax.plot(centre + Z_95 * grid, grid, color="#777777", linestyle="--", linewidth=0.8)
    ax.axvline(centre, color="#1f3b5c", linewidth=1, gid="funnel-centre")
    ax.axvline(0, color="#bbbbbb", linewidth=0.6)
    ax.set_ylim(se_max, 0)
    measure = str(res.get("measure") or "")
    ax.set_xlabel(f"{_MEASURE_LABELS.get(measure, measure or 'Effect')}\n{DIRECTION}", fontsize=9)
    ax.set_ylabel("Standard error", fontsize=9)
    egger = egger_test(rows) if len(yi) else None
    if egger is not None and egger.run:
        note = f"Egger intercept {egger.intercept:.2f}, p = {egger.p:.3f}"
    else:
        note = egger.reason if egger is not None else "no usable studies"
    ax.set_title(f"Funnel plot, k={len(yi)}: {note}", fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


# --- risk of bias, summarised --------------------------------------------------------------------------------


def rob_summary(trials: pd.DataFrame, ax: Axes | None = None, *, by: str | None = "modality") -> Axes:
    """Risk of bias as a robvis-style summary: how many trials are at low, some concerns, high risk, or not assessed.

    Parameters
    ----------
    trials : DataFrame
        One row per trial (and group): ``key``, ``category`` (low / some concerns / high /
        not assessed) and the ``by`` column; :func:`lbpevidence.tables.headline_trials` gives
        the trials behind the headline.
    ax : Axes, optional
    by : str or None
        A column to split the trials by (one bar each, under a bar for all trials), or None
        for one bar.

    Returns
    -------
    Axes
        Stacked horizontal bars of trial counts, coloured as :data:`ROB_COLOURS`; each
        segment is labelled with its count, so trials no one assessed are counted, not listed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> trials = pd.DataFrame({"key": ["a", "b", "c"], "modality": ["yoga", "yoga", "heat"],
    ...                        "category": ["low", "not assessed", "high"]})
    >>> ax = rob_summary(trials)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['All trials (3)', 'Yoga (2)', 'Superficial heat (1)']
    """
    table = check_frame("trials", trials, ["key", "category"])
    if by is not None:
        check_choice("by", by, [c for c in table.columns if c not in ("key", "category")])
    unknown = sorted(set(table["category"]) - set(ROB_COLOURS))
    if unknown:
        raise ValueError(f"The value for `trials` must have categories in {list(ROB_COLOURS)}, but {unknown} "
                         "was passed.")
    groups = [("All trials", table.drop_duplicates("key"))]
    if by is not None:
        rank = {t: i for i, t in enumerate(MODALITIES)}
        values = sorted(table[by].dropna().unique(), key=lambda v: (rank.get(v, 99), str(v)))
        groups += [(modality_label(v) if by == "modality" else literal(str(v)), table[table[by] == v])
                   for v in values]
    n = len(groups)
    ax = new_axes(ax, (9.0, 1.5 + 0.38 * n))
    for category, colour in ROB_COLOURS.items():
        lefts = [int(g["category"].isin([c for c in ROB_COLOURS if list(ROB_COLOURS).index(c)
                                         < list(ROB_COLOURS).index(category)]).sum()) for _, g in groups]
        counts = [int((g["category"] == category).sum()) for _, g in groups]
        ax.barh([-i for i in range(n)], counts, left=lefts, color=colour, edgecolor="white", height=0.62,
                label=category, gid=f"rob-summary-{category}")
        for i, (left, count) in enumerate(zip(lefts, counts, strict=True)):
            if count:
                ax.text(left + count / 2, -i, str(count), ha="center", va="center", fontsize=8,
                        color="white" if category in ("high", "low") else "#222222", gid="rob-count")
    ax.set_yticks([-i for i in range(n)], [f"{name} ({len(g)})" for name, g in groups], fontsize=9)
    ax.set_xlabel("Trials", fontsize=9)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    total = groups[0][1]
    missing = int((total["category"] == "not assessed").sum())
    ax.set_title(f"Risk of bias of {len(total)} trials: {len(total) - missing} assessed, {missing} not assessed "
                 "(counted as unclear)", loc="left", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title="risk of bias",
              title_fontsize=8)
    return ax


# --- risk of bias -----------------------------------------------------------------------------------------

ROB_SCHEMES = ("auto", "rob2", "pedro")


def _rob2_category(value: object) -> str:
    text = "" if is_blank(value) else str(value).strip().lower()
    return {"low": "low", "some-concerns": "some concerns", "some concerns": "some concerns", "high": "high"}.get(
        text, "not assessed")


def rob_traffic_light(rob_table: pd.DataFrame, ax: Axes | None = None, *, scheme: str = "auto",
                      include_unassessed: bool = True) -> Axes:
    """Risk-of-bias traffic light: one row per trial, one column per domain (or PEDro item).

    Parameters
    ----------
    rob_table : DataFrame
        :attr:`Review.rob <lbpevidence.review.Review>` (from
        :func:`~lbpevidence.grading.risk_of_bias_table`): ``study``, ``rob``, ``D1``-``D5``,
        ``pedro``, ``P2``-``P11``.
    ax : Axes, optional
    scheme : {"auto", "rob2", "pedro"}
        ``rob2``: the five RoB 2 domains and the overall judgement. ``pedro``: PEDro
        items 2-11 (criterion met = low risk, not met = high) and the total (at least 6 =
        low risk, as :class:`~lbpevidence.grading.GradeRules`). ``auto``: RoB 2 when any
        trial has a RoB 2 judgement, PEDro otherwise.
    include_unassessed : bool
        Keep trials with no judgement at all (a grey row each); False drops them and
        the title says how many.

    Returns
    -------
    Axes
        Each judgement is a marker coloured by :data:`ROB_COLOURS` (low / some concerns /
        high / not assessed), with a legend.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> table = pd.DataFrame({"study": ["Ames 2001", "Burt 2005"], "rob": ["low", "high"],
    ...                       "D1": ["low", "low"], "D2": ["low", "some-concerns"], "D3": ["low", "high"],
    ...                       "D4": ["low", "low"], "D5": ["low", ""]})
    >>> ax = rob_traffic_light(table)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['low', 'some concerns', 'high', 'not assessed']
    """
    check_choice("scheme", scheme, ROB_SCHEMES)
    check_choice("include_unassessed", include_unassessed, [True, False])
    table = check_frame("rob_table", rob_table, ["study"]).reset_index(drop=True)
    rob2_columns = [c for c in ("D1", "D2", "D3", "D4", "D5", "rob") if c in table.columns]
    if scheme == "auto":
        judged = any((~table[c].map(is_blank)).any() for c in rob2_columns)
        scheme = "rob2" if judged or not any(c in table.columns for c in ("pedro", *_PEDRO_ITEMS)) else "pedro"
    if scheme == "rob2":
        domains = [c for c in ("D1", "D2", "D3", "D4", "D5") if c in table.columns]
        grid = pd.DataFrame({c: table[c].map(_rob2_category) for c in domains})
        if "rob" in table.columns:
            grid["Overall"] = table["rob"].map(_rob2_category)
        names = {**{c: f"{c} {_ROB2_DOMAINS[c]}" for c in domains}, "Overall": "Overall"}
        totals = None
        heading = "Risk of bias (RoB 2): domains D1-D5 and overall"
    else:
        items = [c for c in _PEDRO_ITEMS if c in table.columns]
        grid = pd.DataFrame({c: table[c].map(lambda v: "not assessed" if is_blank(v) else
                                              ("low" if int(v) == 1 else "high")) for c in items})
        pedro = table["pedro"] if "pedro" in table.columns else pd.Series([pd.NA] * len(table))
        grid["Total"] = pedro.map(lambda v: "not assessed" if is_blank(v) else
                                  ("low" if int(v) >= _PEDRO_LOW_RISK else "high"))
        totals = pedro
        names = {**{c: f"{c} {_PEDRO_ITEMS[c]}" for c in items},
                 "Total": f"PEDro total (\u2265 {_PEDRO_LOW_RISK} = low)"}
        heading = "Risk of bias (PEDro): items 2-11 (criterion met = low risk) and total score"
    assessed = (grid != "not assessed").any(axis=1) if len(grid.columns) else pd.Series(False, index=table.index)
    dropped = 0
    if not include_unassessed:
        dropped = int((~assessed).sum())
        grid, table = grid[assessed], table[assessed]
        totals = totals[assessed] if totals is not None else None
    n, m = len(grid), len(grid.columns)
    ax = new_axes(ax, (2.8 + 0.45 * m + 2.2, 1.8 + 0.3 * max(n, 1)))
    rows = np.arange(n)
    for category, colour in ROB_COLOURS.items():
        ys, xs = np.nonzero(grid.to_numpy() == category) if n else (np.array([]), np.array([]))
        ax.scatter(xs, -ys, s=150, color=colour, marker=_ROB_MARKERS[category], edgecolor="#555555",
                   linewidths=0.5, label=category, gid=f"rob-{category}", zorder=3)
    if totals is not None:
        for y, value in zip(rows, totals, strict=True):
            if not is_blank(value):
                ax.text(m - 1 + 0.3, -y, f"{int(value)}/10", ha="left", va="center", fontsize=7, gid="pedro-total")
    ax.set_xticks(range(m), [names.get(c, c) for c in grid.columns], rotation=40, ha="left", fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(-rows, [str(s) for s in table["study"]], fontsize=8)
    ax.set_xlim(-0.6, m - 0.4 + (0.6 if totals is not None else 0.0))
    ax.set_ylim(-max(n, 1) + 0.4, 0.6)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.tick_params(length=0)
    if dropped:
        heading += f"\n{n} trials assessed; {dropped} trials with no assessment in the table not shown"
    ax.set_title(heading, fontsize=9, loc="left", pad=12)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False, borderaxespad=0.0)
    return ax


# --- citation audit ---------------------------------------------------------------------------------------

_AUDIT_FIELDS = 7  # authors, title, journal, year, volume, issue, pages (lbpevidence.citations)


def audit_chart(audit_citations_table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """One bar per printed citation, coloured by the audit verdict, annotated with its wrong fields.

    Parameters
    ----------
    audit_citations_table : DataFrame
        :attr:`Review.audit <lbpevidence.review.Review>` (``AuditResult.citations``):
        ``printed_number``, ``verdict``, ``wrong_fields``, ``best_match``.
    ax : Axes, optional

    Returns
    -------
    Axes
        The bar length is the number of bibliographic fields (of the 7 compared: authors,
        title, journal, year, volume, issue, pages) printed wrong; a citation with none
        still shows a thin bar in its colour. The legend lists every verdict.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> table = pd.DataFrame({"printed_number": [1, 2], "verdict": ["verified", "garbled"],
    ...                       "wrong_fields": [[], ["issue", "pages"]], "best_match": ["a2001", "b2005"]})
    >>> ax = audit_chart(table)
    >>> [t.get_text() for t in ax.texts]
    ['verified: 0 wrong fields (best match a2001)', 'garbled: 2 wrong fields: issue, pages (best match b2005)']
    """
    table = check_frame("audit_citations_table", audit_citations_table, ["verdict", "wrong_fields"])
    table = table.reset_index(drop=True)
    unknown = sorted(set(table["verdict"]) - set(VERDICT_COLOURS))
    if unknown:
        raise ValueError(f"The value for `audit_citations_table` must have verdicts in {list(VERDICT_COLOURS)}, "
                         f"but {unknown} was passed.")
    n = len(table)
    ax = new_axes(ax, (9.5, 1.4 + 0.5 * max(n, 1)))
    ys = -np.arange(n)
    wrong = [list(w) if isinstance(w, list | tuple | np.ndarray) else [] for w in table["wrong_fields"]]
    counts = np.array([len(w) for w in wrong], dtype=float)
    colours = [VERDICT_COLOURS[v] for v in table["verdict"]]
    ax.barh(ys, np.maximum(counts, 0.08), color=colours, edgecolor="#333333", linewidth=0.5, height=0.6,
            gid="audit-bars")
    for y, count, fields, row in zip(ys, counts, wrong, table.to_dict("records"), strict=True):
        text = f"{row['verdict']}: {int(count)} wrong field{'' if count == 1 else 's'}"
        text += f": {', '.join(fields)}" if fields else ""
        if not is_blank(row.get("best_match")):
            text += f" (best match {row['best_match']})"
        ax.text(max(count, 0.08) + 0.12, y, literal(text), va="center", fontsize=8, gid="audit-annotation")
    if "printed_number" in table.columns:
        labels = [f"[{int(v)}]" if finite(v) else str(k) for v, k in
                  zip(table["printed_number"], table.get("key", table["printed_number"]), strict=True)]
    else:
        labels = [str(k) for k in table.get("key", pd.Series(range(1, n + 1)))]
    ax.set_yticks(ys, [literal(label) for label in labels], fontsize=9)
    ax.set_ylim(-max(n, 1) + 0.4, 0.6)
    ax.set_xlim(0, _AUDIT_FIELDS + 0.2)
    ax.set_xticks(range(_AUDIT_FIELDS + 1))
    ax.set_xlabel(f"Fields printed wrong (of {_AUDIT_FIELDS} compared: authors, title, journal, year, volume, "
                  "issue, pages)", fontsize=9)
    ax.set_ylabel("Printed citation", fontsize=9)
    handles = [Patch(facecolor=c, edgecolor="#333333", label=v) for v, c in VERDICT_COLOURS.items()]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=len(handles), fontsize=8,
              frameon=False, title="verdict", title_fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("Citation audit: each printed reference against the verified records", fontsize=10, loc="left")
    return ax



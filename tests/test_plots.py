"""Figures, checked through their artists (never pixels): rows, labels, diamond, prediction interval, legends."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

import lbpevidence as lbp
from lbpevidence import maps, plots, tables
from lbpevidence.review import analysis_effects

pytestmark = pytest.mark.usefixtures("close_figures")


@pytest.fixture
def effects():
    return pd.DataFrame({
        "key": ["cole2010", "ames2001", "burt2005", "dunn2012"],
        "study": ["Cole 2010", "Ames 2001", "Burt 2005", "Dunn 2012"],
        "modality": "yoga", "outcome": "pain", "comparator_class": "inactive", "window": "short-term",
        "measure": "MD100",
        "yi": [-12.0, -4.0, -20.0, -1.0], "vi": [9.0, 16.0, 25.0, 4.0],
    })


def by_gid(ax, gid):
    return [a for a in (*ax.collections, *ax.lines, *ax.patches, *ax.texts) if a.get_gid() == gid]


def tick_labels(ax, axis="y"):
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks]


def legend_texts(legend):
    return [t.get_text() for t in legend.get_texts()]


# --- forest plot ------------------------------------------------------------------------------------


def test_forest_one_row_and_label_per_study_in_input_order(effects):
    ax = plots.forest_plot(effects)
    squares = by_gid(ax, "study-squares")[0]
    assert isinstance(squares, PathCollection) and len(squares.get_offsets()) == 4
    assert tick_labels(ax)[:4] == ["Cole 2010", "Ames 2001", "Burt 2005", "Dunn 2012"]
    cis = by_gid(ax, "study-ci")[0]
    assert isinstance(cis, LineCollection) and len(cis.get_segments()) == 4
    assert next(t.get_text() for t in by_gid(ax, "effect-text")) == "-12.0 [-17.9, -6.1]"


def test_forest_labels_key(effects):
    ax = plots.forest_plot(effects, labels="key")
    assert tick_labels(ax)[:4] == ["cole2010", "ames2001", "burt2005", "dunn2012"]


def test_forest_squares_sized_by_weight(effects):
    res = lbp.meta_analysis(effects)
    sizes = by_gid(plots.forest_plot(effects, res), "study-squares")[0].get_sizes()
    weights = 1 / (effects["vi"].to_numpy() + res.tau2)
    assert np.argmax(sizes) == np.argmax(weights) and np.argmin(sizes) == np.argmin(weights)
    shown = [float(t.get_text().rstrip("%")) for t in by_gid(plots.forest_plot(effects, res), "weight-text")]
    assert shown == pytest.approx(np.round(100 * weights / weights.sum(), 1))


def test_forest_diamond_vertices_are_the_pooled_ci(effects):
    res = lbp.meta_analysis(effects)
    ax = plots.forest_plot(effects, res)
    (diamond,) = by_gid(ax, "pooled-diamond")
    assert isinstance(diamond, Polygon)
    xs = diamond.get_xy()[:, 0]
    assert min(xs) == pytest.approx(res.ci_low) and max(xs) == pytest.approx(res.ci_high)
    assert xs[1] == pytest.approx(res.estimate) and xs[3] == pytest.approx(res.estimate)


def test_forest_pooled_row_of_the_review_gives_the_same_diamond(review):
    rows, pooled = analysis_effects(review, "yoga", "disability")
    ax = plots.forest_plot(rows, pooled)
    xs = by_gid(ax, "pooled-diamond")[0].get_xy()[:, 0]
    assert (min(xs), max(xs)) == pytest.approx((pooled["ci_low"], pooled["ci_high"]))
    assert len(by_gid(ax, "study-squares")[0].get_offsets()) == int(pooled["k"])


def test_forest_prediction_interval_drawn_when_it_exists(effects):
    res = lbp.meta_analysis(effects)
    (line,) = by_gid(plots.forest_plot(effects, res), "prediction-interval")
    assert tuple(line.get_xdata()) == pytest.approx((res.pi_low, res.pi_high))
    assert line.get_color() != by_gid(plots.forest_plot(effects, res), "study-ci")[0].get_color()[0].tolist()
    assert "95% prediction interval" in tick_labels(plots.forest_plot(effects, res))


@pytest.mark.parametrize("kwargs", [{"method": "FE", "ci": "wald"}, {"prediction": False}])
def test_forest_no_prediction_interval_without_one(effects, kwargs):
    ax = plots.forest_plot(effects, lbp.meta_analysis(effects, **kwargs))
    assert by_gid(ax, "prediction-interval") == []
    assert by_gid(ax, "pooled-diamond")


def test_forest_pooled_row_without_pi_draws_none(effects):
    row = lbp.meta_analysis(effects).to_frame().iloc[0].copy()
    row["pi_low"] = row["pi_high"] = np.nan
    assert by_gid(plots.forest_plot(effects, row), "prediction-interval") == []


def test_forest_single_study_has_no_diamond_and_a_note(effects):
    ax = plots.forest_plot(effects.iloc[:1])
    assert by_gid(ax, "pooled-diamond") == [] and by_gid(ax, "prediction-interval") == []
    assert [t.get_text() for t in by_gid(ax, "not-pooled-note")] == ["k=1: not pooled"]
    assert "No pooled estimate" in tick_labels(ax)


def test_forest_k1_pooled_row_from_meta_by_has_no_diamond(review):
    row = review.pooled[review.pooled["k"] == 1].iloc[0]
    rows, _ = analysis_effects(review, row["modality"], row["outcome"], row["comparator_class"], row["window"],
                                     row["measure"])
    ax = plots.forest_plot(rows, row)
    assert by_gid(ax, "pooled-diamond") == []
    assert by_gid(ax, "not-pooled-note")[0].get_text().startswith("k=1: not pooled")


@pytest.mark.parametrize(("kwargs", "words"), [
    ({}, ["Random effects (REML)", "HKSJ", "prediction interval"]),
    ({"preset": "revman5"}, ["DerSimonian-Laird", "Wald"]),
    ({"method": "FE", "ci": "wald"}, ["Fixed effect", "Wald"]),
])
def test_forest_title_names_estimator_and_ci_method(effects, kwargs, words):
    title = plots.forest_plot(effects, lbp.meta_analysis(effects, **kwargs)).get_title(loc="left")
    assert all(word in title for word in words), title
    assert title.startswith("Yoga: pain vs usual care / no treatment, short term (up to 3 months)")


def test_forest_title_from_the_pooled_row(review):
    rows, pooled = analysis_effects(review, "yoga", "disability")
    title = plots.forest_plot(rows, pooled, title="Yoga and disability").get_title(loc="left")
    assert title.splitlines()[0] == "Yoga and disability"
    assert "REML" in title and "HKSJ" in title


def test_forest_x_axis_names_measure_and_direction(effects):
    label = plots.forest_plot(effects).get_xlabel()
    assert "0-100" in label
    assert label.index("favours intervention") < label.index("favours comparator")


@pytest.mark.parametrize(("sort", "expected"), [
    ("input", ["Cole 2010", "Ames 2001", "Burt 2005", "Dunn 2012"]),
    ("effect", ["Burt 2005", "Cole 2010", "Ames 2001", "Dunn 2012"]),
    ("weight", ["Dunn 2012", "Cole 2010", "Ames 2001", "Burt 2005"]),
    ("label", ["Ames 2001", "Burt 2005", "Cole 2010", "Dunn 2012"]),
])
def test_forest_sort_orders(effects, sort, expected):
    assert tick_labels(plots.forest_plot(effects, sort=sort))[:4] == expected


def test_forest_sort_is_stable(effects):
    effects = effects.assign(yi=[-5.0, -5.0, -5.0, -5.0])
    assert tick_labels(plots.forest_plot(effects, sort="effect"))[:4] == list(effects["study"])


def test_forest_unusable_row_stays_with_its_reason(effects):
    effects = effects.assign(usable=[True, False, True, True], problem=["", "sd_int is missing", "", ""])
    effects.loc[1, ["yi", "vi"]] = np.nan
    ax = plots.forest_plot(effects)
    assert tick_labels(ax)[:4] == list(effects["study"])
    assert len(by_gid(ax, "study-squares")[0].get_offsets()) == 3
    assert "no estimate (sd_int is missing)" in [t.get_text() for t in by_gid(ax, "effect-text")]


def test_forest_risk_of_bias_column(effects):
    rob = pd.DataFrame({"key": ["cole2010", "ames2001", "burt2005"], "category": ["low", "high", "some concerns"]})
    ax = plots.forest_plot(effects, rob=rob)
    counts = {g: len(by_gid(ax, f"rob-{g}")[0].get_offsets()) for g in ("low", "high", "some concerns", "not assessed")}
    assert counts == {"low": 1, "high": 1, "some concerns": 1, "not assessed": 1}
    colours = {g: tuple(by_gid(ax, f"rob-{g}")[0].get_facecolor()[0]) for g in counts}
    assert len(set(colours.values())) == 4
    assert "RoB" in [t.get_text() for t in ax.texts]


def test_forest_plots_one_panel_per_analysis(review):
    fig = plots.forest_plots(review, "yoga")
    expected = review.pooled[(review.pooled["modality"] == "yoga") & (review.pooled["k"] >= 2)]
    assert isinstance(fig, Figure) and len(fig.axes) == len(expected) > 0
    for ax, (_, row) in zip(fig.axes, expected.iterrows(), strict=True):
        xs = by_gid(ax, "pooled-diamond")[0].get_xy()[:, 0]
        assert (min(xs), max(xs)) == pytest.approx((row["ci_low"], row["ci_high"]))


def test_forest_plots_draw_the_trials_that_were_pooled(review):
    """Each panel shows exactly the k trials of its pooled row: an analysis never pools across population groups,
    and its forest plot must not show a trial of another group (UK BEAM, a mixed population, once sat in the plot
    of exercise vs usual care for chronic pain, k=2, as a third square)."""
    for modality in ("exercise", "acupuncture", "spinal-manipulation", "yoga"):
        fig = plots.forest_plots(review, modality)
        expected = review.pooled[(review.pooled["modality"] == modality) & (review.pooled["k"] >= 2)]
        for ax, (_, row) in zip(fig.axes, expected.iterrows(), strict=True):
            squares = by_gid(ax, "study-squares")[0]
            assert len(squares.get_offsets()) == int(row["k"]), (modality, row["outcome"], row["window"])
            assert f"Pooled (k={int(row['k'])}" in " ".join(tick_labels(ax))
        plt.close(fig)


def test_forest_plots_without_analysis_says_so(review):
    fig = plots.forest_plots(review, "foam-rolling")
    assert "no analysis with 2 or more trials" in by_gid(fig.axes[0], "no-analysis")[0].get_text()


# --- funnel ----------------------------------------------------------------------------------------------


def test_funnel_points_limits_and_egger_note(effects):
    ax = plots.funnel_plot(effects)
    assert len(by_gid(ax, "funnel-studies")[0].get_offsets()) == 4
    assert ax.yaxis_inverted()
    assert "Egger needs k >= 10 (k=4)" in ax.get_title()
    res = lbp.meta_analysis(effects)
    assert by_gid(ax, "funnel-centre")[0].get_xdata()[0] == pytest.approx(res.estimate)


def test_funnel_runs_egger_with_ten_studies():
    rng = np.random.default_rng(1)
    eff = pd.DataFrame({"yi": rng.normal(-0.3, 0.2, 12), "vi": rng.uniform(0.01, 0.1, 12)})
    assert "Egger intercept" in plots.funnel_plot(eff).get_title()


# --- risk of bias -----------------------------------------------------------------------------------------


@pytest.fixture
def rob2():
    return pd.DataFrame({"key": ["a", "b", "c"], "study": ["Ames 2001", "Burt 2005", "Cole 2010"],
                         "rob": ["low", "high", ""],
                         "D1": ["low", "low", ""], "D2": ["low", "some-concerns", ""], "D3": ["low", "high", ""],
                         "D4": ["low", "low", ""], "D5": ["low", "", ""]})


def test_rob_traffic_light_rob2_domains_and_legend(rob2):
    ax = plots.rob_traffic_light(rob2)
    assert [t.split()[0] for t in tick_labels(ax, "x")] == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    assert tick_labels(ax) == ["Ames 2001", "Burt 2005", "Cole 2010"]
    assert legend_texts(ax.get_legend()) == ["low", "some concerns", "high", "not assessed"]
    counts = {c: len(by_gid(ax, f"rob-{c}")[0].get_offsets()) for c in plots.ROB_COLOURS}
    assert counts == {"low": 8, "some concerns": 1, "high": 2, "not assessed": 7}


def test_rob_traffic_light_drops_unassessed_on_request(rob2):
    ax = plots.rob_traffic_light(rob2, include_unassessed=False)
    assert tick_labels(ax) == ["Ames 2001", "Burt 2005"]
    assert "1 trials with no assessment" in ax.get_title(loc="left")


def test_rob_traffic_light_pedro_items_when_no_rob2(review):
    ax = plots.rob_traffic_light(review.rob)
    assert [t.split()[0] for t in tick_labels(ax, "x")] == [f"P{i}" for i in range(2, 12)] + ["PEDro"]
    assert len(tick_labels(ax)) == len(review.rob)
    assessed = plots.rob_traffic_light(review.rob, include_unassessed=False)
    n = int(review.rob["pedro"].notna().sum())
    assert len(tick_labels(assessed)) == n
    met = sum(int(review.rob[f"P{i}"].fillna(0).sum()) for i in range(2, 12))
    totals_low = int((review.rob["pedro"].dropna() >= 6).sum())
    assert len(by_gid(assessed, "rob-low")[0].get_offsets()) == met + totals_low


# --- audit chart -------------------------------------------------------------------------------------------


def test_audit_chart_bar_per_citation_coloured_by_verdict(review):
    table = review.audit
    ax = plots.audit_chart(table)
    bars = [p for p in ax.patches if p.get_gid() == "audit-bars" or p in ax.containers[0]]
    assert len(ax.containers[0]) == len(table)
    colours = [matplotlib.colors.to_hex(b.get_facecolor()) for b in ax.containers[0]]
    assert colours == [plots.VERDICT_COLOURS[v] for v in table["verdict"]]
    widths = [b.get_width() for b in ax.containers[0]]
    assert widths == [max(len(w), 0.08) for w in table["wrong_fields"]]
    notes = [t.get_text() for t in by_gid(ax, "audit-annotation")]
    assert [int(re.search(r"(\d+) wrong field", n).group(1)) for n in notes] == [len(w) for w in table["wrong_fields"]]
    assert legend_texts(ax.get_legend()) == list(plots.VERDICT_COLOURS)
    assert bars


def test_audit_chart_rejects_unknown_verdicts():
    table = pd.DataFrame({"printed_number": [1], "verdict": ["fabricated"], "wrong_fields": [[]]})
    with pytest.raises(ValueError, match=r"The value for `audit_citations_table` must have verdicts in "
                                         r"\['verified', 'garbled', 'conflated', 'not found'\], but \['fabricated'\]"):
        plots.audit_chart(table)


def test_rob_summary_counts_every_category(review):
    trials = tables.headline_trials(review)
    ax = plots.rob_summary(trials)
    labels = tick_labels(ax)
    assert labels[0] == f"All trials ({trials['key'].nunique()})"
    counts = {}
    for category in plots.ROB_COLOURS:
        (bars,) = [b for b in ax.containers if b.get_label() == category]
        counts[category] = bars.patches[0].get_width()  # the bar of all trials, at the top
        assert all(patch.get_gid() == f"rob-summary-{category}" for patch in bars.patches) or bars.get_gid()
    unique = trials.drop_duplicates("key")
    assert counts == {c: int((unique["category"] == c).sum()) for c in plots.ROB_COLOURS}
    shown = sum(int(t.get_text()) for t in by_gid(ax, "rob-count") if t.get_position()[1] == 0)
    assert shown == len(unique)  # each segment of the top bar says its count: not assessed counted, not listed
    assert "not assessed" in ax.get_title(loc="left") and "assessed" in ax.get_title(loc="left")


def test_rob_summary_rejects_unknown_categories():
    trials = pd.DataFrame({"key": ["a"], "category": ["unclear"]})
    with pytest.raises(ValueError, match=r"The value for `trials` must have categories in \['low', 'some concerns', "
                                         r"'high', 'not assessed'\], but \['unclear'\] was passed."):
        plots.rob_summary(trials, by=None)


def test_figure_png_is_the_same_on_every_run(review):
    first = plots.figure_png(maps.answer_map(review.headline).figure)
    second = plots.figure_png(maps.answer_map(review.headline).figure)
    assert first == second and first.startswith(b"\x89PNG") and b"Software" not in first
    assert plt.get_fignums() == []  # closed


# --- axes reuse and argument errors ---------------------------------------------------------------------------


def test_axes_level_functions_draw_on_the_given_axes(effects, review, rob2):
    calls = [
        lambda ax: plots.forest_plot(effects, ax=ax),
        lambda ax: plots.funnel_plot(effects, ax=ax),
        lambda ax: plots.rob_traffic_light(rob2, ax=ax),
        lambda ax: plots.audit_chart(review.audit, ax=ax),
        lambda ax: plots.rob_summary(tables.headline_trials(review), ax=ax),
    ]
    for call in calls:
        fig, ax = plt.subplots()
        assert call(ax) is ax
        assert plt.get_fignums() == [fig.number]
        plt.close(fig)


@pytest.mark.parametrize(("call", "message"), [
    (lambda e, r: plots.forest_plot(e, labels="author"),
     "The value for `labels` must be one of ['study', 'key'], but 'author' was passed."),
    (lambda e, r: plots.forest_plot(e, sort="size"),
     "The value for `sort` must be one of ['input', 'effect', 'weight', 'label'], but 'size' was passed."),
    (lambda e, r: plots.rob_traffic_light(r.rob, scheme="rob1"),
     "The value for `scheme` must be one of ['auto', 'rob2', 'pedro'], but 'rob1' was passed."),
    (lambda e, r: plots.forest_plots(r, "pilates"),
     "The value for `modality` must be one of ["),
    (lambda e, r: plots.forest_plot(e.drop(columns="vi")),
     "The value for `effects` must have the columns ['yi', 'vi'], but ['vi'] is missing"),
])
def test_bad_arguments_fail_seaborn_style(effects, review, call, message):
    with pytest.raises(ValueError) as error:
        call(effects, review)
    assert str(error.value).startswith(message)


def test_wrong_types_name_the_argument(effects):
    with pytest.raises(TypeError, match=r"The value for `ax` must be a matplotlib Axes or None, but str was passed"):
        plots.forest_plot(effects, ax="left")
    with pytest.raises(TypeError, match=r"The value for `result` must be a MetaResult, a pooled row"):
        plots.forest_plot(effects, result=3.5)
    with pytest.raises(TypeError, match=r"The value for `effects` must be a pandas DataFrame, but list was passed"):
        plots.forest_plot([1, 2])


def test_matplotlib_stays_out_of_the_package_import():
    import subprocess
    import sys

    code = "import sys, lbpevidence as lbp; lbp.load_review(); print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

"""Figures of the answer (answer map, evidence map, headline figure), checked through their artists."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import lbpevidence as lbp
from lbpevidence import maps, plots, tables
from lbpevidence.evidence import strength_order
from lbpevidence.vocabulary import CERTAINTY_LEVELS, MODALITIES, to_0_100
from test_plots import by_gid, legend_texts, tick_labels

ARTICLE_MODALITIES = [spec.label for spec in MODALITIES.values() if spec.in_article]


pytestmark = pytest.mark.usefixtures("close_figures")


# --- evidence map ----------------------------------------------------------------------------------------


def test_evidence_map_rows_cover_every_article_modality(review):
    for table in (review.headline, review.verdicts):
        rows = tick_labels(maps.evidence_map(table))
        assert set(ARTICLE_MODALITIES) <= set(rows)
        assert rows[: len(ARTICLE_MODALITIES)] == ARTICLE_MODALITIES


def test_evidence_map_modality_without_rows_is_still_a_row(review):
    table = review.headline[review.headline["modality"] != "foam-rolling"]
    ax = maps.evidence_map(table)
    assert "Foam rolling" in tick_labels(ax)
    row = -tick_labels(ax).index("Foam rolling")
    no_trials = by_gid(ax, "no trials")[0].get_offsets()
    assert sum(1 for x, y in no_trials if y == row) == 2  # pain and disability


def test_evidence_map_three_kinds_look_different(review):
    ax = maps.evidence_map(review.verdicts)
    kinds = {kind: by_gid(ax, kind)[0] for kind in ("pooled", "not pooled", "no trials")}
    assert all(len(c.get_offsets()) > 0 for c in kinds.values())
    paths = {kind: c.get_paths()[0].vertices.round(6).tobytes() for kind, c in kinds.items()}
    assert len(set(paths.values())) == 3  # three marker shapes
    assert kinds["pooled"].get_facecolor()[:, 3].min() > 0  # filled
    assert len(kinds["not pooled"].get_facecolor()) == 0 or kinds["not pooled"].get_facecolor()[:, 3].max() == 0
    labels = legend_texts(ax.get_legend())
    assert [label for label in labels if label in {s[2] for s in maps.MAP_STYLES.values()}] == \
        [s[2] for s in maps.MAP_STYLES.values()]
    assert [f"certainty: {c}" for c in CERTAINTY_LEVELS] == [t for t in labels if t.startswith("certainty")]


def test_evidence_map_cell_kinds_follow_the_basis(review):
    ax = maps.evidence_map(review.headline)
    rows, columns = tick_labels(ax), tick_labels(ax, "x")
    pooled = {(rows[-int(y)], columns[int(x)]) for x, y in by_gid(ax, "pooled")[0].get_offsets()}
    head = review.headline[review.headline["primary"]]
    head = head.assign(label=head["modality"].map(lambda m: MODALITIES[m].label), column=head["outcome"].str.title())
    expected = set(zip(*head[head["basis"].isin(["pooled", "published review"])][["label", "column"]].T.values,
                       strict=True))
    assert pooled == expected


def test_evidence_map_agrees_with_the_headline_whatever_table_it_is_given(review):
    """The certainty colour of a cell is the primary answer's, from the headline or from the verdicts alike
    (the verdicts once coloured exercise/pain by its last comparison, low, against the table's moderate)."""
    colours = []
    for table in (review.headline, review.verdicts):
        ax = maps.evidence_map(table)
        rows, columns = tick_labels(ax), tick_labels(ax, "x")
        cells = by_gid(ax, "pooled")[0]
        colours.append({(rows[-int(y)], columns[int(x)]): tuple(np.round(c, 3))
                        for (x, y), c in zip(cells.get_offsets(), cells.get_facecolors(), strict=True)})
    assert colours[0] == {cell: c for cell, c in colours[1].items() if cell[1] in ("Pain", "Disability")}
    exercise_pain = colours[0][("Exercise therapy", "Pain")]
    assert exercise_pain == tuple(np.round(matplotlib.colors.to_rgba(plots.CERTAINTY_COLOURS["moderate"]), 3))


def test_evidence_map_size_by_participants_changes_sizes(review):
    by_studies = by_gid(maps.evidence_map(review.headline), "pooled")[0].get_sizes()
    by_people = by_gid(maps.evidence_map(review.headline, size="participants"), "pooled")[0].get_sizes()
    assert len(by_studies) == len(by_people) and not np.allclose(by_studies, by_people)
    assert "participants" in maps.evidence_map(review.headline, size="participants").get_title(loc="left")


# --- headline figure ---------------------------------------------------------------------------------------


def test_headline_figure(review):
    fig = maps.headline_figure(review)
    assert isinstance(fig, Figure)
    pain, disability = fig.axes
    assert [pain.get_title(), disability.get_title()] == ["Pain", "Disability"]
    assert tick_labels(pain)[: len(ARTICLE_MODALITIES)] == ARTICLE_MODALITIES
    mids = [line.get_xdata()[0] for ax in (pain, disability) for line in by_gid(ax, "mid-line")]
    assert mids == [-15.0, -10.0]
    for ax, outcome in ((pain, "pain"), (disability, "disability")):
        rows = review.headline[(review.headline["outcome"] == outcome) & review.headline["primary"]]
        finite = rows["measure"].isin(["MD100", "SMD"]) & rows["estimate"].notna()
        points = [line for line in ax.lines if (line.get_gid() or "").startswith("basis-")]
        assert len(points) == int(finite.sum())
        assert {line.get_gid() for line in points} == {f"basis-{b}" for b in rows[finite]["basis"]}
        assert len(by_gid(ax, "no-estimate")) == int((~finite).sum())
    labels = legend_texts(fig.legends[0])
    assert all(c in labels for c in CERTAINTY_LEVELS) and "not rated" not in labels
    assert "minimal important difference (Hayden 2021)" in labels


def test_headline_figure_point_is_the_effect_on_0_100(review):
    fig = maps.headline_figure(review, xlim=(-200.0, 200.0))
    row = review.headline[(review.headline["modality"] == "exercise") & (review.headline["outcome"] == "pain")].iloc[0]
    y = -tick_labels(fig.axes[0]).index(MODALITIES["exercise"].label)
    point = next(line for line in fig.axes[0].lines if (line.get_gid() or "").startswith("basis-")
             and line.get_ydata()[0] == y)
    assert point.get_xdata()[0] == pytest.approx(to_0_100(row["measure"], "pain", row["estimate"]))


# --- the answer map -------------------------------------------------------------------------------------------


def test_answer_map_rows_follow_the_strength_of_evidence(review):
    ax = maps.answer_map(review.headline)
    order = strength_order(review.headline)
    assert tick_labels(ax) == [MODALITIES[m].label for m in order]
    assert tick_labels(ax, "x") == ["Pain, 0–100 (95% CI)", "Disability, 0–100 (95% CI)"]
    table = tables.answer_table(review)
    assert tick_labels(ax) == list(table["modality"])  # the index page's table and its figure agree


def test_answer_map_colour_is_the_verdict_and_dots_the_certainty(review):
    ax = maps.answer_map(review.headline)
    primary = review.headline[review.headline["primary"]]
    filled = by_gid(ax, "certainty-filled")[0]
    empty = by_gid(ax, "certainty-empty")[0]
    assert len(filled.get_offsets()) == sum(maps.CERTAINTY_DOTS[c] for c in primary["certainty"])
    assert len(filled.get_offsets()) + len(empty.get_offsets()) == 4 * len(primary)
    order = strength_order(review.headline)
    for (x, y), colour in zip(filled.get_offsets(), filled.get_facecolors(), strict=True):
        modality = order[-round(y)]
        outcome = ("pain", "disability")[int(x)]
        answer = primary[(primary["modality"] == modality) & (primary["outcome"] == outcome)].iloc[0]
        assert np.allclose(colour, matplotlib.colors.to_rgba(plots.ANSWER_COLOURS[answer["verdict"]]))


def test_answer_map_says_the_effect_the_verdict_and_the_comparison(review):
    ax = maps.answer_map(review.headline)
    effects = [t.get_text() for t in by_gid(ax, "answer-effect")]
    contexts = [t.get_text().replace("\n", " ") for t in by_gid(ax, "answer-context")]
    assert "−15 (−18 to −12)  benefit, possibly important" in effects  # Hayden 2021, as printed
    assert "−7 (−8 to −5)  benefit below MID" in effects
    assert any(c.startswith("moderate certainty; vs no treatment, usual care or placebo (mixed); chronic")
               for c in contexts)
    assert len(effects) == len(contexts) == len(review.headline[review.headline["primary"]])
    assert all(v in plots.ANSWER_COLOURS for v in lbp.vocabulary.VERDICTS)  # every verdict has its colour
    legend = legend_texts(ax.get_legend())
    assert legend[-4:] == [f"{c} certainty" for c in maps.CERTAINTY_DOTS]


# --- axes reuse and argument errors ---------------------------------------------------------------------------


def test_axes_level_functions_draw_on_the_given_axes(review):
    for draw in (maps.evidence_map, maps.answer_map):
        fig, ax = plt.subplots()
        assert draw(review.headline, ax=ax) is ax
        assert plt.get_fignums() == [fig.number]
        plt.close(fig)


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: maps.evidence_map(r.headline, size="trials"),
     "The value for `size` must be one of ['studies', 'participants'], but 'trials' was passed."),
    (lambda r: maps.headline_figure(r, outcomes=["pain", "mood"]),
     "The value for `outcomes` must be one of ["),
])
def test_bad_arguments_fail_seaborn_style(review, call, message):
    with pytest.raises(ValueError) as error:
        call(review)
    assert str(error.value).startswith(message)

"""read_outcomes: parsing, derived columns, windows and the one-row-per-analysis rule."""

from __future__ import annotations

import pytest

import lbpevidence as lbp
from conftest import bib_entry
from lbpevidence.outcomes import OUTCOME_COLUMNS

HEADER = ",".join(OUTCOME_COLUMNS)


def row(**values: str) -> str:
    base = {"key": "doe2020trial", "outcome": "pain", "instrument": "pain-0-10", "timepoint_weeks": "8",
            "population": "chronic", "intervention": "acupuncture", "comparator": "sham",
            "data_type": "reported-effect", "effect_type": "MD",
            "estimate": "-1.2", "ci_low": "-2.0", "ci_high": "-0.4", "sign_convention": "scale", "pool": "yes",
            "source_url": "https://pubmed.ncbi.nlm.nih.gov/12345678/", "source_location": "abstract"}
    base.update(values)
    return ",".join(base.get(column, "") for column in OUTCOME_COLUMNS)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "studies.bib").write_text(bib_entry(), encoding="utf-8")
    return tmp_path


def read(folder, *rows: str, strict: bool = False):
    (folder / "outcomes.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return lbp.read_outcomes(folder / "outcomes.csv", strict=strict)


def test_a_valid_row_is_typed_and_joined_to_its_study(folder):
    table = read(folder, row(), strict=True)
    first = table.iloc[0]
    assert (first.estimate, first.ci_low, first.ci_high) == (-1.2, -2.0, -0.4)
    assert (first.modality, first.comparator_class, first.window) == ("acupuncture", "sham", "short-term")
    assert (first.design, first.level, first.population, first.study) == ("rct", "trial", "chronic", "Doe 2020")
    assert bool(first.pool) and bool(first.valid) and first.line == 2


@pytest.mark.parametrize(("weeks", "window"), [("1", "immediate"), ("13.035", "short-term"), ("26", "intermediate"),
                                               ("52.14", "intermediate"), ("104", "long-term")])
def test_time_points_fall_in_windows(folder, weeks, window):
    assert read(folder, row(timepoint_weeks=weeks), strict=True).window.iloc[0] == window


def test_a_window_stands_in_for_a_missing_time_point(folder):
    table = read(folder, row(timepoint_weeks="", window="immediate"), strict=True)
    assert table.window.iloc[0] == "immediate" and table.timepoint_weeks.isna().iloc[0]


def test_window_and_time_point_must_agree(folder):
    _, problems = read(folder, row(timepoint_weeks="8", window="long-term"))
    assert problems.message.tolist() == [
        f"{folder / 'outcomes.csv'}:2 doe2020trial window: found 'long-term', expected the window of "
        "timepoint_weeks 8 ('short-term') or an empty cell"]


def test_neither_time_point_nor_window_is_an_error(folder):
    _, problems = read(folder, row(timepoint_weeks=""))
    assert problems.field.tolist() == ["timepoint_weeks"]


def test_a_study_counted_twice_in_one_analysis_is_reported(folder):
    table, problems = read(folder, row(), row(estimate="-1.0", ci_low="-1.9", ci_high="-0.1", timepoint_weeks="12"))
    assert problems.message.tolist() == [
        f"{folder / 'outcomes.csv'}:3 doe2020trial pool: found a second pooled row for the same study, modality, "
        "outcome, population, comparator class and window (line 2), expected pool=no on all but one, with the reason "
        "in notes"]
    assert len(table) == 2  # both rows stay; the second is marked invalid
    assert table.valid.tolist() == [True, False]


def test_pool_no_resolves_the_double_count(folder):
    _, problems = read(folder, row(), row(timepoint_weeks="12", pool="no"))
    assert problems.empty


def test_review_rows_are_not_checked_for_double_counting(folder):
    (folder / "studies.bib").write_text(bib_entry(design="systematic-review"), encoding="utf-8")
    table, problems = read(folder, row(), row(timepoint_weeks="12"))
    assert problems.empty and set(table.level) == {"review"}


def test_unknown_key_and_instrument_outcome_mismatch(folder):
    _, problems = read(folder, row(key="nobody2020"), row(instrument="rmdq-24"))
    assert [(p.line, p.field) for p in problems.itertuples()] == [(2, "key"), (3, "instrument")]
    assert "an instrument measuring pain (this one measures disability)" in problems.expected.iloc[1]


def test_arm_level_rows_need_every_arm_number(folder):
    _, problems = read(folder, row(data_type="final", effect_type="", estimate="", ci_low="", ci_high="",
                                   sign_convention="", mean_int="4.1", sd_int="2", n_int="30", mean_ctl="5"))
    assert sorted(problems.field) == ["n_ctl", "sd_ctl"]


def test_intervention_outside_the_studys_modalities_is_a_warning(folder):
    _, problems = read(folder, row(intervention="yoga"))
    assert problems.severity.tolist() == ["warning"] and problems.field.tolist() == ["intervention"]


def test_reported_certainty_must_be_a_grade_level(folder):
    _, problems = read(folder, row(reported_certainty="very high"))
    assert problems.field.tolist() == ["reported_certainty"]


def test_bundled_outcomes_join_every_row():
    outcomes = lbp.read_outcomes()
    assert outcomes.study.str.len().gt(0).all() and outcomes.valid.all()


# --- population and CI level, per row -------------------------------------------------------------------


def test_population_is_read_per_row_and_grouped(folder):
    table = read(folder, row(population="subacute"), row(population="not-reported", outcome="disability",
                                                         instrument="rmdq-24"), strict=True)
    assert table.population.tolist() == ["subacute", "not-reported"]
    assert table.population_group.tolist() == ["acute", "mixed"]
    assert table.study_population.tolist() == ["chronic", "chronic"]


def test_an_empty_population_falls_back_to_the_study_with_a_warning(folder):
    table, problems = read(folder, row(population=""))
    assert table.population.iloc[0] == "chronic"
    assert problems.severity.tolist() == ["warning"]
    assert problems.message.iloc[0].startswith(f"{folder / 'outcomes.csv'}:2 doe2020trial population: found an "
                                               "empty cell, expected the population of this contrast")
    assert "the study's 'chronic' is used" in problems.message.iloc[0]


def test_a_misspelt_population_is_an_error(folder):
    _, problems = read(folder, row(population="chornic"))
    assert problems.message.tolist() == [
        f"{folder / 'outcomes.csv'}:2 doe2020trial population: found 'chornic', expected a known population "
        "(did you mean 'chronic'?); see refs/README.md"]


@pytest.mark.parametrize("level", ["0", "50", "100", "950"])
def test_a_ci_level_outside_50_to_100_percent_is_an_error(folder, level):
    _, problems = read(folder, row(ci_level=level))
    assert [p for p in problems.message if "ci_level" in p] == [
        f"{folder / 'outcomes.csv'}:2 doe2020trial ci_level: found '{level}', expected a confidence level in percent "
        "above 50 and below 100 (95 when empty; 90 for a 90% CI)"]


# z quantiles from a printed normal table, not from the code under test: z(0.95) and z(0.975), and
# z(1 - 0.05/6) for a Bonferroni interval over three comparisons (98.33%).
Z_90, Z_95, Z_9833 = 1.6448536269514722, 1.959963984540054, 2.3939797998185104


@pytest.mark.parametrize(("level", "z"), [("", Z_95), ("95", Z_95), ("90", Z_90), ("98.33333333333333", Z_9833)])
def test_the_ci_level_sets_the_standard_error(folder, level, z):
    table = read(folder, row(ci_level=level, estimate="-1.2", ci_low="-2.0", ci_high="-0.4"), strict=True)
    effects = lbp.effect_sizes(table, measure="MD")
    assert effects.sei.iloc[0] == pytest.approx(1.6 / (2 * z), rel=1e-9)
    # the effect's own CI is always the 95% Wald interval, whatever level the source printed
    assert effects.yi_ci_high.iloc[0] - effects.yi_ci_low.iloc[0] == pytest.approx(2 * Z_95 * 1.6 / (2 * z))


def test_the_same_study_may_feed_two_population_groups(folder):
    # a review-style trial report with separate acute and chronic subgroups: two analyses, not double counting
    _, problems = read(folder, row(population="acute"), row(population="chronic", estimate="-1.0", ci_low="-1.9",
                                                            ci_high="-0.1"))
    assert not [p for p in problems.message if "pool" in p]


def test_a_number_read_on_a_mirror_is_marked_as_such(folder):
    table = read(folder, row(source_url="http://47.251.13.51:8081/12345678"),
                 row(outcome="disability", instrument="rmdq-24"), strict=True)
    assert table.source_mirror.tolist() == ["a raw IP address", ""]

"""The public API is pinned: the names of ``lbpevidence`` and of each module's ``__all__``.

A change here is a change of the public API: make it on purpose, and say so in the commit. Every
name listed must exist, every module must declare ``__all__``, and what the package re-exports
must be the object its home module defines.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import lbpevidence as lbp

PUBLIC_API = {
    "lbpevidence": [
        '__version__', 'answers', 'audit_citations', 'AuditResult', 'AuditThresholds', 'begg_test',
        'bundled_refs', 'check_claims', 'ClaimRules', 'ClaimsTableError', 'compare_reviews', 'coverage',
        'effect_sizes', 'egger_test', 'EggerResult', 'grade', 'GradeRules', 'headline', 'import_records',
        'judge_effect', 'LbpEvidenceError', 'leave_one_out', 'load_review', 'meta_analysis', 'meta_by',
        'MetaResult', 'OutcomeTableError', 'Problem', 'read_claims', 'read_outcomes', 'read_overrides',
        'read_references', 'ReferenceTableError', 'Review', 'risk_of_bias_table', 'StatisticsError',
        'subgroup_differences', 'summary_of_findings'
    ],
    "lbpevidence.cache": ['cache_dir', 'cache_key', 'cached_problems', 'enabled', 'gc_paused', 'load', 'store'],
    "lbpevidence.citations": [
        'audit_citations', 'AUDIT_FIELDS', 'AuditResult', 'AuditThresholds', 'CITATION_COLUMNS',
        'CITATION_VERDICTS', 'FIELD_COLUMNS'
    ],
    "lbpevidence.claims": [
        'check_claims', 'CLAIM_COLUMNS', 'CLAIM_DIRECTIONS', 'CLAIM_RESULT_COLUMNS', 'CLAIM_STRENGTHS',
        'CLAIM_VERDICTS', 'ClaimRules', 'parse_claims', 'read_claims', 'VERDICT_TABLE_COLUMNS'
    ],
    "lbpevidence.cli": ['DEFAULT_WIDTH', 'fit_table', 'format_table', 'main', 'output_width'],
    "lbpevidence.effects": [
        'CONTINUITY_TO', 'CONVENTION', 'EFFECT_COLUMNS', 'effect_sizes', 'hedges_correction', 'MEASURES',
        'METAFOR_COLUMNS', 'rows_to_problems', 'Z_95'
    ],
    "lbpevidence.errors": [
        'check_choice', 'ClaimsTableError', 'is_blank', 'LbpEvidenceError', 'OutcomeTableError', 'Problem',
        'PROBLEM_COLUMNS', 'problems_frame', 'raise_for_problems', 'ReferenceTableError', 'StatisticsError',
        'table_result'
    ],
    "lbpevidence.evidence": [
        'ANSWER_COLUMNS', 'answers', 'choose', 'CORE_MODALITIES', 'for_claim', 'headline', 'QUESTION_COLUMNS', 'rank',
        'strength_order', 'tier', 'TIERS'
    ],
    "lbpevidence.grading": [
        'BASES', 'grade', 'GradeRules', 'GROUP_COLUMNS', 'judge_effect', 'Judgement', 'poolable',
        'pooled_trials', 'risk_of_bias_table', 'rob_category', 'summary_of_findings', 'VERDICT_COLUMNS',
        'verdict_for'
    ],
    "lbpevidence.importers": [
        'apply_evidence', 'assign_keys', 'check_source_template', 'detect_format', 'DUPLICATE_COLUMNS',
        'DUPLICATE_STATUSES', 'DuplicateRules', 'find_duplicates', 'FORMATS', 'IMPORT_COLUMNS',
        'import_records', 'import_text', 'KEY_STOP_WORDS', 'make_key', 'SOURCE_PLACEHOLDERS', 'unique_key'
    ],
    "lbpevidence.latex": ['decode_latex', 'decode_many', 'needs_decoding', 'normalise_pages'],
    "lbpevidence.maps": [
        'answer_map', 'BASIS_MARKERS', 'CERTAINTY_DOTS', 'evidence_map', 'headline_figure', 'MAP_STYLES'
    ],
    "lbpevidence.matching": [
        'ascii_fold', 'author_name', 'AuthorComparison', 'AuthorName', 'cell_text', 'compare_authors', 'fold',
        'JOURNAL_ABBREVIATIONS', 'journal_similarity', 'name_key', 'normalise_journal', 'normalise_title',
        'page_range', 'same_journal', 'same_number', 'same_pages', 'similar_titles', 'title_similarity'
    ],
    "lbpevidence.meta": [
        'BEGG_COLUMNS', 'begg_test', 'BeggResult', 'CI_METHODS', 'ConvergenceWarning', 'EGGER_COLUMNS',
        'egger_test', 'EggerResult', 'leave_one_out', 'LEAVE_ONE_OUT_COLUMNS', 'meta_analysis', 'meta_by',
        'MetaResult', 'METHODS', 'PRESETS', 'RESULT_COLUMNS', 'subgroup_differences', 'TAU2_MODELS', 'TESTS'
    ],
    "lbpevidence.meta.bias": [
        'BEGG_COLUMNS', 'begg_test', 'BeggResult', 'EGGER_COLUMNS', 'EGGER_MODELS', 'egger_test', 'EggerResult'
    ],
    "lbpevidence.meta.estimators": [
        'brentq', 'Control', 'ConvergenceWarning', 'DEFAULT_CONTROL', 'Estimate', 'fisher_scoring',
        'knha_scale', 'MAX_ITER', 'q_at', 'REML_THRESHOLD', 'sum_of_others', 'tau2_dl', 'tau2_pm',
        'tau2_qprofile', 'tau2_reml'
    ],
    "lbpevidence.meta.pooling": [
        'analyse', 'as_studies', 'check_columns', 'check_instruments', 'CI_METHODS', 'CI_TO_TEST',
        'leave_one_out', 'LEAVE_ONE_OUT_COLUMNS', 'meta_analysis', 'meta_by', 'MetaResult', 'METHODS',
        'Options', 'PRESETS', 'resolve_options', 'RESULT_COLUMNS', 'single_measure', 'split_groups', 'Studies',
        'TEST_TO_CI', 'TESTS'
    ],
    "lbpevidence.meta.regression": ['fit_regression', 'Regression', 'wald_test'],
    "lbpevidence.meta.subgroups": ['subgroup_differences', 'TAU2_MODELS'],
    "lbpevidence.names": [
        'author_list', 'format_name', 'initials', 'last_name', 'split_authors', 'split_authors_many',
        'split_name', 'TRUNCATION_MARKS'
    ],
    "lbpevidence.outcomes": [
        'DERIVED_COLUMNS', 'NUMERIC_COLUMNS', 'OUTCOME_COLUMNS', 'parse_outcomes', 'read_outcomes'
    ],
    "lbpevidence.overrides": ['OVERRIDE_COLUMNS', 'read_overrides'],
    "lbpevidence.paths": ['bundled_refs', 'resolve_refs_file'],
    "lbpevidence.plots": [
        'ANSWER_COLOURS', 'audit_chart', 'CERTAINTY_COLOURS', 'figure_png', 'forest_plot', 'forest_plots',
        'funnel_plot', 'ROB_COLOURS', 'rob_summary', 'rob_traffic_light', 'VERDICT_COLOURS'
    ],
    "lbpevidence.references": ['parse_bibtex', 'read_references', 'REFERENCE_COLUMNS'],
    "lbpevidence.refsio": [
        'append_entries', 'AppendResult', 'ENTRY_FIELDS', 'format_entry', 'latex_escape', 'lock',
        'stale_temporary_files'
    ],
    "lbpevidence.report": [
        'build_report', 'execute_notebook', 'execute_notebooks', 'index_page', 'NOTEBOOKS', 'notebooks_dir', 'REFS_ENV',
        'refs_path', 'render_html'
    ],
    "lbpevidence.review": [
        'ANALYSIS', 'analysis_effects', 'compare_reviews', 'coverage', 'diff_markdown', 'load_review', 'Review',
        'review_effects'
    ],
    "lbpevidence.safety": ['is_web_url', 'markdown_safe', 'SafeStream', 'spreadsheet_safe', 'terminal_safe'],
    "lbpevidence.tables": [
        'answer_table', 'AnswerTable', 'assessed_trials', 'display_table', 'headline_table', 'headline_trials', 'Note',
        'outcome_rows', 'pooled_table', 'readable', 'single_trials', 'small_study_effects', 'study_labels',
        'summary_of_findings', 'Table', 'verdict_legend'
    ],
    "lbpevidence.textio": [
        'check_header', 'control_character', 'csv_rows', 'decode_bytes', 'MAX_INPUT_BYTES', 'not_regular',
        'read_input', 'read_text', 'text_lines'
    ],
    "lbpevidence.validation": [
        'BIBLIOGRAPHIC_FIELDS', 'BIBLIOGRAPHY_TYPES', 'check_record', 'ENTRY_TYPES', 'EVIDENCE_FIELDS',
        'is_doi', 'LIST_FIELDS', 'MIRROR_HOSTS', 'mirror_kind', 'normalise_doi', 'PRINTED_FIELDS', 'SCHEMAS'
    ],
    "lbpevidence.vocabulary": [
        'BASIS_LABELS', 'CERTAINTY_LEVELS', 'certainty_text', 'CERTAINTY_VERBS', 'column_label', 'COLUMN_LABELS',
        'Comparator', 'COMPARATORS', 'COMPARISON_LABELS', 'DATA_TYPES', 'Design', 'DESIGNS', 'EFFECT_TYPES', 'FINDINGS',
        'GRADE_DOMAINS', 'Instrument', 'INSTRUMENTS', 'interval_text', 'MEASURE_LABELS', 'mid_for', 'MID_RULE',
        'MID_SOURCE', 'MODALITIES', 'Modality', 'number_text', 'OUTCOME_MIDS', 'OUTCOME_WORDS', 'OUTCOMES',
        'POPULATION_GROUP_LABELS', 'POPULATION_GROUPS', 'POPULATIONS', 'resolve', 'ROB_JUDGEMENTS', 'scale_limit',
        'SIGN_CONVENTIONS', 'statement', 'Term', 'time_window', 'TIME_WINDOWS', 'TimeWindow', 'to_0_100',
        'TYPICAL_SD_0_100', 'TYPICAL_SD_SOURCE', 'Verdict', 'VERDICTS', 'vocabulary', 'WINDOW_LABELS'
    ],
}


def package_modules() -> list[str]:
    found = [m.name for m in pkgutil.walk_packages(lbp.__path__, "lbpevidence.") if not m.name.endswith("__main__")]
    return ["lbpevidence", *found]


def test_every_module_is_pinned():
    assert sorted(package_modules()) == sorted(PUBLIC_API)


@pytest.mark.parametrize("name", sorted(PUBLIC_API))
def test_all_is_as_pinned(name):
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} declares no __all__"
    assert sorted(module.__all__) == sorted(PUBLIC_API[name]), f"{name}.__all__ changed"
    assert len(module.__all__) == len(set(module.__all__)), f"{name}.__all__ lists a name twice"
    for attribute in module.__all__:
        assert hasattr(module, attribute), f"{name}.__all__ names {attribute!r}, which {name} does not have"


def test_the_package_hands_on_the_object_its_home_module_defines():
    for name in lbp.__all__:
        if name == "__version__":
            continue
        value = getattr(lbp, name)
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value
        assert name in getattr(home, "__all__", []), f"lbp.{name} is not in {home.__name__}.__all__"
    assert sorted(dir(lbp)) == sorted(lbp.__all__)


def test_a_module_exports_only_what_it_defines():
    """One home per name: a function or class in a module's __all__ is defined there (the package faces
    ``lbpevidence`` and ``lbpevidence.meta`` hand on their parts' names, and nothing else does)."""
    for name in package_modules():
        if name in ("lbpevidence", "lbpevidence.meta"):
            continue
        module = importlib.import_module(name)
        for attribute in module.__all__:
            origin = getattr(getattr(module, attribute), "__module__", name)  # constants have none
            assert origin == name, f"{name}.__all__ hands on {attribute} from {origin}: import it from there"

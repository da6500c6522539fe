"""refs/outcomes.csv -> one validated row per contrast, joined to its study.

Every cell is checked against the data dictionary (refs/README.md): controlled
terms, numbers that are finite and plausible for the instrument's scale, the
columns each ``data_type`` needs, a source for every row, and that no study would
count twice in one analysis. All problems are collected, each with file:line,
key and column.

Examples
--------
>>> out = read_outcomes()                     # bundled refs/
>>> {"key", "outcome", "instrument", "window", "level", "line"} <= set(out.columns)
True
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
from pathlib import Path
from typing import Literal, overload

import pandas as pd

from .cache import gc_paused
from .errors import OutcomeTableError, Problem, table_result
from .paths import resolve_refs_file
from .textio import check_header, control_character, csv_rows, read_text, text_lines
from .validation import mirror_kind
from .vocabulary import (
    CERTAINTY_LEVELS,
    COMPARATORS,
    DESIGNS,
    INSTRUMENTS,
    POPULATION_GROUPS,
    TIME_WINDOWS,
    resolve,
    time_window,
)

__all__ = ["DERIVED_COLUMNS", "NUMERIC_COLUMNS", "OUTCOME_COLUMNS", "parse_outcomes", "read_outcomes"]

OUTCOME_COLUMNS = [
    "key", "outcome", "instrument", "timepoint_weeks", "window", "population", "intervention", "intervention_detail",
    "comparator", "comparator_detail", "data_type", "mean_int", "sd_int", "n_int", "mean_ctl", "sd_ctl", "n_ctl",
    "events_int", "events_ctl", "effect_type", "estimate", "ci_low", "ci_high", "ci_level", "se", "sign_convention",
    "n_total", "k_studies", "reported_certainty", "pool", "source_url", "source_location", "notes",
]
REQUIRED_COLUMNS = ("key", "outcome", "instrument", "timepoint_weeks", "intervention", "comparator",
                    "data_type", "source_url", "source_location")
# `window` is optional: it names the follow-up window when the source gives no time in weeks
# ("immediately after treatment"), so that no placeholder number has to be invented.
FLOAT_COLUMNS = ("timepoint_weeks", "mean_int", "sd_int", "mean_ctl", "sd_ctl", "estimate", "ci_low",
                 "ci_high", "ci_level", "se")
INT_COLUMNS = ("n_int", "n_ctl", "events_int", "events_ctl", "n_total", "k_studies")
NUMERIC_COLUMNS = FLOAT_COLUMNS + INT_COLUMNS
DERIVED_COLUMNS = ["line", "modality", "comparator_class", "design", "level", "population_group",
                   "study_population", "year", "study", "study_unverified", "source_mirror", "valid"]

_MAX_N = 100_000          # no single trial arm in this field comes near this
_MAX_WEEKS = 520          # ten years of follow-up
_MAX_INT = 2**53          # integers above this are not exact as floats; counts are checked against _MAX_N
_URL = re.compile(r"^https?://\S+$")
_ARM_COLUMNS = ("mean_int", "sd_int", "n_int", "mean_ctl", "sd_ctl", "n_ctl")


class _Row:
    """One CSV row being checked: parsed values plus its problems."""

    def __init__(self, raw: dict[str, str], line: int, file: str) -> None:
        self.raw = raw
        self.line = line
        self.file = file
        self.key = (raw.get("key") or "").strip()
        self.end_line = line
        self.values: dict[str, object] = {}
        self.problems: list[Problem] = []

    def add(self, column: str, found: str, expected: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.file, self.line, self.key, column, found, expected, severity))

    def text(self, column: str) -> str:
        return (self.raw.get(column) or "").strip()

    def number(self, column: str, integer: bool = False) -> float | int | None:
        text = self.text(column)
        if not text:
            return None
        try:
            # float() also reads '1_000' and non-ASCII digits ('１２'): the data dictionary allows neither.
            value = float(text) if text.isascii() and "_" not in text else None
        except ValueError:
            value = None
        if value is None:
            self.add(column, repr(text), "an integer" if integer else "a number (decimal point '.')")
            return None
        if not math.isfinite(value):
            self.add(column, repr(text), "a finite number")
            return None
        if integer:
            if value != int(value):
                self.add(column, repr(text), "a whole number")
                return None
            if abs(value) > _MAX_INT:  # '1e308' is whole, but no count is that large (nor fits Int64)
                self.add(column, repr(text), f"a count of at most {_MAX_N:,}")
                return None
            return int(value)
        return value


def _check_cells(row: _Row, header: list[str], cells: list[str], end_line: int) -> None:
    """Cells that hold control characters, or line breaks (a quote left open swallows the rows after it)."""
    for column, cell in zip(header, cells, strict=False):
        control = control_character(cell)
        if control:
            row.add(column, control,
                    "printable text (a NUL or other control byte means a damaged file, or one not saved as UTF-8)")
        if "\n" in cell or "\r" in cell:
            row.add(column, f"a quoted cell running over lines {row.line}-{end_line} (a quote left open?)",
                    "one line per row: close the quote, and no line breaks inside a cell")


def _check_terms(row: _Row) -> None:
    for column, kind, required in (
        ("outcome", "outcome", True), ("instrument", "instrument", True), ("intervention", "modality", True),
        ("comparator", "comparator", True), ("data_type", "data_type", True),
        ("effect_type", "effect_type", False), ("sign_convention", "sign_convention", False),
        ("population", "population", False),
    ):
        text = row.text(column)
        if not text:
            if required:
                row.add(column, "an empty cell", f"a {kind} term; see refs/README.md")
            row.values[column] = ""
            continue
        term, suggestion = resolve(kind, text)
        if column == "effect_type" and term is None:
            term = text.upper() if text.upper() in ("MD", "SMD", "RR", "OR", "RD") else None
        if term is None:
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            row.add(column, repr(text), f"a known {kind}{hint}; see refs/README.md")
        row.values[column] = term or text
    certainty = row.text("reported_certainty").lower()
    if certainty and certainty not in CERTAINTY_LEVELS:
        row.add("reported_certainty", repr(row.text("reported_certainty")), f"one of {list(CERTAINTY_LEVELS)} or empty")
    row.values["reported_certainty"] = certainty
    pool = row.text("pool").lower() or "yes"
    if pool not in ("yes", "no"):
        row.add("pool", repr(row.text("pool")), "'yes', 'no' or empty (= yes)")
    row.values["pool"] = pool != "no"
    instrument = INSTRUMENTS.get(str(row.values["instrument"]))
    if instrument and row.values["outcome"] and instrument.outcome != row.values["outcome"]:
        row.add("instrument", repr(instrument.term),
                f"an instrument measuring {row.values['outcome']} (this one measures {instrument.outcome})")


def _check_numbers(row: _Row) -> None:
    for column in FLOAT_COLUMNS:
        row.values[column] = row.number(column)
    for column in INT_COLUMNS:
        row.values[column] = row.number(column, integer=True)
    weeks = row.values["timepoint_weeks"]
    if row.text("timepoint_weeks") and weeks is not None and not 0 < weeks <= _MAX_WEEKS:
        row.add("timepoint_weeks", repr(row.text("timepoint_weeks")), f"weeks above 0 and at most {_MAX_WEEKS}")
        weeks = row.values["timepoint_weeks"] = None
    window = row.text("window")
    if window and window not in TIME_WINDOWS:
        row.add("window", repr(window), f"one of {list(TIME_WINDOWS)}")
    elif window and weeks is not None and time_window(weeks) != window:
        row.add("window", repr(window), f"the window of timepoint_weeks {weeks:g} ('{time_window(weeks)}') or "
                "an empty cell")
    elif not window and weeks is None and not row.text("timepoint_weeks"):
        row.add("timepoint_weeks", "an empty cell", "weeks from randomisation, or a `window` term when the source "
                "gives no time (say so in notes)")
    row.values["window"] = window if window in TIME_WINDOWS else (time_window(weeks) if weeks is not None else "")
    for column in ("n_int", "n_ctl", "n_total", "k_studies"):
        value = row.values[column]
        if value is not None and not 0 < value <= _MAX_N:
            row.add(column, repr(row.text(column)), f"a count above 0 and at most {_MAX_N:,}")
    for column in ("sd_int", "sd_ctl", "se"):
        value = row.values[column]
        if value is not None and value <= 0:
            row.add(column, repr(row.text(column)), "a positive number")
    level = row.values["ci_level"]
    if level is not None and not 50 < level < 100:
        row.add("ci_level", repr(row.text("ci_level")),
                "a confidence level in percent above 50 and below 100 (95 when empty; 90 for a 90% CI)")
        row.values["ci_level"] = None
    if level is not None and not row.text("ci_low"):
        row.add("ci_level", repr(row.text("ci_level")), "an empty cell: ci_level describes ci_low and ci_high",
                "warning")


def _check_data_type(row: _Row) -> None:
    data_type = row.values.get("data_type")
    instrument = INSTRUMENTS.get(str(row.values.get("instrument")))
    v = row.values
    if data_type in ("final", "change"):
        for column in _ARM_COLUMNS:
            if v[column] is None and not any(p.field == column for p in row.problems):
                row.add(column, "an empty cell", f"a number (data_type {data_type} needs arm means, SDs and n)")
        if instrument and instrument.kind == "binary":
            row.add("data_type", repr(data_type), f"'events' for the binary instrument {instrument.term}")
        if instrument and instrument.scale_range is not None:
            for arm in ("int", "ctl"):
                mean, sd = v[f"mean_{arm}"], v[f"sd_{arm}"]
                low, high = instrument.scale_min, instrument.scale_max
                if mean is not None and data_type == "final" and not low <= mean <= high:
                    row.add(f"mean_{arm}", repr(row.text(f"mean_{arm}")),
                            f"a mean inside the {instrument.term} scale ({low:g} to {high:g})")
                if mean is not None and data_type == "change" and abs(mean) > instrument.scale_range:
                    row.add(f"mean_{arm}", repr(row.text(f"mean_{arm}")),
                            f"a change no larger than the scale width ({instrument.scale_range:g})")
                if sd is not None and sd > instrument.scale_range:
                    row.add(f"sd_{arm}", repr(row.text(f"sd_{arm}")),
                            f"an SD no larger than the scale width ({instrument.scale_range:g})")
    elif data_type == "events":
        for column in ("events_int", "n_int", "events_ctl", "n_ctl"):
            if v[column] is None and not any(p.field == column for p in row.problems):
                row.add(column, "an empty cell", "an integer (data_type events needs events and n per arm)")
        for arm in ("int", "ctl"):
            events, n = v[f"events_{arm}"], v[f"n_{arm}"]
            if events is not None and (events < 0 or (n is not None and events > n)):
                row.add(f"events_{arm}", repr(row.text(f"events_{arm}")), f"a count from 0 to n_{arm}")
    elif data_type == "reported-effect":
        _check_reported(row, instrument)
    if data_type in ("change", "reported-effect") and not row.text("sign_convention"):
        row.add("sign_convention", "an empty cell",
                "'scale' (intervention minus control) or 'improvement' (improvement printed as positive)")


def _check_reported(row: _Row, instrument) -> None:
    v = row.values
    effect = v.get("effect_type")
    if not effect:
        row.add("effect_type", "an empty cell", "MD, SMD, RR, OR or RD (data_type reported-effect)")
    if v["estimate"] is None and not any(p.field == "estimate" for p in row.problems):
        row.add("estimate", "an empty cell", "the reported point estimate")
    has_ci = v["ci_low"] is not None and v["ci_high"] is not None
    if not has_ci and v["se"] is None:
        row.add("ci_low", "no CI and no SE", "ci_low and ci_high, or se")
    if (v["ci_low"] is None) != (v["ci_high"] is None):
        row.add("ci_high" if v["ci_high"] is None else "ci_low", "one CI bound only", "both bounds")
    estimate = v["estimate"]
    if has_ci:
        if v["ci_low"] > v["ci_high"]:
            row.add("ci_low", f"ci_low {row.text('ci_low')} above ci_high {row.text('ci_high')}",
                    "ci_low <= ci_high")
        elif estimate is not None and not v["ci_low"] <= estimate <= v["ci_high"]:
            row.add("estimate", f"{row.text('estimate')} outside its CI ({row.text('ci_low')} to "
                    f"{row.text('ci_high')})", "an estimate inside its confidence interval")
    if effect in ("RR", "OR"):
        for column in ("estimate", "ci_low", "ci_high"):
            if v[column] is not None and v[column] <= 0:
                row.add(column, repr(row.text(column)), f"a positive ratio ({effect})")
    if instrument is not None:
        if effect in ("RR", "OR", "RD") and instrument.kind != "binary":
            row.add("effect_type", repr(effect), f"MD or SMD for the {instrument.kind} instrument {instrument.term}")
        if effect == "MD" and instrument.kind != "continuous":
            row.add("effect_type", "'MD'", f"SMD, RR, OR or RD for the {instrument.kind} instrument {instrument.term}")
        if effect == "MD" and estimate is not None and instrument.scale_range is not None \
                and abs(estimate) > instrument.scale_range:
            row.add("estimate", repr(row.text("estimate")),
                    f"a difference no larger than the scale width ({instrument.scale_range:g})")


_MAX_MAGNITUDE = 1e6      # no mean, SD, estimate or CI bound in this field comes near it
_MIN_SPREAD = 1e-6        # an SD or SE this small is a typo, and would blow an effect size up to overflow
_EFFECT_RANGES = {"SMD": (-10.0, 10.0, "a standardised mean difference from -10 to 10"),
                  "RD": (-1.0, 1.0, "a risk difference from -1 to 1"),
                  "RR": (1e-6, 1e6, "a ratio from 0.000001 to 1,000,000"),
                  "OR": (1e-6, 1e6, "a ratio from 0.000001 to 1,000,000")}


def _check_magnitudes(row: _Row) -> None:
    """Finite but absurd numbers (an SMD of 1e300, an SD of 1e-300): named here, not an OverflowError later."""
    v = row.values
    flagged = {p.field for p in row.problems}
    for column in FLOAT_COLUMNS:
        value = v.get(column)
        if value is None or column in flagged:
            continue
        if abs(value) > _MAX_MAGNITUDE:
            row.add(column, repr(row.text(column)), "a number from -1,000,000 to 1,000,000")
        elif column in ("sd_int", "sd_ctl", "se") and 0 < value < _MIN_SPREAD:
            row.add(column, repr(row.text(column)), f"a positive number of at least {_MIN_SPREAD:g}")
    effect = v.get("effect_type")
    if v.get("data_type") != "reported-effect" or effect not in _EFFECT_RANGES:
        return
    low, high, expected = _EFFECT_RANGES[effect]
    flagged = {p.field for p in row.problems}
    for column in ("estimate", "ci_low", "ci_high"):
        value = v.get(column)
        if value is not None and column not in flagged and not low <= value <= high:
            if effect in ("RR", "OR") and value <= 0:
                continue  # a non-positive ratio is reported by _check_reported
            row.add(column, repr(row.text(column)), expected)
    se = v.get("se")
    if effect == "SMD" and se is not None and "se" not in flagged and se > high:
        row.add("se", repr(row.text("se")), f"a standard error of at most {high:g} SD units")


def _check_source(row: _Row) -> None:
    url = row.text("source_url")
    if not url:
        row.add("source_url", "an empty cell", "the URL of the page the numbers were read on")
    elif not all(_URL.match(u) for u in url.split()):
        row.add("source_url", repr(url), "http(s) URL(s) separated by spaces")
    if not row.text("source_location"):
        row.add("source_location", "an empty cell", "where on the page ('abstract', 'Table 2')")
    # A mirror is fine as provenance (it is where the number was read), but a reader should see that it is one.
    row.values["source_mirror"] = "; ".join(kind for kind in map(mirror_kind, url.split()) if kind)


def _join_study(row: _Row, studies: dict[str, dict] | None) -> None:
    v = row.values
    v["line"] = row.line
    v["modality"] = v.get("intervention", "")
    comparator = COMPARATORS.get(str(v.get("comparator")))
    v["comparator_class"] = comparator.comparator_class if comparator else ""
    study = (studies or {}).get(row.key)
    if not row.key:
        row.add("key", "an empty cell", "a key of studies.bib")
    elif studies is not None and study is None:
        row.add("key", repr(row.key), "a key of studies.bib")
    study = study or {}
    design = study.get("design", "")
    v["design"] = design
    v["level"] = DESIGNS[design].level if design in DESIGNS else ""
    # The population of this contrast, as its source states it; an empty cell falls back to the study's.
    v["study_population"] = study.get("population", "")
    if not v.get("population"):
        v["population"] = v["study_population"]
        if study and study.get("design") != "guideline":
            row.add("population", "an empty cell", "the population of this contrast as the source states it "
                    f"(acute, subacute, acute-subacute, chronic, mixed, not-reported); the study's "
                    f"'{v['study_population'] or 'none'}' is used", "warning")
    v["population_group"] = POPULATION_GROUPS.get(str(v["population"]), "")
    v["year"] = study.get("year")
    year = study.get("year")
    v["study"] = f"{study.get('first_author') or row.key} {year if year is not None else ''}".strip()
    v["study_unverified"] = list(study.get("unverified") or [])
    modalities = study.get("modality") or []
    if study and v["modality"] and v["modality"] not in modalities:
        row.add("intervention", repr(v["modality"]),
                f"one of the study's modalities ({'; '.join(modalities) or 'none'})", "warning")


def _check_double_counting(rows: list[_Row]) -> None:
    """A study may contribute one pooled row per modality x outcome x population x comparator class x window."""
    seen: dict[tuple, _Row] = {}
    for row in rows:
        v = row.values
        if not v.get("pool") or v.get("level") != "trial":
            continue
        group = (row.key, v["modality"], v["outcome"], v["population_group"], v["comparator_class"], v["window"])
        if group in seen:
            first = seen[group]
            row.add("pool", "a second pooled row for the same study, modality, outcome, population, comparator "
                    f"class and window (line {first.line})", "pool=no on all but one, with the reason in notes")
        else:
            seen[group] = row


def _locate_in_row(problem: Problem, rows: list[_Row]) -> Problem:
    """Give a bad-byte problem (found before parsing) the key and column of the row and cell it is in."""
    if problem.field != "encoding" or problem.key or not problem.found.startswith("byte 0x"):
        return problem
    for row in rows:
        if row.line <= problem.line <= row.end_line:
            column = next((c for c, cell in row.raw.items() if "\ufffd" in (cell or "")), "encoding")
            return dataclasses.replace(problem, key=row.key, field=column)
    return problem


def parse_outcomes(text: str, file: str = "<string>", references: pd.DataFrame | None = None,
                   initial_problems: list[Problem] | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse outcomes CSV ``text`` into (table, problems); never raises on bad data.

    Linear in the number of rows, in time and memory: the cyclic garbage collector is paused
    while the rows are read (they are acyclic; its passes over a growing heap made a 1M-row file
    quadratic), each row's cells are dropped once its values are in the table's columns, and
    repeated text (a source URL shared by a study's rows) is stored once.
    """
    with gc_paused():
        return _parse_outcomes(text, file, references, initial_problems)


_GROUP_VALUES = ("pool", "level", "modality", "outcome", "population_group", "comparator_class", "window")
_TEXT_CELLS = ("intervention_detail", "comparator_detail", "source_url", "source_location", "notes", "key")


def _parse_outcomes(text: str, file: str, references: pd.DataFrame | None,
                    initial_problems: list[Problem] | None) -> tuple[pd.DataFrame, list[Problem]]:
    problems = list(initial_problems or [])
    # Cells are kept only to locate a bad byte found before parsing (see _locate_in_row).
    keep_cells = any(p.field == "encoding" and not p.key and p.found.startswith("byte 0x") for p in problems)
    reader = csv.reader(text_lines(text))
    rows_in_file = csv_rows(reader, file, problems)
    header = [h.strip() for h in next(rows_in_file, (0, 0, []))[2]]
    problems.extend(check_header(header, REQUIRED_COLUMNS, OUTCOME_COLUMNS, file, "contrast"))
    studies = None
    if references is not None:
        studies = {r["key"]: r for r in references.to_dict("records")}
    names = OUTCOME_COLUMNS + DERIVED_COLUMNS
    columns: dict[str, list] = {name: [] for name in names}
    shared: dict[str, str] = {}  # one str object per distinct text value
    rows: list[_Row] = []
    for line, end_line, cells in rows_in_file:
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        raw = dict(zip(header, cells, strict=False))
        if len(cells) != len(header):
            problems.append(Problem(file, line, (raw.get("key") or "").strip(), "",
                                    f"{len(cells)} cells", f"{len(header)} cells as in the header"))
        row = _Row(raw, line, file)
        row.end_line = end_line
        _check_cells(row, header, cells, end_line)
        _check_terms(row)
        _check_numbers(row)
        _check_data_type(row)
        _check_magnitudes(row)
        _check_source(row)
        _join_study(row, studies)
        record = {column: row.values.get(column, row.text(column)) for column in OUTCOME_COLUMNS}
        for column in _TEXT_CELLS:
            record[column] = row.text(column)
        record.update({column: row.values.get(column) for column in DERIVED_COLUMNS})
        for name in names:
            value = record[name]
            columns[name].append(shared.setdefault(value, value) if type(value) is str else value)
        if not keep_cells:
            row.raw = {}
        row.values = {name: row.values.get(name) for name in _GROUP_VALUES}
        rows.append(row)
    if header and not rows:
        problems.append(Problem(file, 0, "", "", "no rows", "one row per contrast", "warning"))
    _check_double_counting(rows)
    if keep_cells:
        problems = [_locate_in_row(p, rows) for p in problems]
    for row in rows:
        problems.extend(row.problems)
    columns["valid"] = [not any(p.severity == "error" for p in row.problems) for row in rows]
    del rows, shared
    table = pd.DataFrame(columns, columns=names)
    del columns
    for column in FLOAT_COLUMNS:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("float64")
    for column in (*INT_COLUMNS, "line"):
        table[column] = pd.array([None if pd.isna(x) else int(x) for x in table[column]], dtype="Int64")
    table["pool"] = table["pool"].astype(bool)
    table["valid"] = table["valid"].astype(bool)
    problems.sort(key=lambda p: (p.line, p.field))
    return table, problems


@overload
def read_outcomes(path: str | Path | None = ..., references: pd.DataFrame | None = ..., *,
                  strict: Literal[True] = ...) -> pd.DataFrame: ...
@overload
def read_outcomes(path: str | Path | None = ..., references: pd.DataFrame | None = ..., *,
                  strict: Literal[False]) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def read_outcomes(path: str | Path | None = None, references: pd.DataFrame | None = None, *,
                  strict: bool = True):
    """Read outcomes.csv into a validated DataFrame, one row per contrast.

    Parameters
    ----------
    path
        outcomes.csv, or a refs/ folder holding it; ``None`` = the bundled table.
    references
        The studies table (:func:`~lbpevidence.read_references`). ``None`` reads
        studies.bib from the same folder as the outcomes file.
    strict
        ``True``: raise :class:`~lbpevidence.errors.OutcomeTableError` listing every
        error. ``False``: return ``(table, problems)``; rows with errors stay in the
        table with ``valid = False``.

    Returns
    -------
    DataFrame
        The CSV columns (numbers as float / nullable Int64, terms canonical, ``pool``
        bool) plus ``line`` (1-based CSV line), ``modality`` (= intervention),
        ``comparator_class``, ``window`` (immediate, short-term, intermediate,
        long-term), the study's ``design``, ``level`` (trial rows are pooled, review
        rows are published pooled estimates), ``population`` (the row's, or the study's when
        the cell is empty) with ``population_group`` (acute, chronic, mixed) and
        ``study_population``, the study's ``year``, ``study`` label ("Cherkin 2009"),
        ``study_unverified`` (fields of the study marked unverified), ``source_mirror``
        (why the page the numbers were read on is a mirror, "" when it is not) and ``valid``.
    """
    from .references import read_references

    file_path = resolve_refs_file(path, "outcomes.csv")
    file = str(file_path)
    if references is None:
        sibling = file_path.parent / "studies.bib"
        references = read_references(sibling, strict=False)[0] if sibling.exists() else None
    if not file_path.exists() or file_path.is_dir():
        found = "a directory" if file_path.is_dir() else "no such file"
        problems = [Problem(file, 0, "", "", found, "an existing outcomes .csv file")]
        table = pd.DataFrame(columns=OUTCOME_COLUMNS + DERIVED_COLUMNS)
    else:
        text, problems = read_text(file_path, file)  # a FIFO, /dev/zero, bad bytes, UTF-16: located problems
        if text is None:
            table = pd.DataFrame(columns=OUTCOME_COLUMNS + DERIVED_COLUMNS)
        else:
            table, problems = parse_outcomes(text, file, references, problems)
            del text
    table.attrs["path"] = file
    return table_result(table, problems, strict, OutcomeTableError, file)

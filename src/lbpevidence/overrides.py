"""refs/overrides.csv: the human judgements on certainty that no rule can make (indirectness, above all).

Each row changes the certainty of one analysis (modality x outcome x comparator class x
window, or ``any`` of them) in one GRADE domain (:data:`lbpevidence.vocabulary.GRADE_DOMAINS`)
by one or two levels, with its rationale; :func:`lbpevidence.grading.grade` applies them on top
of the rule-based rating and shows both.

Examples
--------
>>> table = read_overrides()
>>> list(table.columns[:5])
['modality', 'outcome', 'comparator_class', 'window', 'domain']
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Literal, overload

import pandas as pd

from .errors import ClaimsTableError, Problem, table_result
from .paths import resolve_refs_file
from .safety import is_web_url
from .textio import check_header, control_character, csv_rows, read_text, text_lines
from .vocabulary import COMPARATOR_CLASSES, GRADE_DOMAINS, TIME_WINDOWS, resolve

__all__ = ["OVERRIDE_COLUMNS", "read_overrides"]

#: The columns of refs/overrides.csv (``source_url`` is optional).
OVERRIDE_COLUMNS = ["modality", "outcome", "comparator_class", "window", "domain", "change", "rationale", "source_url"]


@overload
def read_overrides(path: str | Path | None = ..., *, strict: Literal[True] = ...) -> pd.DataFrame: ...
@overload
def read_overrides(path: str | Path | None = ..., *, strict: Literal[False]) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def read_overrides(path: str | Path | None = None, *, strict: bool = True):
    """Read refs/overrides.csv: human judgements on certainty, each with its rationale.

    Columns: ``modality``, ``outcome``, ``comparator_class``, ``window`` (a term, or
    ``any``), ``domain`` (one of risk_of_bias, inconsistency, imprecision,
    publication_bias, indirectness), ``change`` (levels: -2, -1, +1 or +2; negative
    downgrades), ``rationale`` (required) and ``source_url`` (optional, an http(s) URL).

    Bad input is reported like every other table's, with file:line, the row's
    ``modality/outcome``, the column, what was found and what was expected: a file in
    another encoding (Latin-1 bytes, UTF-16), a row with too few or too many cells, a
    quoted cell running over several lines (the rows after it keep their own line
    numbers), control characters, and the same judgement given twice.
    """
    file_path = resolve_refs_file(path, "overrides.csv")
    file = str(file_path)
    problems: list[Problem] = []
    records = []
    text, problems = read_text(file_path, file, "an overrides .csv file")  # Latin-1, UTF-16: located problems
    if text is not None:
        rows = csv_rows(csv.reader(text_lines(text)), file, problems)
        header = [h.strip() for h in next(rows, (0, 0, []))[2]]
        problems.extend(check_header(header, OVERRIDE_COLUMNS[:-1], OVERRIDE_COLUMNS, file, "judgement"))
        missing = [c for c in OVERRIDE_COLUMNS[:-1] if c not in header]
        seen: dict[tuple, int] = {}
        for line, end_line, cells in rows:
            if missing:
                break  # the header problems say why no row can be read
            if not any(cell.strip() for cell in cells):
                continue
            raw = {column: cell for column, cell in zip(header, cells, strict=False)}
            cell = {c: (raw.get(c) or "").strip() for c in OVERRIDE_COLUMNS}
            key = f"{cell['modality']}/{cell['outcome']}"

            def add(field: str, found: str, expected: str, severity: str = "error", line: int = line,
                    key: str = key) -> None:
                problems.append(Problem(file, line, key, field, found, expected, severity))

            if len(cells) != len(header):
                add("", f"{len(cells)} cells", f"{len(header)} cells as in the header")
            for column, value in raw.items():
                control = control_character(value)
                if control:
                    add(column, control, "printable text")
                if "\ufffd" in value:  # a byte that was not UTF-8: name the row and column it is in
                    problems[:] = [dataclasses.replace(p, key=key, field=column)
                                   if p.field == "encoding" and not p.key and line <= p.line <= end_line
                                   and p.found.startswith("byte 0x") else p for p in problems]
                if "\n" in value or "\r" in value:
                    add(column, f"a quoted cell running over lines {line}-{end_line}",
                        "one line per row (a quote left open swallows the rows after it)", "warning")
            for field, kind in (("modality", "modality"), ("outcome", "outcome")):
                term, suggestion = resolve(kind, cell[field])
                if term is None:
                    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
                    add(field, repr(cell[field]), f"a known {kind}{hint}")
            if cell["comparator_class"] not in COMPARATOR_CLASSES and cell["comparator_class"] != "any":
                add("comparator_class", repr(cell["comparator_class"]), f"one of {[*COMPARATOR_CLASSES, 'any']}")
            if cell["window"] not in TIME_WINDOWS and cell["window"] != "any":
                add("window", repr(cell["window"]), f"one of {[*TIME_WINDOWS, 'any']}")
            if cell["domain"] not in GRADE_DOMAINS:
                add("domain", repr(cell["domain"]), f"one of {list(GRADE_DOMAINS)}")
            if cell["change"] not in ("-2", "-1", "+1", "1", "+2", "2"):
                add("change", repr(cell["change"]), "-2, -1, +1 or +2")
            if not cell["rationale"]:
                add("rationale", "an empty cell", "the reason for the judgement, in a sentence")
            if cell["source_url"] and not all(is_web_url(u) for u in cell["source_url"].split()):
                add("source_url", repr(cell["source_url"]), "an http(s) URL, or an empty cell")
            judged = (cell["modality"], cell["outcome"], cell["comparator_class"], cell["window"], cell["domain"])
            if judged in seen:
                add("domain", f"a second {cell['domain']} judgement for the same analysis (first at line "
                    f"{seen[judged]})", "one judgement per analysis and domain (both would apply)")
            else:
                seen[judged] = line
            records.append({**cell, "line": line})
        problems.sort(key=lambda p: (p.line, p.field))
    table = pd.DataFrame(records, columns=[*OVERRIDE_COLUMNS, "line"])
    return table_result(table, problems, strict, ClaimsTableError, file)

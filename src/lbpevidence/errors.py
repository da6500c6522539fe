"""Exceptions and the Problem record every validator reports.

Validators never stop at the first problem: they collect :class:`Problem`
records and either return them (``strict=False``) or raise them together with
:func:`raise_for_problems`. Every error here is a :class:`ValueError`, so callers
that only know the standard library can still catch it.

Examples
--------
>>> p = Problem("refs/studies.bib", 57, "doe2020", "modality", "'acupunture'",
...             "a known modality (did you mean 'acupuncture'?)")
>>> print(p)
refs/studies.bib:57 doe2020 modality: found 'acupunture', expected a known modality (did you mean 'acupuncture'?)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PROBLEM_COLUMNS",
    "ClaimsTableError",
    "LbpEvidenceError",
    "OutcomeTableError",
    "Problem",
    "ReferenceTableError",
    "StatisticsError",
    "check_choice",
    "is_blank",
    "problems_frame",
    "raise_for_problems",
    "table_result",
]


class LbpEvidenceError(ValueError):
    """Base class of every error lbpevidence raises on purpose."""


class ReferenceTableError(LbpEvidenceError):
    """A reference file (.bib) holds problems; ``.problems`` lists all of them."""

    def __init__(self, problems: Sequence[Problem], summary: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        head = summary or f"{len(self.problems)} problem(s) in the reference table"
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{head}:\n{lines}" if lines else head)


class OutcomeTableError(ReferenceTableError):
    """outcomes.csv holds problems."""


class ClaimsTableError(ReferenceTableError):
    """claims.csv or overrides.csv holds problems."""


class StatisticsError(LbpEvidenceError):
    """A statistic cannot be computed for the data given (the message says why)."""


_FOUND_SHOWN = 240  # characters of `found` a message shows
_KEY_SHOWN = 80  # characters of a key a message shows (the key rule allows 64)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows.

    ``line`` is 1-based; 0 means the problem concerns the whole file.
    ``severity`` is ``"error"`` (the record cannot be used as is) or
    ``"warning"`` (it can, but a reader should know).
    """

    file: str
    line: int
    key: str
    field: str
    found: str
    expected: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = self.key if len(self.key) <= _KEY_SHOWN else f"{self.key[:_KEY_SHOWN - 20]}..."  # a 10,000-char key
        who = f" {key}" if key else ""
        what = f" {self.field}" if self.field else ""
        found = self.found
        if len(found) > _FOUND_SHOWN:  # a 1 MB value stays in `found`; the message shows its start
            found = f"{found[:_FOUND_SHOWN - 40]}... ({len(found):,} characters)"
        return f"{where}{who}{what}: found {found}, expected {self.expected}"


PROBLEM_COLUMNS = ["file", "line", "key", "field", "found", "expected", "severity", "message"]


@lru_cache(maxsize=1)
def _empty_problems_frame() -> pd.DataFrame:
    import pandas as pd  # on first use: this module must not import pandas at import time

    return pd.DataFrame([], columns=PROBLEM_COLUMNS)


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Return problems as a DataFrame with :data:`PROBLEM_COLUMNS`.

    Built column by column (4x faster than from row dicts); the common no-problem case is a
    copy of one empty frame, which keeps a cached reload of a clean table cheap.
    """
    problems = list(problems)
    if not problems:
        return _empty_problems_frame().copy()  # a copy: callers may change theirs
    import pandas as pd

    columns = {name: [getattr(p, name) for p in problems] for name in PROBLEM_COLUMNS[:-1]}
    columns["message"] = [str(p) for p in problems]
    return pd.DataFrame(columns, columns=PROBLEM_COLUMNS)


def raise_for_problems(
    problems: Sequence[Problem],
    error: type[ReferenceTableError] = ReferenceTableError,
    summary: str | None = None,
) -> None:
    """Raise ``error`` listing every problem of severity ``error``; do nothing otherwise."""
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise error(errors, summary)


def table_result(table: pd.DataFrame, problems: Sequence[Problem], strict: bool,
                 error: type[ReferenceTableError] = ReferenceTableError, file: str = ""):
    """What every table reader returns: the table (``strict``, after raising for errors) or ``(table, problems)``.

    ``strict=True`` raises ``error`` listing every problem of severity ``error``
    (:func:`raise_for_problems`, summary ``"FILE: N problem(s)"``) and returns the table;
    ``strict=False`` returns the table and :func:`problems_frame` of all the problems.

    >>> import pandas as pd
    >>> table, problems = table_result(pd.DataFrame(), [Problem("a.csv", 2, "", "x", "1", "2")], strict=False)
    >>> len(problems)
    1
    >>> table_result(pd.DataFrame(), [Problem("a.csv", 2, "", "x", "1", "2")], strict=True, file="a.csv")
    Traceback (most recent call last):
    ...
    lbpevidence.errors.ReferenceTableError: a.csv: 1 problem(s):
      a.csv:2 x: found 1, expected 2
    """
    if strict:
        raise_for_problems(problems, error, f"{file}: {sum(p.severity == 'error' for p in problems)} problem(s)")
        return table
    return table, problems_frame(problems)


def is_blank(value: object) -> bool:
    """True for None, NaN/NA and empty or whitespace-only strings (a missing cell, however it arrived).

    >>> is_blank(None), is_blank(float("nan")), is_blank("  "), is_blank(0), is_blank("x")
    (True, True, True, False, False)
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return value != value  # NaN
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    """Fail at once, seaborn style, when an argument is not one of ``allowed``.

    Examples
    --------
    >>> check_choice("method", "XYZ", ["DL", "FE", "PM", "REML"])
    Traceback (most recent call last):
    ...
    ValueError: The value for `method` must be one of ['DL', 'FE', 'PM', 'REML'], but 'XYZ' was passed.
    """
    options = list(allowed)
    if value not in options:
        raise ValueError(f"The value for `{name}` must be one of {options}, but {value!r} was passed.")

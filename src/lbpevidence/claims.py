"""The article's claims: read refs/claims.csv and judge each claim against the evidence.

:func:`read_claims` reads and validates refs/claims.csv like every other table (each problem
with file, line, claim and column). :func:`check_claims` judges each claim on the answer
:func:`lbpevidence.evidence.for_claim` chooses for it (the same selector as the headline),
under :class:`ClaimRules`: supported, overstated, unsupported or contradicted. The words
of the evidence (verdicts, certainty levels) are :mod:`lbpevidence.vocabulary`'s.

Examples
--------
>>> import lbpevidence as lbp
>>> claims = lbp.load_review().claims
>>> claims.loc[0, ["claim_id", "modality"]].tolist(), claims.loc[0, "verdict"] in CLAIM_VERDICTS
(['C01', 'exercise'], True)
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import pandas as pd

from .errors import ClaimsTableError, Problem, check_choice, is_blank, table_result
from .evidence import for_claim
from .paths import resolve_refs_file
from .textio import check_header, csv_rows, read_text
from .vocabulary import CERTAINTY_LEVELS, COMPARISON_LABELS, POPULATION_GROUP_LABELS, VERDICTS, resolve

__all__ = [
    "CLAIM_COLUMNS",
    "CLAIM_DIRECTIONS",
    "CLAIM_RESULT_COLUMNS",
    "CLAIM_STRENGTHS",
    "CLAIM_VERDICTS",
    "VERDICT_TABLE_COLUMNS",
    "ClaimRules",
    "check_claims",
    "parse_claims",
    "read_claims",
]


# --- the claims table ---------------------------------------------------------------------------------

CLAIM_COLUMNS = ["claim_id", "location", "modality", "outcome", "population", "claimed_direction",
                 "claimed_strength", "citation", "claim", "notes"]
_REQUIRED_CLAIM_COLUMNS = ("claim_id", "modality", "outcome", "population", "claimed_direction",
                           "claimed_strength", "claim")
CLAIM_DIRECTIONS = ("benefit", "no-benefit", "harm")
CLAIM_STRENGTHS = ("strong", "moderate", "weak", "unspecified")
_CLAIM_ID = re.compile(r"^C\d{2,}$")


def _printed_numbers(printed: object, file_path: Path) -> set[int] | None:
    from .references import read_references

    if isinstance(printed, pd.DataFrame):
        table = printed
    elif printed is not None:
        table = read_references(printed, strict=False, schema="printed")[0]
    else:
        sibling = file_path.parent / "article.bib"
        if not sibling.exists():
            return None
        table = read_references(sibling, strict=False, schema="printed")[0]
    if "printed_number" not in table.columns:
        return None
    return {int(n) for n in table["printed_number"] if n is not None and n is not pd.NA and not (
        isinstance(n, float) and math.isnan(n))}


def parse_claims(text: str, file: str = "<string>", printed_numbers: set[int] | None = None,
                 initial_problems: list[Problem] | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse claims CSV ``text`` into (table, problems); never raises on bad data.

    Examples
    --------
    >>> text = ("claim_id,location,modality,outcome,population,claimed_direction,claimed_strength,citation,claim\\n"
    ...         "C01,paragraph 3,acupunture,pain,chronic,benefit,strong,,Acupuncture eases pain.\\n")
    >>> table, problems = parse_claims(text, "claims.csv")
    >>> print(problems[0])
    claims.csv:2 C01 modality: found 'acupunture', expected a known modality (did you mean 'acupuncture'?); \
see refs/README.md
    """
    problems = list(initial_problems or [])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    problems.extend(check_header(header, _REQUIRED_CLAIM_COLUMNS, CLAIM_COLUMNS, file, "claim"))
    records: list[dict] = []
    first_line: dict[str, int] = {}
    for line, _end, cells in csv_rows(reader, file, problems):  # shared with outcomes: no cell-size limit
        if not any(cell.strip() for cell in cells):
            continue
        raw = {k: (v or "").strip() for k, v in zip(header, cells, strict=False)}
        key = raw.get("claim_id", "")
        row_problems: list[Problem] = []

        def add(column: str, found: str, expected: str, severity: str = "error", key: str = key, line: int = line,
                bucket: list[Problem] = row_problems) -> None:
            bucket.append(Problem(file, line, key, column, found, expected, severity))

        if len(cells) != len(header):
            add("", f"{len(cells)} cells", f"{len(header)} cells as in the header")
        record: dict[str, Any] = {c: raw.get(c, "") for c in CLAIM_COLUMNS}
        if not key:
            add("claim_id", "an empty cell", "an id like C01")
        elif not _CLAIM_ID.match(key):
            add("claim_id", repr(key), "an id of the form Cnn (C01, C02, ...)")
        elif key in first_line:
            add("claim_id", f"duplicate claim_id '{key}'", f"unique ids (first at line {first_line[key]})")
        else:
            first_line[key] = line
        for column, kind, extra in (("modality", "modality", None), ("outcome", "outcome", "any"),
                                    ("population", "population", "mixed")):
            value = raw.get(column, "")
            if not value:
                add(column, "an empty cell", f"a {kind} term" + (f" or '{extra}'" if extra else ""))
                continue
            if extra and value.lower() == extra:
                record[column] = extra
                continue
            term, suggestion = resolve(kind, value)
            if term is None:
                hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
                alternative = f" or '{extra}'" if extra and extra != "mixed" else ""
                add(column, repr(value), f"a known {kind}{alternative}{hint}; see refs/README.md")
            record[column] = term or value
        for column, allowed in (("claimed_direction", CLAIM_DIRECTIONS), ("claimed_strength", CLAIM_STRENGTHS)):
            value = raw.get(column, "")
            if value.lower() not in allowed:
                close = [a for a in allowed if a.startswith(value.lower()[:3])] if value else []
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                add(column, repr(value) if value else "an empty cell", f"one of {', '.join(allowed)}{hint}")
            else:
                record[column] = value.lower()
        citation = raw.get("citation", "")
        record["citation"] = None
        if citation:
            if not citation.isdigit():
                add("citation", repr(citation), "a printed citation number (1, 2, ...) or an empty cell")
            else:
                number = int(citation)
                record["citation"] = number
                if printed_numbers is not None and number not in printed_numbers:
                    shown = ", ".join(str(n) for n in sorted(printed_numbers)) or "none"
                    add("citation", repr(citation), f"a printed_number of article.bib ({shown}) or an empty cell")
        if not raw.get("claim", ""):
            add("claim", "an empty cell", "the claim, paraphrased in our words")
        if "location" in header and not raw.get("location", ""):
            add("location", "an empty cell", "where the claim stands in the article ('paragraph 3')", "warning")
        record["line"] = line
        record["valid"] = not any(p.severity == "error" for p in row_problems)
        problems.extend(row_problems)
        records.append(record)
    if header and not records:
        problems.append(Problem(file, 0, "", "", "no rows", "one row per claim", "warning"))
    table = pd.DataFrame(records, columns=[*CLAIM_COLUMNS, "line", "valid"])
    table["citation"] = pd.array([r["citation"] for r in records], dtype="Int64")
    table["line"] = pd.array(table["line"].tolist(), dtype="Int64")
    table["valid"] = table["valid"].astype(bool)
    problems.sort(key=lambda p: (p.line, p.field))
    return table, problems


@overload
def read_claims(path: str | Path | None = ..., strict: Literal[True] = ..., *,
                printed: object = ...) -> pd.DataFrame: ...
@overload
def read_claims(path: str | Path | None = ..., strict: Literal[False] = ..., *,
                printed: object = ...) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def read_claims(path: str | Path | None = None, strict: bool = True, *, printed: object = None):
    """Read claims.csv into a validated DataFrame, one row per claim.

    Parameters
    ----------
    path
        claims.csv, or a refs/ folder holding it; ``None`` = the bundled table.
    strict
        ``True``: raise :class:`~lbpevidence.errors.ClaimsTableError` listing every
        error. ``False``: return ``(table, problems)``; rows with errors stay in the
        table with ``valid = False``.
    printed
        The printed citations whose numbers ``citation`` may use: a DataFrame with
        ``printed_number`` or a .bib path. ``None`` reads article.bib next to the claims
        file; when there is none, citation numbers are not checked.

    Returns
    -------
    DataFrame
        :data:`CLAIM_COLUMNS` (terms canonical, ``citation`` nullable Int64) plus
        ``line`` (1-based CSV line) and ``valid``.

    Examples
    --------
    >>> claims = read_claims()
    >>> claims.loc[0, ["claim_id", "modality", "outcome"]].tolist(), int(claims.loc[0, "citation"])
    (['C01', 'exercise', 'any'], 3)
    """
    file_path = resolve_refs_file(path, "claims.csv")
    file = str(file_path)
    text, problems = read_text(file_path, file, "an existing claims .csv file")  # a FIFO: a problem, not a hang
    if text is None:
        table = pd.DataFrame(columns=[*CLAIM_COLUMNS, "line", "valid"])
    else:
        table, problems = parse_claims(text, file, _printed_numbers(printed, file_path), problems)
    table.attrs["path"] = file
    return table_result(table, problems, strict, ClaimsTableError, file)


# --- claims against the evidence -----------------------------------------------------------------------

VERDICT_TABLE_COLUMNS = ["modality", "outcome", "population", "comparator_class", "window", "k", "participants",
                         "measure", "estimate", "ci_low", "ci_high", "certainty", "verdict", "basis", "reasons",
                         "evidence"]
CLAIM_VERDICTS = ("supported", "overstated", "unsupported", "contradicted", "no evidence in table")
CLAIM_RESULT_COLUMNS = ["claim_id", "modality", "outcome", "population", "claimed_direction", "claimed_strength",
                        "citation", "verdict", "reason", "evidence_outcome", "evidence_population", "comparator_class",
                        "window", "evidence_verdict", "certainty", "rated_by", "basis", "measure", "estimate",
                        "ci_low", "ci_high", "evidence", "rows_considered", "other_rows"]


@dataclass(frozen=True)
class ClaimRules:
    """Every rule that turns a claim and its evidence row into a claim verdict.

    Which evidence row a claim is judged on is not decided here: :func:`lbpevidence.evidence.for_claim`
    chooses it by the same rule as the headline.

    Attributes
    ----------
    strong_needs, moderate_needs, weak_needs, unspecified_needs
        Lowest certainty that supports a claim of that strength. ``strong`` ("strong research
        backing", "crucial") needs moderate certainty; ``moderate`` ("effective") and ``weak``
        ("can help") need low: at very low certainty GRADE says only that the evidence is very
        uncertain, which supports no claim.
    overstate_below_mid
        Strengths that overstate a benefit below the minimal important difference.
    contradict_at
        Certainties at which "no important difference" (or an important benefit, for a
        no-benefit claim) contradicts the claim; below them the claim is unsupported.

    Examples
    --------
    >>> ClaimRules().needed("strong"), ClaimRules().needed("weak")
    ('moderate', 'low')
    >>> ClaimRules().meets("low", "moderate"), ClaimRules().meets("very low", "weak")
    (True, False)
    """

    strong_needs: str | None = "moderate"
    moderate_needs: str | None = "low"
    weak_needs: str | None = "low"
    unspecified_needs: str | None = "low"
    overstate_below_mid: tuple[str, ...] = ("strong", "moderate")
    contradict_at: tuple[str, ...] = ("high", "moderate")

    def __post_init__(self) -> None:
        for name in ("strong_needs", "moderate_needs", "weak_needs", "unspecified_needs"):
            value = getattr(self, name)
            if value is not None:
                check_choice(name, value, CERTAINTY_LEVELS)
        for value in self.contradict_at:
            check_choice("contradict_at", value, CERTAINTY_LEVELS)
        for value in self.overstate_below_mid:
            check_choice("overstate_below_mid", value, CLAIM_STRENGTHS)

    def needed(self, strength: str) -> str | None:
        """Lowest certainty that supports a claim of ``strength``."""
        check_choice("strength", strength, CLAIM_STRENGTHS)
        return getattr(self, f"{strength}_needs")

    @staticmethod
    def rank(certainty: str) -> int:
        """0 for the best certainty; ungraded ranks last."""
        return CERTAINTY_LEVELS.index(certainty) if certainty in CERTAINTY_LEVELS else len(CERTAINTY_LEVELS)

    def meets(self, certainty: str, strength: str) -> bool:
        """True when evidence of ``certainty`` is enough for a claim of ``strength``."""
        need = self.needed(strength)
        return need is None or self.rank(certainty) <= self.rank(need)


def _check_verdict_table(verdicts: pd.DataFrame) -> None:
    missing = [c for c in VERDICT_TABLE_COLUMNS if c not in verdicts.columns]
    if missing:
        raise ValueError(f"The value for `verdicts` must have the columns {VERDICT_TABLE_COLUMNS}, "
                         f"but {missing} are missing.")
    for value in verdicts["verdict"]:
        check_choice("verdict", value, list(VERDICTS))
    for value in verdicts["certainty"]:
        check_choice("certainty", "" if is_blank(value) else value, [*CERTAINTY_LEVELS, ""])


def _describe_evidence(row: Mapping[str, Any]) -> str:
    certainty = f"{row['certainty']} certainty" if row["certainty"] else "not graded"
    window = {"": "", "any": " (any follow-up)"}.get(row["window"], f" ({row['window']})")
    comparator = COMPARISON_LABELS.get(row["comparator_class"], f"{row['comparator_class']} comparator")
    population = row.get("population") or ""
    population = "" if population in ("", "any") else f"{POPULATION_GROUP_LABELS.get(population, population)} pain, "
    basis = row["basis"] or "basis not stated"
    return f"{row['outcome']}, {population}vs {comparator}{window}: {row['verdict']}, {certainty}, {basis}"


def _judge_claim(claim: Mapping[str, Any], row: Mapping[str, Any], rules: ClaimRules) -> tuple[str, str]:
    """(claim verdict, reason) for one claim judged on its evidence row."""
    direction, strength = claim["claimed_direction"], claim["claimed_strength"]
    certainty = row["certainty"] or ""
    shown = f"{certainty} certainty" if certainty else "no certainty grade"
    need = rules.needed(strength)
    verdict = row["verdict"]
    shows = VERDICTS[verdict].direction
    weak_evidence = f"A {strength} claim needs at least {need} certainty; this evidence has {shown}."
    if direction == "benefit":
        if shows == "harm":
            result = "contradicted", "The claim says it helps, but the evidence favours the comparator."
        elif verdict == "no comparative estimate":
            result = "unsupported", "Only changes without a control group were reported: they cannot show a benefit."
        elif shows == "unknown":
            result = "unsupported", "The evidence is too imprecise to judge the claim."
        elif shows == "none" and row["comparator_class"] == "active":
            result = "unsupported", ("The evidence compares it with other active treatments and finds no important "
                                     "difference: that says it works about as well as they do, not whether it "
                                     "beats no treatment.")
        elif shows == "none" and certainty in rules.contradict_at:
            result = "contradicted", f"The claim says it helps, but the evidence shows no important difference, " \
                                     f"with {shown}."
        elif shows == "none":
            result = "unsupported", f"No benefit was shown, but with {shown} that neither supports nor rules out " \
                                    "the claim."
        elif verdict == "benefit below MID" and strength in rules.overstate_below_mid:
            result = "overstated", (f"A {strength} claim of benefit overstates an effect smaller than the minimal "
                                    "important difference.")
        elif not rules.meets(certainty, strength):
            result = "overstated" if certainty == "low" or need == "moderate" else "unsupported", weak_evidence
        else:
            result = "supported", f"The evidence agrees with a {strength} claim of benefit."
    elif direction == "no-benefit":
        if shows == "unknown":
            result = "unsupported", "The evidence is too imprecise to judge the claim."
        elif verdict == "important benefit" and certainty in rules.contradict_at:
            result = "contradicted", f"The claim says it does not help, but an important benefit was shown with " \
                                     f"{shown}."
        elif shows == "benefit" and not VERDICTS[verdict].quantified:
            result = "unsupported", "The sources report a benefit without a size, so the claim cannot be checked."
        elif shows == "benefit" and verdict != "benefit below MID":  # a benefit that may be important
            result = "unsupported", f"A benefit was found, with {shown}: too uncertain to settle the claim."
        elif not rules.meets(certainty, strength):
            result = "unsupported", weak_evidence
        else:
            result = "supported", "The evidence shows no important benefit, as the claim says."
    elif shows == "harm":
        result = ("unsupported", weak_evidence) if not rules.meets(certainty, strength) else (
            "supported", "The evidence favours the comparator, as the claim of harm says.")
    else:
        result = "unsupported", "The evidence shows no harm for this outcome."
    return result[0], f"{result[1]} Evidence: {_describe_evidence(row)}."


def _keys(value: object) -> list[str]:
    """Study keys as a list, whether given as a list, tuple, array or '; '-separated text."""
    if isinstance(value, str):
        return [k for k in re.split(r"[;,\s]+", value) if k]
    if hasattr(value, "__iter__"):
        return [str(k) for k in value]  # type: ignore[union-attr]
    return [] if is_blank(value) else [str(value)]


def check_claims(claims: pd.DataFrame | str | Path | None, verdicts: pd.DataFrame,
                 rules: ClaimRules | None = None) -> pd.DataFrame:
    """Compare each claim's direction and strength with the evidence that answers it.

    Parameters
    ----------
    claims
        The claims table (:func:`read_claims`), or a path to read; ``None`` = bundled.
    verdicts
        The answers table (:func:`lbpevidence.evidence.answers`: one row per modality x outcome x
        population x comparison) with at least :data:`VERDICT_TABLE_COLUMNS`; ``verdict`` one of
        :data:`~lbpevidence.vocabulary.VERDICTS`, ``certainty`` one of
        :data:`~lbpevidence.vocabulary.CERTAINTY_LEVELS` (or empty), ``evidence`` a list of study keys.
    rules
        :class:`ClaimRules`.

    Returns
    -------
    DataFrame
        :data:`CLAIM_RESULT_COLUMNS`, one row per claim, in claim order: the claim, its
        ``verdict`` (:data:`CLAIM_VERDICTS`), a plain ``reason``, and the evidence row it was
        judged on (``evidence_outcome``, ``evidence_population``, ``comparator_class``,
        ``window``, ``evidence_verdict``, ``certainty``, ``rated_by``, ``basis``, ``measure``,
        ``estimate``, ``ci_low``, ``ci_high``, ``evidence`` keys); ``rows_considered`` counts the
        answers for the claim's modality, outcome and population, ``other_rows`` describes the
        ones not chosen.

    Notes
    -----
    The evidence row is chosen by :func:`lbpevidence.evidence.for_claim`, the same rule as the
    headline's primary answer, among the answers whose population matches the claim's.

    Claim verdicts, for a claim of benefit:

    - ``contradicted``: the evidence favours the comparator (a harm verdict), or "no important
      difference" from an inactive, sham or mixed comparator at a certainty in ``contradict_at``;
    - ``unsupported``: "insufficient evidence", no comparative estimate, "no important
      difference" at lower certainty or against another active treatment (similar to other
      treatments is not "ineffective"), or very low certainty;
    - ``overstated``: "benefit below MID" for a strength in ``overstate_below_mid``, or a benefit
      at a certainty below what the strength needs;
    - ``supported``: otherwise;
    - ``no evidence in table``: no answer for the modality, outcome and population.

    A no-benefit claim is contradicted by an important benefit at a certainty in
    ``contradict_at`` and supported by no important difference or a benefit below the MID; a
    harm claim is supported only by a harm verdict.

    Examples
    --------
    >>> import pandas as pd
    >>> claims = pd.DataFrame({"claim_id": ["C01", "C02"], "modality": ["acupuncture", "yoga"],
    ...     "outcome": ["pain", "any"], "population": ["chronic", "mixed"],
    ...     "claimed_direction": ["benefit", "benefit"], "claimed_strength": ["strong", "weak"]})
    >>> verdicts = pd.DataFrame([{"modality": "acupuncture", "outcome": "pain", "population": "chronic",
    ...     "comparator_class": "sham", "window": "short-term", "k": 5, "participants": 1200, "year": 2020,
    ...     "measure": "SMD", "estimate": -0.2, "ci_low": -0.3, "ci_high": -0.1, "certainty": "low",
    ...     "rated_by": "lbpevidence (GRADE rules)", "verdict": "benefit below MID", "basis": "pooled",
    ...     "reasons": "", "evidence": ["a", "b"], "off_scale": False, "reported_certainty": ""}])
    >>> check_claims(claims, verdicts)[["claim_id", "verdict"]].values.tolist()
    [['C01', 'overstated'], ['C02', 'no evidence in table']]
    """
    rules = rules if rules is not None else ClaimRules()
    if not isinstance(rules, ClaimRules):
        raise TypeError(f"The value for `rules` must be a ClaimRules, but {rules!r} was passed.")
    if not isinstance(claims, pd.DataFrame):
        claims = read_claims(claims)
    if not isinstance(verdicts, pd.DataFrame):
        raise TypeError(f"The value for `verdicts` must be a DataFrame, but {type(verdicts).__name__} was passed.")
    _check_verdict_table(verdicts)
    answers = verdicts.copy()
    for column in ("certainty", "window", "basis", "comparator_class", "measure", "population"):
        answers[column] = answers[column].map(lambda v: "" if is_blank(v) else v)
    for column, default in (("rated_by", ""), ("reported_certainty", ""), ("off_scale", False), ("year", pd.NA)):
        if column not in answers.columns:
            answers[column] = default
    results = []
    for claim in claims.to_dict("records"):
        claim.setdefault("population", "")
        claim.setdefault("citation", None)
        base = {c: claim.get(c) for c in ("claim_id", "modality", "outcome", "population", "claimed_direction",
                                          "claimed_strength", "citation")}
        head, rows, note = for_claim(answers, claim["modality"], claim["outcome"], claim["population"] or "mixed")
        if head is None:
            what = "any outcome" if claim["outcome"] == "any" else claim["outcome"]
            population = claim["population"] if claim["population"] not in ("", "mixed") else "any population"
            results.append({**base, "verdict": "no evidence in table",
                            "reason": f"The evidence table has no answer for {claim['modality']}, {what} and "
                                      f"{population}.",
                            "evidence": [], "rows_considered": 0, "other_rows": []})
            continue
        verdict, reason = _judge_claim(claim, head, rules)
        if note:
            reason = f"{reason} ({note}.)"
        results.append({
            **base, "verdict": verdict, "reason": reason, "evidence_outcome": head["outcome"],
            "evidence_population": head["population"], "comparator_class": head["comparator_class"],
            "window": head["window"], "evidence_verdict": head["verdict"], "certainty": head["certainty"],
            "rated_by": head["rated_by"], "basis": head["basis"], "measure": head["measure"],
            "estimate": head["estimate"], "ci_low": head["ci_low"], "ci_high": head["ci_high"],
            "evidence": _keys(head["evidence"]), "rows_considered": len(rows),
            "other_rows": [_describe_evidence(r) for r in rows.to_dict("records") if r is not head
                           and not (r["comparator_class"] == head["comparator_class"]
                                    and r["population"] == head["population"]
                                    and r["outcome"] == head["outcome"])],
        })
    table = pd.DataFrame(results, columns=CLAIM_RESULT_COLUMNS)
    table["rows_considered"] = table["rows_considered"].fillna(0).astype(int)
    return table

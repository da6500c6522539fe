"""Certainty and verdicts: what each modality's evidence supports, and how sure we are.

GRADE-style, with every judgement visible:

* :func:`grade` rates each pooled analysis (modality x outcome x comparator class x
  window x measure). Randomised evidence starts at *high* and is downgraded for risk
  of bias, inconsistency, imprecision and publication bias by the rules in one frozen
  :class:`GradeRules`; indirectness (and any other human judgement) comes from
  refs/overrides.csv, shown next to the rule-based rating, never hidden in it.
* Each row gets a **verdict** by comparing the effect and its CI with the minimal
  important difference (MID): ``important benefit``, ``benefit below MID``,
  ``no benefit shown`` or ``insufficient evidence``.
* Published pooled estimates (Cochrane and other reviews) and, where nothing can be
  pooled, the studies' own conclusions give verdicts too, labelled by ``basis`` so a
  reader never mistakes one kind of evidence for another.

Sign convention: effects are oriented so that a negative value favours the
intervention (see :mod:`lbpevidence.effects`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

import numpy as np
import pandas as pd

from .errors import ClaimsTableError, Problem, check_choice, problems_frame, raise_for_problems
from .paths import resolve_refs_file
from .vocabulary import (
    COMPARATOR_CLASSES,
    INSTRUMENTS,
    MODALITIES,
    OUTCOME_MIDS,
    TIME_WINDOWS,
    TYPICAL_SD_0_100,
    resolve,
)

__all__ = [
    "CERTAINTY",
    "GROUP_COLUMNS",
    "VERDICTS",
    "VERDICT_COLUMNS",
    "GradeRules",
    "grade",
    "headline",
    "read_overrides",
    "risk_of_bias_table",
    "summary_of_findings",
    "verdict_for",
]

GROUP_COLUMNS = ["modality", "outcome", "comparator_class", "window", "measure"]
CERTAINTY = ("very low", "low", "moderate", "high")  # index + 1 = GRADE level
VERDICTS = ("important benefit", "benefit below MID", "no benefit shown", "insufficient evidence",
            "benefit reported, not quantified")
BASES = ("pooled", "single trial", "published review", "study-level only, not pooled")
DOMAINS = ("risk_of_bias", "inconsistency", "imprecision", "publication_bias", "indirectness")
VERDICT_COLUMNS = [
    "modality", "outcome", "comparator_class", "window", "measure", "k", "participants", "estimate", "ci_low",
    "ci_high", "pi_low", "pi_high", "i2", "mid", "estimate_0_100", "certainty", "rule_certainty",
    "reported_certainty", *[f"down_{d}" for d in DOMAINS], "override", "verdict", "basis", "reasons", "evidence",
]


@dataclass(frozen=True)
class GradeRules:
    """Every threshold the grading uses, in one place (all are project defaults; change them here).

    Attributes
    ----------
    rob_high_share
        Downgrade risk of bias one level when more than this share of the analysis
        weight comes from trials judged at high risk (RoB ``high``, or PEDro below
        ``pedro_low_risk``).
    rob_unassessed_share
        Downgrade one level when more than this share of weight comes from trials at
        high risk *or with no risk-of-bias judgement in the table* (we cannot assume
        low risk of bias we have not seen).
    pedro_low_risk
        PEDro total at or above which a trial without a RoB judgement counts as low risk.
    i2_serious, i2_very_serious
        I² (%) from which inconsistency costs one or two levels, but only when the
        prediction interval also crosses no effect (heterogeneity that changes the answer).
    ois_participants
        Optimal information size: fewer participants in the analysis costs one level
        for imprecision (a rule of thumb for continuous outcomes).
    egger_min_k, egger_alpha
        Publication bias is tested (Egger) only with at least ``egger_min_k`` trials;
        p below ``egger_alpha`` costs one level.
    smd_mid, ratio_mid, rd_mid
        Minimal important differences where no outcome MID applies: SMD units, a
        ratio (RR/OR; compared on the log scale) and a risk difference.
    """

    rob_high_share: float = 0.5
    rob_unassessed_share: float = 0.5
    pedro_low_risk: int = 6
    i2_serious: float = 50.0
    i2_very_serious: float = 75.0
    ois_participants: int = 400
    egger_min_k: int = 10
    egger_alpha: float = 0.10
    smd_mid: float = 0.5
    ratio_mid: float = 1.25
    rd_mid: float = 0.10


# --- MIDs and verdicts -----------------------------------------------------------------------------


def mid_for(measure: str, outcome: str, instrument: str | None = None, rules: GradeRules = GradeRules()) -> float:
    """The minimal important difference on the scale of ``measure`` (positive number).

    Examples
    --------
    >>> mid_for("MD100", "pain"), mid_for("MD100", "disability"), round(mid_for("RR", "responder"), 3)
    (15.0, 10.0, 0.223)
    >>> mid_for("MD", "disability", "rmdq-24")
    2.4
    """
    if measure == "MD100" and outcome in OUTCOME_MIDS:
        return OUTCOME_MIDS[outcome]
    if measure == "MD" and instrument in INSTRUMENTS and INSTRUMENTS[instrument].mid is not None:
        return float(INSTRUMENTS[instrument].mid)
    if measure == "SMD":
        return rules.smd_mid
    if measure in ("RR", "OR"):
        return math.log(rules.ratio_mid)
    if measure == "RD":
        return rules.rd_mid
    return float("nan")


def verdict_for(estimate: float, ci_low: float, ci_high: float, mid: float) -> tuple[str, str]:
    """Verdict and its reason from an oriented effect (negative favours the intervention).

    Examples
    --------
    >>> verdict_for(-20, -30, -16, 15)[0]
    'important benefit'
    >>> verdict_for(-10, -17, -3, 15)[0]
    'benefit below MID'
    >>> verdict_for(-2, -8, 4, 15)[0]
    'no benefit shown'
    >>> verdict_for(-5, -25, 15, 15)[0]
    'insufficient evidence'
    """
    if any(not np.isfinite(v) for v in (estimate, ci_low, ci_high)):
        return "insufficient evidence", "no usable estimate"
    if not np.isfinite(mid):
        mid = 0.0
    if ci_high < 0:
        if estimate <= -mid:
            return "important benefit", f"the effect is at least the minimal important difference ({mid:g})"
        return "benefit below MID", f"the effect is real but smaller than the minimal important difference ({mid:g})"
    if ci_low > 0:
        return "no benefit shown", "the comparator did better"
    if ci_low > -mid:
        return "no benefit shown", f"the CI includes no effect and rules out an important benefit (MID {mid:g})"
    return "insufficient evidence", "the CI includes both no effect and an important benefit"


def _familiar(measure: str, outcome: str, estimate: float) -> float:
    """Effect on a 0-100 scale: MD100 as is, SMD times a typical SD (vocabulary.TYPICAL_SD_0_100)."""
    if measure == "MD100":
        return estimate
    if measure == "SMD" and outcome in TYPICAL_SD_0_100:
        return estimate * TYPICAL_SD_0_100[outcome]
    return float("nan")


# --- risk of bias ------------------------------------------------------------------------------------


def _rob_category(row: pd.Series | None, rules: GradeRules) -> str:
    if row is None:
        return "not assessed"
    rob = row.get("rob") or ""
    if rob in ("low", "some-concerns", "high"):
        return {"some-concerns": "some concerns"}.get(rob, rob)
    pedro = row.get("pedro")
    if pedro is not None and not pd.isna(pedro):
        return "low" if int(pedro) >= rules.pedro_low_risk else "high"
    return "not assessed"


def risk_of_bias_table(references: pd.DataFrame, rules: GradeRules = GradeRules()) -> pd.DataFrame:
    """One row per trial: RoB 2 overall and domains, PEDro total and items, and our category.

    Columns: key, study, rob (RoB 2 overall as recorded), D1..D5, pedro (total),
    P2..P11 (PEDro items; item 1 is not scored), category (low / some concerns /
    high / not assessed, using PEDro >= ``rules.pedro_low_risk`` when no RoB judgement
    exists), source (rob_source or pedro_source). The data behind a traffic-light plot.
    """
    trials = references[references["design"] == "rct"]
    rows = []
    for _, ref in trials.iterrows():
        domains = list(ref.get("rob_domains") or [])
        items = ref.get("pedro_items") or ""
        row = {"key": ref["key"], "study": f"{ref['first_author']} {ref['year']}", "rob": ref.get("rob") or ""}
        for i in range(5):
            row[f"D{i + 1}"] = domains[i] if i < len(domains) else ""
        row["pedro"] = ref.get("pedro")
        for i in range(10):
            row[f"P{i + 2}"] = int(items[i]) if len(items) == 10 else pd.NA
        row["category"] = _rob_category(ref, rules)
        row["source"] = ref.get("rob_source") or ref.get("pedro_source") or ""
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        table["pedro"] = table["pedro"].astype("Int64")
    return table


# --- overrides -----------------------------------------------------------------------------------------

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
    import dataclasses

    from .outcomes import _CONTROL, check_header, csv_rows, text_lines
    from .references import _decode_bytes
    from .safety import is_web_url, read_input

    file_path = resolve_refs_file(path, "overrides.csv")
    file = str(file_path)
    problems: list[Problem] = []
    records = []
    data, unreadable = read_input(file_path, file, "an overrides .csv file")
    if unreadable is not None:
        problems.append(unreadable)
    else:
        text, problems = _decode_bytes(data, file)  # Latin-1 bytes and UTF-16: located problems, not a traceback
        del data
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
                control = _CONTROL.search(value)
                if control:
                    add(column, f"a control character U+{ord(control.group()):04X} at position "
                        f"{control.start() + 1}", "printable text")
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
            if cell["domain"] not in DOMAINS:
                add("domain", repr(cell["domain"]), f"one of {list(DOMAINS)}")
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
    if strict:
        errors = sum(p.severity == "error" for p in problems)
        raise_for_problems(problems, ClaimsTableError, f"{file}: {errors} problem(s)")
        return table
    return table, problems_frame(problems)


def _matching_overrides(overrides: pd.DataFrame | None, group: dict) -> list[dict]:
    if overrides is None or not len(overrides):
        return []
    out = []
    for row in overrides.to_dict("records"):
        if row["modality"] != group["modality"] or row["outcome"] != group["outcome"]:
            continue
        if row["comparator_class"] not in ("any", group["comparator_class"]):
            continue
        if row["window"] not in ("any", group["window"]):
            continue
        out.append(row)
    return out


# --- grading ---------------------------------------------------------------------------------------------


def _participants(rows: pd.DataFrame, references: pd.DataFrame | None) -> tuple[int, bool]:
    """Participants in an analysis and whether any count came from the study total."""
    total, approximate = 0, False
    totals = references.set_index("key")["participants"] if references is not None else pd.Series(dtype=object)
    for row in rows.itertuples():
        n_int, n_ctl, n_total = (getattr(row, c, pd.NA) for c in ("n_int", "n_ctl", "n_total"))
        if not pd.isna(n_int) and not pd.isna(n_ctl):
            total += int(n_int) + int(n_ctl)
        elif not pd.isna(n_total):
            total += int(n_total)
        elif row.key in totals.index and not pd.isna(totals[row.key]):
            total += int(totals[row.key])
            approximate = True
    return total, approximate


def _grade_group(group: dict, trials: pd.DataFrame, pooled: pd.Series | None, rules: GradeRules,
                 references: pd.DataFrame | None, overrides: pd.DataFrame | None) -> dict:
    """Certainty, downgrades with reasons, and verdict for one analysis."""
    from .meta import egger_test

    k = len(trials)
    if pooled is not None and k >= 2 and np.isfinite(pooled["estimate"]):
        estimate, low, high = pooled["estimate"], pooled["ci_low"], pooled["ci_high"]
        pi_low, pi_high, i2, tau2 = pooled["pi_low"], pooled["pi_high"], pooled["i2"], pooled["tau2"]
    else:
        only = trials.iloc[0]
        estimate, low, high = only["yi"], only["yi_ci_low"], only["yi_ci_high"]
        pi_low = pi_high = i2 = float("nan")
        tau2 = 0.0
    down = dict.fromkeys(DOMAINS, 0)
    reasons: list[str] = []
    # Risk of bias: weight shares from trials at high risk, or not assessed.
    tau2 = 0.0 if not np.isfinite(tau2) else tau2
    weights = 1 / (trials["vi"].to_numpy(float) + tau2)
    weights = weights / weights.sum()
    refs_by_key = references.set_index("key") if references is not None else None
    categories = [_rob_category(refs_by_key.loc[key] if refs_by_key is not None and key in refs_by_key.index
                                else None, rules) for key in trials["key"]]
    high_share = float(sum(w for w, c in zip(weights, categories, strict=True) if c == "high"))
    unassessed_share = float(sum(w for w, c in zip(weights, categories, strict=True) if c == "not assessed"))
    if high_share > rules.rob_high_share:
        down["risk_of_bias"] = 1
        reasons.append(f"risk of bias: {high_share:.0%} of the weight from trials at high risk")
    elif high_share + unassessed_share > rules.rob_unassessed_share:
        down["risk_of_bias"] = 1
        reasons.append(f"risk of bias: {high_share + unassessed_share:.0%} of the weight from trials at high "
                       "or unassessed risk")
    # Inconsistency: only when heterogeneity changes the answer (prediction interval crosses no effect).
    if k >= 2 and np.isfinite(i2) and np.isfinite(pi_low) and pi_low < 0 < pi_high:
        if i2 >= rules.i2_very_serious:
            down["inconsistency"] = 2
        elif i2 >= rules.i2_serious:
            down["inconsistency"] = 1
        if down["inconsistency"]:
            reasons.append(f"inconsistency: I² {i2:.0f}% and a prediction interval that crosses no effect")
    # Imprecision: CI crossing no effect; too few participants.
    participants, approximate = _participants(trials, references)
    if np.isfinite(low) and low < 0 < high:
        down["imprecision"] += 1
        reasons.append("imprecision: the 95% CI includes no effect")
    if participants < rules.ois_participants:
        down["imprecision"] += 1
        about = "about " if approximate else ""
        reasons.append(f"imprecision: {about}{participants} participants, below the optimal information size "
                       f"({rules.ois_participants})")
    down["imprecision"] = min(down["imprecision"], 2)
    # Publication bias: Egger's test, only with enough trials.
    if k >= rules.egger_min_k:
        egger = egger_test(trials, min_k=rules.egger_min_k)
        if egger.run and egger.p < rules.egger_alpha:
            down["publication_bias"] = 1
            reasons.append(f"publication bias: Egger's test p = {egger.p:.3f}")
    rule_level = max(1, 4 - sum(down.values()))
    notes = []
    level = rule_level
    for override in _matching_overrides(overrides, group):
        change = int(override["change"])
        down[override["domain"]] = max(0, down[override["domain"]] - change)
        notes.append(f"{override['domain'].replace('_', ' ')} {change:+d}: {override['rationale']}")
        level = max(1, min(4, level + change))
    mid = mid_for(group["measure"], group["outcome"],
                  trials["instrument"].iloc[0] if trials["instrument"].nunique() == 1 else None, rules)
    verdict, why = verdict_for(estimate, low, high, mid)
    return {
        **group, "k": k, "participants": participants, "estimate": estimate, "ci_low": low, "ci_high": high,
        "pi_low": pi_low, "pi_high": pi_high, "i2": i2, "mid": mid,
        "estimate_0_100": _familiar(group["measure"], group["outcome"], estimate),
        "certainty": CERTAINTY[level - 1], "rule_certainty": CERTAINTY[rule_level - 1], "reported_certainty": "",
        **{f"down_{d}": down[d] for d in DOMAINS}, "override": "; ".join(notes),
        "verdict": verdict, "basis": "pooled" if k >= 2 else "single trial",
        "reasons": "; ".join([*reasons, f"verdict: {why}"]), "evidence": sorted(trials["key"].unique()),
    }


def _published_rows(effects: pd.DataFrame, rules: GradeRules) -> list[dict]:
    """One verdict row per published pooled estimate (review rows), not re-graded by us."""
    rows = []
    # pool=no on a review row marks a secondary estimate (another population, a subset): not a verdict.
    reviews = effects[(effects["level"] == "review") & effects["usable"] & effects["pool"]]
    for row in reviews.itertuples():
        group = {c: getattr(row, c) for c in GROUP_COLUMNS}
        mid = mid_for(row.measure, row.outcome, row.instrument, rules)
        verdict, why = verdict_for(row.yi, row.yi_ci_low, row.yi_ci_high, mid)
        reported = getattr(row, "reported_certainty", "") or ""
        participants = row.n_total if not pd.isna(row.n_total) else pd.NA
        rows.append({
            **group, "k": int(row.k_studies) if not pd.isna(row.k_studies) else 0, "participants": participants,
            "estimate": row.yi, "ci_low": row.yi_ci_low, "ci_high": row.yi_ci_high, "pi_low": float("nan"),
            "pi_high": float("nan"), "i2": float("nan"), "mid": mid,
            "estimate_0_100": _familiar(row.measure, row.outcome, row.yi), "certainty": reported,
            "rule_certainty": "", "reported_certainty": reported, **{f"down_{d}": 0 for d in DOMAINS},
            "override": "", "verdict": verdict, "basis": "published review",
            "reasons": f"published estimate from {row.study} (certainty as reported by its authors: "
                       f"{reported or 'not recorded'}); verdict: {why}",
            "evidence": [row.key],
        })
    return rows


# Study-level conclusions cannot be compared with a minimal important difference, so a
# reported benefit gets its own verdict rather than a size we never measured.
_FINDING_VERDICT = {"benefit": "benefit reported, not quantified", "small-benefit": "benefit reported, not quantified",
                    "no-difference": "no benefit shown", "harm": "no benefit shown",
                    "mixed": "insufficient evidence", "inconclusive": "insufficient evidence",
                    "recommended": "", "not-recommended": ""}


def _study_level_rows(references: pd.DataFrame, covered: set[tuple[str, str]]) -> list[dict]:
    """Verdicts from the studies' own conclusions, for modality x outcome pairs nothing else covers."""
    rows = []
    for modality in MODALITIES:
        entries = references[references["modality"].map(lambda m, t=modality: t in m)]
        for outcome in ("pain", "disability"):
            if (modality, outcome) in covered:
                continue
            reviews = entries[entries["design"].isin(["systematic-review", "ipd-meta-analysis",
                                                      "network-meta-analysis"])]
            trials = entries[entries["design"] == "rct"]
            base = reviews if len(reviews) else trials if len(trials) else entries[entries["design"] != "guideline"]
            votes = [v for v in base["finding"].map(_FINDING_VERDICT) if v]
            guidelines = entries[entries["design"] == "guideline"]
            guide = "; ".join(f"{g.first_author} {g.year}: {g.finding}" for g in guidelines.itertuples())
            if votes:
                counts = pd.Series(votes).value_counts()
                top = counts.index[0] if len(counts) == 1 or counts.iloc[0] > counts.iloc[1] else None
                verdict = top or "insufficient evidence"
                why = (f"{counts.iloc[0]} of {len(votes)} {'reviews' if len(reviews) else 'studies'} conclude so"
                       if top else "the studies' conclusions disagree")
            else:
                verdict, why = "insufficient evidence", ("no studies in the table" if not len(entries)
                                                         else "no trial or review conclusion in the table")
            rows.append({
                "modality": modality, "outcome": outcome, "comparator_class": "any", "window": "any",
                "measure": "", "k": 0, "participants": pd.NA, "estimate": float("nan"), "ci_low": float("nan"),
                "ci_high": float("nan"), "pi_low": float("nan"), "pi_high": float("nan"), "i2": float("nan"),
                "mid": float("nan"), "estimate_0_100": float("nan"), "certainty": "very low",
                "rule_certainty": "", "reported_certainty": "", **{f"down_{d}": 0 for d in DOMAINS},
                "override": "", "verdict": verdict, "basis": "study-level only, not pooled",
                "reasons": "not graded: no estimate to pool, only the studies' conclusions, so certainty is very "
                           f"low; {why}" + (f"; guidelines: {guide}" if guide else ""),
                "evidence": sorted(base["key"]) if len(base) else sorted(entries["key"]),
            })
    return rows


def grade(effects: pd.DataFrame, pooled: pd.DataFrame, rules: GradeRules = GradeRules(), *,
          references: pd.DataFrame | None = None, overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """Certainty and verdict for every analysis, published estimate and modality.

    Parameters
    ----------
    effects
        Output of :func:`~lbpevidence.effect_sizes` over the outcomes table (needs the
        outcomes columns ``key``, ``level``, ``pool``, ``instrument``, the group columns
        :data:`GROUP_COLUMNS` and the effect columns ``yi``, ``vi``, ``yi_ci_low``,
        ``yi_ci_high``, ``usable``).
    pooled
        Output of :func:`~lbpevidence.meta_by` over the pooled trial rows, grouped by
        :data:`GROUP_COLUMNS`.
    rules
        Thresholds (:class:`GradeRules`).
    references
        The studies table: supplies risk of bias (RoB, PEDro) and, for modalities with
        no effect data, the studies' own conclusions.
    overrides
        :func:`read_overrides` table of human judgements (applied on top of the rules
        and shown in ``override``).

    Returns
    -------
    DataFrame
        :data:`VERDICT_COLUMNS`: one row per analysis (``basis`` ``pooled`` or ``single
        trial``), per published estimate (``published review``; certainty as its
        authors reported it) and, for every modality x outcome (pain, disability) that
        neither covers, a ``study-level only, not pooled`` row. ``down_<domain>`` hold
        the levels lost per GRADE domain; ``reasons`` says why, in words.
    """
    pooled_index = pooled.set_index(GROUP_COLUMNS) if len(pooled) else None
    trials = effects[(effects["level"] == "trial") & effects["pool"] & effects["usable"]]
    rows = []
    for values, members in trials.groupby(GROUP_COLUMNS, sort=True):
        group = dict(zip(GROUP_COLUMNS, values, strict=True))
        result = None
        if pooled_index is not None and values in pooled_index.index:
            result = pooled_index.loc[values]
            if isinstance(result, pd.DataFrame):
                result = result.iloc[0]
        rows.append(_grade_group(group, members, result, rules, references, overrides))
    rows.extend(_published_rows(effects, rules))
    covered = {(r["modality"], r["outcome"]) for r in rows}
    if references is not None:
        rows.extend(_study_level_rows(references, covered))
    table = pd.DataFrame(rows, columns=VERDICT_COLUMNS)
    table["k"] = table["k"].astype(int)
    table["participants"] = pd.array([None if pd.isna(v) else int(v) for v in table["participants"]],
                                     dtype="Int64")
    return table.reset_index(drop=True)


# --- headline and summary of findings ------------------------------------------------------------------

_CLASS_RANK = {"inactive": 0, "mixed": 0, "sham": 1, "active": 2, "any": 3, "none": 4}
_BASIS_RANK = {"pooled": 0, "published review": 1, "single trial": 2, "study-level only, not pooled": 3}
_WINDOW_RANK = {"short-term": 0, "immediate": 1, "intermediate": 2, "unspecified": 3, "long-term": 4, "any": 5}


def headline(verdicts: pd.DataFrame, outcomes: Iterable[str] = ("pain", "disability")) -> pd.DataFrame:
    """One row per modality x outcome: the best available evidence, chosen by a fixed order.

    Order of preference: comparator class (usual care / no treatment first, then sham,
    then active treatments), then evidence with a certainty rating (ours, or the
    review authors') before unrated evidence, then the larger body of evidence (more
    studies), then basis (our pooled analysis before a published estimate, before a
    single trial, before study-level conclusions), then the short-term window. Every
    modality of the vocabulary appears.
    """
    table = verdicts[verdicts["outcome"].isin(list(outcomes))].copy()
    rated = (table["certainty"] != "") & (table["basis"] != "study-level only, not pooled")
    table["_rank"] = list(zip(table["comparator_class"].map(_CLASS_RANK).fillna(9), ~rated, -table["k"],
                              table["basis"].map(_BASIS_RANK), table["window"].map(_WINDOW_RANK).fillna(9),
                              strict=True))
    table = table.sort_values(["modality", "outcome", "_rank"], kind="stable")
    best = table.groupby(["modality", "outcome"], sort=True).head(1).drop(columns="_rank")
    return best.reset_index(drop=True)


_STATEMENT = {
    ("important benefit", "high"): "{m} reduces {o} by a clinically important amount compared with {c}.",
    ("important benefit", "moderate"): "{m} probably reduces {o} by a clinically important amount compared with {c}.",
    ("important benefit", "low"): "{m} may reduce {o} by a clinically important amount compared with {c}.",
    ("benefit below MID", "high"): "{m} reduces {o} compared with {c}, but by less than patients would notice.",
    ("benefit below MID", "moderate"): "{m} probably reduces {o} slightly compared with {c}, by less than the "
                                       "smallest important difference.",
    ("benefit below MID", "low"): "{m} may reduce {o} slightly compared with {c}, by less than the smallest "
                                  "important difference.",
    ("no benefit shown", "high"): "{m} makes little or no difference to {o} compared with {c}.",
    ("no benefit shown", "moderate"): "{m} probably makes little or no difference to {o} compared with {c}.",
    ("no benefit shown", "low"): "{m} may make little or no difference to {o} compared with {c}.",
}
_OUTCOME_WORDS = {"pain": "pain", "disability": "back-related disability", "responder": "the chance of improving",
                  "recurrence": "recurrences", "adverse-events": "adverse events"}


def _statement(row: pd.Series) -> str:
    modality = MODALITIES[row["modality"]].label if row["modality"] in MODALITIES else row["modality"]
    outcome = _OUTCOME_WORDS.get(row["outcome"], row["outcome"])
    comparator = COMPARATOR_CLASSES.get(row["comparator_class"], "other care")
    if row["basis"] == "study-level only, not pooled":
        return (f"No estimate for {modality.lower()} and {outcome} could be pooled; the studies' own conclusions "
                f"point to '{row['verdict']}'. Treat this as a lead, not a finding.")
    if row["verdict"] == "insufficient evidence":
        return f"The evidence is too imprecise to say whether {modality.lower()} changes {outcome}."
    certainty = row["certainty"] or "very low"
    if certainty == "very low":
        return f"We are very uncertain whether {modality.lower()} changes {outcome} compared with {comparator}."
    template = _STATEMENT[(row["verdict"], certainty)]
    text = template.format(m=modality, o=outcome, c=comparator)
    if row["outcome"] in ("responder",):
        text = text.replace("reduces the chance of improving", "raises the chance of improving")
    return text


def _format_effect(row: pd.Series) -> str:
    if not np.isfinite(row["estimate"]):
        return ""
    unit = {"MD100": " points (0-100)", "SMD": " SD", "MD": " points"}.get(row["measure"], "")
    if row["measure"] in ("RR", "OR"):
        # oriented: negative favours the intervention; for good events the natural ratio is exp(-yi)
        est, low, high = (math.exp(-row["estimate"]), math.exp(-row["ci_high"]), math.exp(-row["ci_low"]))
        if row["outcome"] not in ("responder", "global-improvement"):
            est, low, high = (math.exp(row["estimate"]), math.exp(row["ci_low"]), math.exp(row["ci_high"]))
        return f"{row['measure']} {est:.2f} ({low:.2f} to {high:.2f})"
    return f"{row['measure']} {row['estimate']:.1f} ({row['ci_low']:.1f} to {row['ci_high']:.1f}){unit}"


def summary_of_findings(verdicts: pd.DataFrame, modality: str) -> pd.DataFrame:
    """A GRADEpro-style summary-of-findings table for one modality.

    Columns: outcome, comparison, window, studies, participants, effect (with 95% CI
    on the analysis scale; negative favours the modality), effect_0_100 (the effect on
    a familiar 0-100 scale: MD100 as is, an SMD times a typical SD from
    :data:`~lbpevidence.vocabulary.TYPICAL_SD_0_100`), certainty (with the reasons),
    verdict, basis and a plain-language statement from our own templates.
    """
    check_choice("modality", modality, list(MODALITIES))
    rows = verdicts[verdicts["modality"] == modality]
    out = []
    for _, row in rows.iterrows():
        certainty = row["certainty"] or ("not graded" if row["basis"] != "published review" else "not reported")
        reasons = [r for r in str(row["reasons"]).split("; ") if not r.startswith("verdict:")]
        out.append({
            "outcome": row["outcome"],
            "comparison": COMPARATOR_CLASSES.get(row["comparator_class"], row["comparator_class"]),
            "window": row["window"],
            "studies": int(row["k"]),
            "participants": row["participants"],
            "effect": _format_effect(row),
            "effect_0_100": round(row["estimate_0_100"], 1) if np.isfinite(row["estimate_0_100"]) else np.nan,
            "certainty": certainty + (f" ({'; '.join(reasons)})" if reasons and row["basis"] != "published review"
                                      else ""),
            "verdict": row["verdict"],
            "basis": row["basis"],
            "statement": _statement(row),
        })
    return pd.DataFrame(out)


"""Certainty and verdicts: what each piece of evidence shows, and how sure we can be.

GRADE, with every judgement visible. :func:`grade` turns the effects table into one
**candidate** row per piece of evidence that could answer a question (modality x outcome x
population x comparison):

* our own pooled analyses (modality x outcome x population group x comparator class x window
  x measure; REML + HKSJ, see :mod:`lbpevidence.meta`), rated by the rules in one frozen
  :class:`GradeRules`: randomised evidence starts at *high* and loses levels for risk of bias,
  inconsistency, imprecision and publication bias; indirectness (and any other human
  judgement) comes from refs/overrides.csv, shown next to the rule-based rating;
* single trials, rated by the same rules;
* published pooled estimates (systematic reviews, IPD and network meta-analyses): certainty as
  their authors rated it where they did, otherwise our own GRADE assessment of the published
  estimate (number of studies, participants, CI against the thresholds, what the table cannot
  show counted as unclear), marked as ours with its reasons;
* the studies' own conclusions, where nothing could be quantified (certainty very low);
* estimates without a control group (within-group change): shown, never a benefit verdict.

**Verdicts** follow GRADE's minimally contextualised approach (:func:`judge_effect`): the
thresholds are no effect and the minimal important difference (MID) on each side; the verdict
says where the CI lies relative to them, and imprecision is rated down for each threshold the
CI crosses. So an "important benefit" needs the whole CI beyond the MID; a CI from an
important to a small benefit is "benefit, possibly important" (rated down one level); a CI
that also includes no effect is "insufficient evidence" (two or three levels). The words come
from :data:`lbpevidence.vocabulary.VERDICTS`, which also writes the plain-language sentences.

Which candidate answers a question is decided in :mod:`lbpevidence.evidence`, nowhere else.

Sign convention: effects are oriented so that a negative value favours the intervention (see
:mod:`lbpevidence.effects`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import check_choice
from .validation import rob1_judgement
from .vocabulary import (
    CERTAINTY_LEVELS,
    COMPARISON_LABELS,
    GRADE_DOMAINS,
    MODALITIES,
    POPULATION_GROUP_LABELS,
    mid_for,
    natural_scale,
    scale_limit,
    statement,
    to_0_100,
)

__all__ = [
    "BASES",
    "GROUP_COLUMNS",
    "VERDICT_COLUMNS",
    "GradeRules",
    "Judgement",
    "grade",
    "judge_effect",
    "poolable",
    "pooled_trials",
    "risk_of_bias_table",
    "rob_category",
    "summary_of_findings",
    "verdict_for",
]

#: The columns of the effects table that define one pooled analysis.
GROUP_COLUMNS = ["modality", "outcome", "population_group", "comparator_class", "window", "measure"]
#: What a candidate rests on.
BASES = ("published review", "pooled", "single trial", "study-level only, not pooled", "non-comparative")
#: Columns of :func:`grade`'s output (``population`` holds the population group: acute, chronic,
#: mixed, or ``any`` for study-level rows).
VERDICT_COLUMNS = [
    "modality", "outcome", "population", "comparator_class", "window", "measure", "k", "participants", "year",
    "estimate", "ci_low", "ci_high", "ci_as_printed", "pi_low", "pi_high", "i2", "mid", "estimate_0_100",
    "ci_low_0_100", "ci_high_0_100", "off_scale", "few_studies", "sensitivity", "certainty", "rated_by",
    "rule_certainty", "reported_certainty", *[f"down_{d}" for d in GRADE_DOMAINS], "override", "verdict",
    "thresholds_crossed", "statement", "basis", "reasons", "evidence",
]
RATED_BY_AUTHORS = "review authors"
RATED_BY_US = "lbpevidence (GRADE rules)"


@dataclass(frozen=True)
class GradeRules:
    """Every threshold the grading uses, in one place (all are project defaults; change them here).

    Attributes
    ----------
    rob_high_share
        Downgrade risk of bias one level when more than this share of the analysis weight
        comes from trials at high risk.
    rob_unclear_share
        Downgrade one level when more than this share of weight comes from trials at high risk,
        with some concerns, or **not assessed** (counted as unclear: we cannot assume a low risk
        of bias we have not seen).
    pedro_low_risk, pedro_high_risk_below, pedro_low_items, pedro_source
        How a PEDro record becomes a risk-of-bias category when no RoB judgement exists, a
        project convention (no validated mapping exists; see ``pedro_source``): **low** when the
        total is at least ``pedro_low_risk`` *and* the item answers show every item of
        ``pedro_low_items`` met (2 random allocation, 3 concealed allocation); **high** when the
        total is below ``pedro_high_risk_below`` (PEDro's "poor" band) or random allocation is not
        met; otherwise **some concerns** (a total without its item answers never counts as low).
    i2_serious, i2_very_serious
        I² (%) from which inconsistency costs one or two levels, but only when the prediction
        interval also crosses no effect (heterogeneity that changes the answer).
    ois_participants
        Optimal information size: when the CI crosses no threshold, fewer participants than this
        cost one level for imprecision (GRADE's rule of thumb for continuous outcomes).
    egger_min_k, egger_alpha
        Publication bias is tested (Egger) only with at least ``egger_min_k`` trials; p below
        ``egger_alpha`` costs one level.
    smd_mid, ratio_mid, rd_mid
        MIDs where :func:`lbpevidence.vocabulary.mid_for` defines none: SMD units for outcomes
        without a 0-100 MID, a ratio (RR/OR, compared on the log scale) and a risk difference.
        Project defaults, not from a source.
    """

    rob_high_share: float = 0.5
    rob_unclear_share: float = 0.5
    pedro_low_risk: int = 6
    pedro_high_risk_below: int = 4
    pedro_low_items: tuple[int, ...] = (2, 3)
    pedro_source: str = (
        "Project convention. No validated mapping from PEDro to risk-of-bias categories exists: PEDro's bands "
        "(0-3 poor, 4-5 fair, 6-8 good, 9-10 excellent; Cashin & McAuley 2020) are not validated "
        "(https://www.pedro.org.au/english/summary-of-measurement-properties-of-the-pedro-scale/); PEDro totals "
        "agree poorly with Cochrane risk-of-bias judgements (Armijo-Olivo 2015, PMID 26161653, "
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC4498768; Moseley 2019, doi:10.1371/journal.pone.0222770), while "
        "the allocation items agree best, so low risk needs the allocation items as well as the total.")
    i2_serious: float = 50.0
    i2_very_serious: float = 75.0
    ois_participants: int = 400
    egger_min_k: int = 10
    egger_alpha: float = 0.10
    smd_mid: float = 0.5
    ratio_mid: float = 1.25
    rd_mid: float = 0.10

    def mid(self, measure: str, outcome: str, instrument: str | None = None) -> float:
        """The MID on the scale of ``measure`` (NaN when none is defined).

        Examples
        --------
        >>> GradeRules().mid("MD100", "pain"), round(GradeRules().mid("RR", "responder"), 3)
        (15.0, 0.223)
        """
        mid = mid_for(measure, outcome, instrument)
        if math.isfinite(mid):
            return mid
        if measure == "SMD":
            return self.smd_mid
        if measure in ("RR", "OR"):
            return math.log(self.ratio_mid)
        if measure == "RD":
            return self.rd_mid
        return float("nan")


# --- verdicts: where the CI lies against no effect and the MID --------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """What an estimate shows against the thresholds, and what its imprecision costs.

    ``verdict`` is a term of :data:`lbpevidence.vocabulary.VERDICTS`; ``crossed`` names the
    thresholds inside the CI; ``imprecision`` is the number of levels the CI costs (0-3);
    ``reason`` says why, in words.
    """

    verdict: str
    crossed: tuple[str, ...]
    imprecision: int
    reason: str


def judge_effect(estimate: float, ci_low: float, ci_high: float, mid: float) -> Judgement:
    """Judge an oriented effect (negative favours the intervention) against 0 and ±MID.

    GRADE's minimally contextualised approach: the thresholds are no effect and the MID on each
    side. A CI that includes 0 includes no effect (touching counts); a CI crosses an MID when the
    MID lies strictly inside it. The CI decides the verdict and the levels lost for imprecision:

    ============================================= ============================ ===========
    the CI                                        verdict                      imprecision
    ============================================= ============================ ===========
    wholly at or beyond -MID                      important benefit            0
    below 0, crossing -MID                        benefit, possibly important  1
    below 0, short of -MID                        benefit below MID            0
    includes 0, inside (-MID, +MID)               no important difference      0
    includes 0 and -MID or +MID                   insufficient evidence        2
    includes 0, -MID and +MID                     insufficient evidence        3
    above 0 (mirror of the benefit rows)          harm below MID / harm,       0 / 1 / 0
                                                  possibly important /
                                                  important harm
    ============================================= ============================ ===========

    Without an MID (NaN or not positive) only no effect is a threshold: ``benefit, size not
    judged`` / ``harm, size not judged`` when the CI excludes it, else ``insufficient evidence``.
    A missing MID is never 0.

    Examples
    --------
    >>> judge_effect(-20, -30, -16, 15).verdict
    'important benefit'
    >>> j = judge_effect(-10.1, -20.1, -0.06, 10)
    >>> j.verdict, j.imprecision
    ('benefit, possibly important', 1)
    >>> judge_effect(-3.0, -6.9, 0.9, 15).verdict
    'no important difference'
    >>> j = judge_effect(-5.7, -146.0, 134.6, 15)
    >>> j.verdict, j.imprecision
    ('insufficient evidence', 3)
    >>> judge_effect(4.0, 1.0, 7.0, float("nan")).verdict
    'harm, size not judged'
    """
    values = (estimate, ci_low, ci_high)
    if any(v is None or not np.isfinite(v) for v in values):
        return Judgement("insufficient evidence", (), 3, "no usable estimate")
    if not (mid is not None and np.isfinite(mid) and mid > 0):
        if ci_high < 0:
            return Judgement("benefit, size not judged", (), 0, "the CI excludes no effect; no MID is defined "
                             "for this measure, so the size is not judged")
        if ci_low > 0:
            return Judgement("harm, size not judged", (), 0, "the CI excludes no effect, on the side of the "
                             "comparator; no MID is defined for this measure")
        return Judgement("insufficient evidence", ("no effect",), 1, "the CI includes no effect, and without an "
                         "MID it cannot rule out an important effect")
    m = float(mid)
    if ci_high < 0:
        if ci_high <= -m:
            return Judgement("important benefit", (), 0, f"the whole CI lies beyond the MID ({m:.3g})")
        if ci_low < -m:
            return Judgement("benefit, possibly important", ("the MID",), 1,
                             f"the CI excludes no effect but crosses the MID ({m:.3g}): rated down one level")
        return Judgement("benefit below MID", (), 0, f"the CI excludes no effect and lies short of the MID ({m:.3g})")
    if ci_low > 0:
        if ci_low >= m:
            return Judgement("important harm", (), 0, f"the whole CI favours the comparator, beyond the MID ({m:.3g})")
        if ci_high > m:
            return Judgement("harm, possibly important", ("the MID",), 1,
                             f"the CI favours the comparator and crosses the MID ({m:.3g}): rated down one level")
        return Judgement("harm below MID", (), 0, f"the CI favours the comparator, short of the MID ({m:.3g})")
    crossed = tuple(name for name, inside in (("the MID for benefit", ci_low <= -m), ("no effect", True),
                                              ("the MID for harm", ci_high >= m)) if inside)
    if len(crossed) == 1:
        return Judgement("no important difference", crossed, 0,
                         f"the CI includes no effect and lies within ±MID ({m:.3g})")
    levels = len(crossed)
    return Judgement("insufficient evidence", crossed, levels,
                     f"the CI includes {' and '.join(crossed)}: rated down {levels} levels")


def verdict_for(estimate: float, ci_low: float, ci_high: float, mid: float) -> tuple[str, str]:
    """``(verdict, reason)`` of :func:`judge_effect`.

    Examples
    --------
    >>> verdict_for(-10, -14, -3, 15)[0]
    'benefit below MID'
    """
    judgement = judge_effect(estimate, ci_low, ci_high, mid)
    return judgement.verdict, judgement.reason


# --- risk of bias ------------------------------------------------------------------------------------


def rob_category(row: pd.Series | dict | None, rules: GradeRules = GradeRules()) -> tuple[str, str]:
    """``(category, basis)`` of one trial's risk of bias: low, some concerns, high or not assessed.

    A RoB 2 overall judgement wins (RoB 1 ``unclear`` counts as some concerns); else a Cochrane
    review's RoB 1 domain judgements (``rob1``: high if a key domain is high, low only if all four
    key domains are low); else the PEDro record by :class:`GradeRules`' documented convention
    (total and allocation items); else ``not assessed``, which the grading counts as unclear and
    says so.

    Examples
    --------
    >>> rob_category({"rob": "", "pedro": 7, "pedro_items": "1110001111"})
    ('low', 'PEDro 7/10')
    >>> rob_category({"rob": "", "pedro": 7, "pedro_items": ""})
    ('some concerns', 'PEDro 7/10, item answers not recorded')
    >>> rob_category({"rob": "unclear", "pedro": None})
    ('some concerns', 'RoB unclear')
    >>> rob_category({"rob": "", "rob1": ["Random sequence generation: low", "Blinding of outcome assessment: high"]})
    ('high', 'RoB 1, 2 of 4 key domains judged')
    >>> rob_category(None)
    ('not assessed', 'no risk-of-bias judgement or PEDro score in the table')
    """
    if row is None:
        return "not assessed", "no risk-of-bias judgement or PEDro score in the table"
    rob = row.get("rob") or ""
    if rob in ("low", "some-concerns", "high", "unclear"):
        category = {"some-concerns": "some concerns", "unclear": "some concerns"}.get(rob, rob)
        return category, f"RoB {rob.replace('-', ' ')}"
    rob1 = [found for found in map(rob1_judgement, list(row.get("rob1") or [])) if found]
    if rob1:
        return _rob1_category(rob1)
    pedro = row.get("pedro")
    if pedro is not None and not pd.isna(pedro):
        score = int(pedro)
        items = str(row.get("pedro_items") or "")
        answers = {i + 2: items[i] == "1" for i in range(10)} if len(items) == 10 else {}
        if score < rules.pedro_high_risk_below or answers.get(2) is False:
            category = "high"
        elif score >= rules.pedro_low_risk and answers and all(answers[i] for i in rules.pedro_low_items):
            category = "low"
        else:
            category = "some concerns"
        detail = "" if answers else ", item answers not recorded"
        return category, f"PEDro {score}/10{detail}"
    return "not assessed", "no risk-of-bias judgement or PEDro score in the table"


#: The RoB 1 domains that decide a trial's category, and the words that name them in Cochrane tables.
ROB1_KEY_DOMAINS = {"sequence generation": ("sequence",), "allocation concealment": ("concealment",),
                    "blinding of outcome assessment": ("outcome assess", "assessor"),
                    "incomplete outcome data": ("incomplete",)}


def _rob1_category(judgements: list[tuple[str, str]]) -> tuple[str, str]:
    """RoB 1 domains (a Cochrane review's table): high if a key domain is high, low if all four are low.

    The key domains (:data:`ROB1_KEY_DOMAINS`) are those a risk-of-bias summary across domains
    rests on in the Cochrane Handbook's RoB 1 guidance; a table cut short, or an unclear key domain,
    gives some concerns.
    """
    found: dict[str, str] = {}
    for domain, judgement in judgements:
        for key, words in ROB1_KEY_DOMAINS.items():
            if any(w in domain for w in words) and key not in found:
                found[key] = judgement
    seen = f"RoB 1, {len(found)} of {len(ROB1_KEY_DOMAINS)} key domains judged"
    if "high" in found.values():
        return "high", seen
    if len(found) == len(ROB1_KEY_DOMAINS) and set(found.values()) == {"low"}:
        return "low", seen
    return "some concerns", seen


def risk_of_bias_table(references: pd.DataFrame, rules: GradeRules = GradeRules(),
                       keys: list[str] | None = None) -> pd.DataFrame:
    """One row per trial: RoB 2 overall and domains, PEDro total and items, and our category.

    Columns: key, study, rob (RoB 2 overall as recorded), D1..D5, pedro (total), P2..P11
    (PEDro items; item 1 is not scored), category (low / some concerns / high / not assessed,
    by :func:`rob_category`), basis (what the category rests on), source (rob_source or
    pedro_source). ``keys`` limits the table to those trials (for example the ones that carry a
    headline row). The data behind a traffic-light plot.
    """
    trials = references[references["design"] == "rct"]
    if keys is not None:
        trials = trials[trials["key"].isin(keys)]
    trials = trials.drop_duplicates("key")
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
        row["category"], row["basis"] = rob_category(ref, rules)
        row["source"] = ref.get("rob_source") or ref.get("pedro_source") or ""
        rows.append(row)
    table = pd.DataFrame(rows, columns=["key", "study", "rob", *[f"D{i}" for i in range(1, 6)], "pedro",
                                        *[f"P{i}" for i in range(2, 12)], "category", "basis", "source"])
    if len(table):
        table["pedro"] = table["pedro"].astype("Int64")
    return table


# --- overrides (read by lbpevidence.overrides) ------------------------------------------------------------


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


# --- rating one candidate ----------------------------------------------------------------------------------


def _participants(rows: pd.DataFrame, references: pd.DataFrame | None) -> tuple[int, bool]:
    """Participants in an analysis and whether any count came from the study total."""
    total, approximate = 0, False
    totals = references.set_index("key")["participants"] if references is not None else pd.Series(dtype=object)
    totals = totals[~totals.index.duplicated()]
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


def _imprecision(judgement: Judgement, participants: int | None, approximate: bool, rules: GradeRules,
                 reasons: list[str]) -> int:
    """Levels lost for imprecision: one per threshold the CI crosses, and one below the optimal information size.

    GRADE rates imprecision on two criteria (GRADE handbook, 5.1): the CI against the thresholds,
    and the optimal information size. A small body of evidence whose CI also crosses a threshold
    loses a level for each, up to three.
    """
    levels = judgement.imprecision
    if levels:
        crossed = " and ".join(judgement.crossed)
        reasons.append(f"imprecision: the CI includes {crossed}, {levels} level{'s' if levels > 1 else ''}")
    if participants is None:
        levels += 1
        reasons.append("imprecision: participants not reported, so the optimal information size cannot be checked")
    elif participants < rules.ois_participants:
        levels += 1
        about = "about " if approximate else ""
        reasons.append(f"imprecision: {about}{participants} participants, below the optimal information size "
                       f"({rules.ois_participants})")
    return min(levels, 3)


def _printed_ci(row: dict) -> tuple[float, float] | None:
    """The CI the source printed, oriented and on the analysis scale, or None.

    The effect's own ``yi_ci_low``/``yi_ci_high`` are rebuilt from the standard error
    (symmetric); a reader should see the interval the source printed (Hayden 2021's disability
    "7 (5 to 8)"), and verdicts use it too. Only a 95% CI qualifies.
    """
    if row.get("data_type") != "reported-effect":
        return None
    low, high, estimate, yi = (row.get(c) for c in ("ci_low", "ci_high", "estimate", "yi"))
    level = row.get("ci_level")
    if level is not None and not pd.isna(level) and abs(float(level) - 95) > 1e-9:
        return None
    if any(v is None or pd.isna(v) for v in (low, high, estimate, yi)):
        return None
    ratio = row.get("measure") in ("RR", "OR")
    if ratio:
        if min(low, high, estimate) <= 0:
            return None
        low, high, estimate = math.log(low), math.log(high), math.log(estimate)
    if estimate == 0:
        return None
    factor = yi / estimate  # orientation x sign convention x rescaling, all linear
    bounds = sorted((low * factor, high * factor))
    return bounds[0], bounds[1]


def _candidate(group: dict, *, k: int, participants: int | None, approximate: bool, year: object,
               estimate: float, low: float, high: float, printed: bool, rules: GradeRules, instrument: str | None,
               down: dict[str, int], reasons: list[str], overrides: pd.DataFrame | None, basis: str,
               evidence: list[str], reported: str = "", rated_by_authors: str = "", pi: tuple = (np.nan, np.nan),
               i2: float = np.nan, few: bool = False, sensitivity: str = "") -> dict:
    """Finish a candidate: verdict, imprecision, overrides, certainty and the sentence."""
    mid = rules.mid(group["measure"], group["outcome"], instrument)
    judgement = judge_effect(estimate, low, high, mid)
    down["imprecision"] = _imprecision(judgement, participants, approximate, rules, reasons)
    rule_level = max(1, 4 - sum(down.values()))
    level, notes = rule_level, []
    for override in _matching_overrides(overrides, group):
        change = int(override["change"])
        down[override["domain"]] = max(0, down[override["domain"]] - change)
        notes.append(f"{override['domain'].replace('_', ' ')} {change:+d}: {override['rationale']}")
        level = max(1, min(4, level + change))
    limit = scale_limit(group["measure"], group["outcome"], instrument)
    off_scale = bool(np.isfinite(limit) and np.isfinite(low) and (low < -limit or high > limit))
    if off_scale:
        reasons.append(f"the CI ({low:.1f} to {high:.1f}) runs beyond the scale (±{limit:g}): no real difference "
                       "can be that large")
    if reported:
        certainty, rated_by = reported, f"{RATED_BY_AUTHORS} ({rated_by_authors})"
        ours = "; ".join(r for r in reasons[1:]) or "no downgrade"
        reasons = [*reasons[:1], f"certainty as rated by the review authors; the project's rules alone would "
                                 f"give {CERTAINTY_LEVELS[-rule_level]} ({ours})"]
    else:
        certainty = CERTAINTY_LEVELS[-level]
        rated_by = RATED_BY_US + (" with a human override" if notes else "")
    return {
        **group, "k": k, "participants": participants if participants is not None else pd.NA, "year": year,
        "estimate": estimate, "ci_low": low, "ci_high": high, "ci_as_printed": printed, "pi_low": pi[0],
        "pi_high": pi[1], "i2": i2, "mid": mid,
        "estimate_0_100": to_0_100(group["measure"], group["outcome"], estimate),
        "ci_low_0_100": to_0_100(group["measure"], group["outcome"], low),
        "ci_high_0_100": to_0_100(group["measure"], group["outcome"], high),
        "off_scale": off_scale, "few_studies": few, "sensitivity": sensitivity, "certainty": certainty,
        "rated_by": rated_by, "rule_certainty": CERTAINTY_LEVELS[-rule_level], "reported_certainty": reported,
        **{f"down_{d}": down[d] for d in GRADE_DOMAINS}, "override": "; ".join(notes), "verdict": judgement.verdict,
        "thresholds_crossed": "; ".join(judgement.crossed), "statement": "", "basis": basis,
        "reasons": "; ".join([*reasons, f"verdict: {judgement.reason}"]), "evidence": evidence,
    }


def _rob_domain(members: pd.DataFrame, weights: np.ndarray, refs_by_key: pd.DataFrame | None,
                rules: GradeRules, reasons: list[str]) -> int:
    """Risk of bias from the weight shares of trials at high risk, and at high or unclear risk."""
    categories = [rob_category(refs_by_key.loc[key] if refs_by_key is not None and key in refs_by_key.index
                               else None, rules)[0] for key in members["key"]]
    high = float(sum(w for w, c in zip(weights, categories, strict=True) if c == "high"))
    unclear = float(sum(w for w, c in zip(weights, categories, strict=True) if c != "low"))
    missing = categories.count("not assessed")
    counted = f" ({missing} of {len(categories)} trials not assessed, counted as unclear)" if missing else ""
    if high > rules.rob_high_share:
        reasons.append(f"risk of bias: {high:.0%} of the weight from trials at high risk{counted}")
        return 1
    if unclear > rules.rob_unclear_share:
        reasons.append(f"risk of bias: {unclear:.0%} of the weight from trials at high or unclear risk{counted}")
        return 1
    if missing:
        reasons.append(f"risk of bias: not rated down, but {missing} of {len(categories)} trials not assessed "
                       "(counted as unclear)")
    return 0


def _few_studies_sensitivity(members: pd.DataFrame) -> str:
    """Two studies: the common-effect estimate, and REML with the modified Knapp-Hartung and Wald CIs, in words.

    With k = 2 the HKSJ interval uses t with 1 degree of freedom (12.7 x the SE) and the
    between-study variance is barely estimable. The modified Knapp-Hartung CI (variance factor
    floored at 1; Röver, Knapp & Friede 2015) is never narrower than the classic one; the fixed
    effect and Wald intervals show what the same two trials give when heterogeneity is ignored.
    """
    from .meta import meta_analysis

    parts = []
    for label, method, ci in (("fixed effect", "FE", "wald"),
                              ("REML with the modified Knapp-Hartung CI", "REML", "hksj-modified"),
                              ("REML with a Wald CI", "REML", "wald")):
        try:
            result = meta_analysis(members, method=method, ci=ci, prediction=False)
        except ValueError:
            continue
        parts.append(f"{label} {result.estimate:.1f} ({result.ci_low:.1f} to {result.ci_high:.1f})")
    return "; ".join(parts)


def _study_years(keys: list[str], references: pd.DataFrame | None) -> object:
    if references is None:
        return pd.NA
    years = references[references["key"].isin(keys)]["year"].dropna()
    return int(years.max()) if len(years) else pd.NA


def _single_trial(group: dict, row: dict, rules: GradeRules, refs_by_key: pd.DataFrame | None,
                  references: pd.DataFrame | None, overrides: pd.DataFrame | None, why: str = "") -> dict:
    members = pd.DataFrame([row])
    reasons = [why] if why else []
    down = dict.fromkeys(GRADE_DOMAINS, 0)
    down["risk_of_bias"] = _rob_domain(members, np.array([1.0]), refs_by_key, rules, reasons)
    reasons.append("inconsistency: one trial, so consistency cannot be checked")
    participants, approximate = _participants(members, references)
    printed = _printed_ci(row)
    low, high = printed if printed else (row["yi_ci_low"], row["yi_ci_high"])
    return _candidate(group, k=1, participants=participants or None, approximate=approximate,
                      year=_study_years([row["key"]], references), estimate=row["yi"], low=low, high=high,
                      printed=printed is not None, rules=rules, instrument=row.get("instrument"), down=down,
                      reasons=reasons, overrides=overrides, basis="single trial", evidence=[row["key"]])


def _pooled(group: dict, members: pd.DataFrame, result: pd.Series, rules: GradeRules,
            refs_by_key: pd.DataFrame | None, references: pd.DataFrame | None,
            overrides: pd.DataFrame | None) -> dict:
    from .meta import egger_test

    k = len(members)
    estimate, low, high = result["estimate"], result["ci_low"], result["ci_high"]
    i2, tau2 = result["i2"], result["tau2"]
    reasons: list[str] = []
    down = dict.fromkeys(GRADE_DOMAINS, 0)
    weights = 1 / (members["vi"].to_numpy(float) + (tau2 if np.isfinite(tau2) else 0.0))
    down["risk_of_bias"] = _rob_domain(members, weights / weights.sum(), refs_by_key, rules, reasons)
    pi_low, pi_high = result["pi_low"], result["pi_high"]
    if np.isfinite(i2) and np.isfinite(pi_low) and pi_low < 0 < pi_high:
        down["inconsistency"] = 2 if i2 >= rules.i2_very_serious else 1 if i2 >= rules.i2_serious else 0
        if down["inconsistency"]:
            reasons.append(f"inconsistency: I² {i2:.0f}% and a prediction interval that crosses no effect")
    few = k == 2
    sensitivity = _few_studies_sensitivity(members) if few else ""
    if few:
        reasons.append(f"few studies: 2 trials, so the between-study variance is barely estimable (sensitivity: "
                       f"{sensitivity})")
    if k >= rules.egger_min_k:
        egger = egger_test(members, min_k=rules.egger_min_k)
        if egger.run and egger.p < rules.egger_alpha:
            down["publication_bias"] = 1
            reasons.append(f"publication bias: Egger's test p = {egger.p:.3f}")
    participants, approximate = _participants(members, references)
    instrument = members["instrument"].iloc[0] if members["instrument"].nunique() == 1 else None
    keys = sorted(members["key"].unique())
    return _candidate(group, k=k, participants=participants, approximate=approximate,
                      year=_study_years(keys, references), estimate=estimate, low=low, high=high, printed=False,
                      rules=rules, instrument=instrument, down=down, reasons=reasons, overrides=overrides,
                      basis="pooled", evidence=keys, pi=(pi_low, pi_high), i2=i2, few=few, sensitivity=sensitivity)


def _published(group: dict, row: dict, rules: GradeRules, overrides: pd.DataFrame | None) -> dict:
    """A published pooled estimate: its authors' certainty, or our own assessment of it."""
    k = int(row["k_studies"]) if not pd.isna(row.get("k_studies")) else 0
    participants = int(row["n_total"]) if not pd.isna(row.get("n_total")) else None
    reported = row.get("reported_certainty") or ""
    reasons = [f"published estimate from {row['study']}" + (f", {k} studies" if k else ", number of studies not "
                                                             "recorded")]
    down = dict.fromkeys(GRADE_DOMAINS, 0)
    if not reported:
        down["risk_of_bias"] = 1
        reasons.append("risk of bias: the review's judgements are not in the table, counted as unclear")
        reasons.append("inconsistency and publication bias: not assessable from the published estimate alone")
    if k == 1:
        reasons.append("inconsistency: one study, so consistency cannot be checked")
    printed = _printed_ci(row)
    low, high = printed if printed else (row["yi_ci_low"], row["yi_ci_high"])
    if not printed:
        reasons.append("CI rebuilt from the reported standard error or a non-95% interval")
    candidate = _candidate(group, k=k, participants=participants, approximate=False, year=row.get("year"),
                           estimate=row["yi"], low=low, high=high, printed=printed is not None, rules=rules,
                           instrument=row.get("instrument"), down=down, reasons=reasons, overrides=overrides,
                           basis="published review", evidence=[row["key"]], reported=reported,
                           rated_by_authors=row["study"], few=0 < k < 3 or k == 0)
    return candidate


def _non_comparative(group: dict, row: dict) -> dict:
    """A within-group change: shown, labelled, never a benefit verdict."""
    return {
        **group, "k": int(row["k_studies"]) if not pd.isna(row.get("k_studies")) else 1,
        "participants": int(row["n_total"]) if not pd.isna(row.get("n_total")) else pd.NA,
        "year": row.get("year"), "estimate": row["yi"], "ci_low": row["yi_ci_low"], "ci_high": row["yi_ci_high"],
        "ci_as_printed": False, "pi_low": np.nan, "pi_high": np.nan, "i2": np.nan, "mid": np.nan,
        "estimate_0_100": to_0_100(group["measure"], group["outcome"], row["yi"]),
        "ci_low_0_100": to_0_100(group["measure"], group["outcome"], row["yi_ci_low"]),
        "ci_high_0_100": to_0_100(group["measure"], group["outcome"], row["yi_ci_high"]),
        "off_scale": False, "few_studies": False, "sensitivity": "", "certainty": "very low",
        "rated_by": RATED_BY_US, "rule_certainty": "very low",
        "reported_certainty": row.get("reported_certainty") or "",
        **{f"down_{d}": 0 for d in GRADE_DOMAINS}, "override": "", "verdict": "no comparative estimate",
        "thresholds_crossed": "", "statement": "", "basis": "non-comparative",
        "reasons": f"{row['study']} reports change within the treated group, with no control group: it cannot "
                   "separate the treatment from natural recovery, placebo or regression to the mean, so it gives "
                   "no verdict and very low certainty",
        "evidence": [row["key"]],
    }


# Study-level conclusions cannot be compared with an MID, so a reported benefit gets its own verdict.
_FINDING_VERDICT = {"benefit": "benefit reported, not quantified", "small-benefit": "benefit reported, not quantified",
                    "no-difference": "no benefit reported", "harm": "no benefit reported",
                    "mixed": "insufficient evidence", "inconclusive": "insufficient evidence",
                    "recommended": "", "not-recommended": ""}


def _study_level_rows(references: pd.DataFrame, covered: set[tuple[str, str]]) -> list[dict]:
    """Verdicts from the studies' own conclusions, for modality x outcome pairs nothing quantifies."""
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
                "modality": modality, "outcome": outcome, "population": "any", "comparator_class": "any",
                "window": "any", "measure": "", "k": len(base), "participants": pd.NA,
                "year": int(base["year"].max()) if len(base) and base["year"].notna().any() else pd.NA,
                "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "ci_as_printed": False, "pi_low": np.nan,
                "pi_high": np.nan, "i2": np.nan, "mid": np.nan, "estimate_0_100": np.nan, "ci_low_0_100": np.nan,
                "ci_high_0_100": np.nan, "off_scale": False, "few_studies": False, "sensitivity": "",
                "certainty": "very low", "rated_by": RATED_BY_US, "rule_certainty": "very low",
                "reported_certainty": "", **{f"down_{d}": 0 for d in GRADE_DOMAINS}, "override": "", "verdict": verdict,
                "thresholds_crossed": "", "statement": "", "basis": "study-level only, not pooled",
                "reasons": "no estimate to pool, only the studies' conclusions, so certainty is very low; "
                           f"{why}" + (f"; guidelines: {guide}" if guide else ""),
                "evidence": sorted(base["key"]) if len(base) else sorted(entries["key"]),
            })
    return rows


def _identified(references: pd.DataFrame | None) -> set[str] | None:
    """Keys of entries a page identified (a DOI or PMID not marked unverified); None = all."""
    if references is None:
        return None
    unverified = references["unverified"] if "unverified" in references.columns else pd.Series([[]] * len(references))
    return {key for key, fields in zip(references["key"], unverified, strict=True)
            if not {"doi", "pmid"} <= set(fields or [])}


def poolable(effects: pd.DataFrame, references: pd.DataFrame | None = None) -> pd.DataFrame:
    """The effect rows that may enter evidence: usable, ``pool`` yes, from an identified entry.

    An entry whose DOI and PMID are both listed as ``unverified`` stays in the reference table
    but feeds no pooled analysis and no headline row until a page identifies the paper.
    """
    usable = effects[effects["pool"] & effects["usable"]]
    identified = _identified(references)
    return usable if identified is None else usable[usable["key"].isin(identified)]


def pooled_trials(effects: pd.DataFrame, references: pd.DataFrame | None = None) -> pd.DataFrame:
    """The trial rows our own meta-analyses pool (:func:`poolable`, trials, with a control group)."""
    usable = poolable(effects, references)
    return usable[(usable["level"] == "trial") & (usable["comparator_class"] != "none")]


def _label(modality: str) -> str:
    return MODALITIES[modality].label if modality in MODALITIES else modality


def _with_statements(table: pd.DataFrame) -> pd.DataFrame:
    table["statement"] = [
        statement(v, c, _label(m), o, "" if cc == "any" else COMPARISON_LABELS.get(cc, cc))
        for v, c, m, o, cc in zip(table["verdict"], table["certainty"], table["modality"], table["outcome"],
                                  table["comparator_class"], strict=True)]
    return table


def grade(effects: pd.DataFrame, pooled: pd.DataFrame, rules: GradeRules = GradeRules(), *,
          references: pd.DataFrame | None = None, overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every candidate answer, with its verdict, certainty, who rated it, and why.

    Parameters
    ----------
    effects
        :func:`lbpevidence.review.review_effects` output over the outcomes table (the outcomes
        columns ``key``, ``study``, ``year``, ``level``, ``pool``, ``instrument``, ``data_type``,
        ``estimate``, ``ci_low``, ``ci_high``, ``ci_level``, ``n_int``, ``n_ctl``, ``n_total``,
        ``k_studies``, ``reported_certainty``, the :data:`GROUP_COLUMNS` and the effect columns
        ``yi``, ``vi``, ``yi_ci_low``, ``yi_ci_high``, ``usable``).
    pooled
        :func:`~lbpevidence.meta_by` over the pooled trial rows, grouped by :data:`GROUP_COLUMNS`.
    rules
        Thresholds (:class:`GradeRules`).
    references
        The studies table: risk of bias (RoB, PEDro), years, which entries a page identified
        (an entry whose DOI and PMID are both ``unverified`` feeds no candidate), and for
        modalities with no effect data the studies' own conclusions.
    overrides
        :func:`read_overrides` table of human judgements (applied on top of the rules and shown
        in ``override``).

    Returns
    -------
    DataFrame
        :data:`VERDICT_COLUMNS`, one row per candidate: ``basis`` ``pooled`` (k >= 2; k = 2 flagged
        ``few_studies`` with a ``sensitivity`` analysis), ``single trial``, ``published review``,
        ``non-comparative`` and, for every modality x outcome (pain, disability) with no
        comparative estimate, ``study-level only, not pooled``. ``population`` is the population
        group; ``down_<domain>`` hold the levels lost per GRADE domain; ``rated_by`` says whose
        certainty it is; ``reasons`` says why, in words; ``statement`` is the plain-language
        sentence from :func:`lbpevidence.vocabulary.statement`.
    """
    identified = _identified(references)
    refs_by_key = references.drop_duplicates("key").set_index("key") if references is not None else None
    usable = poolable(effects, references)
    comparative = usable["comparator_class"] != "none"
    trials = pooled_trials(effects, references)
    pooled_index = pooled.set_index(GROUP_COLUMNS) if len(pooled) else None
    rows = []

    def group_of(values: tuple) -> dict:
        group = dict(zip(GROUP_COLUMNS, values, strict=True))
        group["population"] = group.pop("population_group")
        return {c: group[c] for c in ("modality", "outcome", "population", "comparator_class", "window", "measure")}

    for values, members in trials.groupby(GROUP_COLUMNS, sort=True):
        group = group_of(values)
        result = None
        if pooled_index is not None and values in pooled_index.index:
            result = pooled_index.loc[values]
            result = result.iloc[0] if isinstance(result, pd.DataFrame) else result
        records = members.to_dict("records")
        if len(members) >= 2 and result is not None and np.isfinite(result["estimate"]):
            candidate = _pooled(group, members, result, rules, refs_by_key, references, overrides)
            rows.append(candidate)
            if candidate["off_scale"]:  # its trials compete on their own, so a finite answer exists
                rows.extend(_single_trial(group, r, rules, refs_by_key, references, overrides,
                                          "one trial of a pooled analysis whose CI runs beyond the scale")
                            for r in records)
        elif len(members) >= 2:
            note = str(result["note"]) if result is not None else "not pooled"
            rows.extend(_single_trial(group, r, rules, refs_by_key, references, overrides,
                                      f"pooling failed ({note}), so each trial stands alone") for r in records)
        else:
            rows.append(_single_trial(group, records[0], rules, refs_by_key, references, overrides))
    reviews = usable[(usable["level"] == "review") & comparative]
    for row in reviews.to_dict("records"):
        rows.append(_published(group_of(tuple(row[c] for c in GROUP_COLUMNS)), row, rules, overrides))
    for row in usable[~comparative].to_dict("records"):
        rows.append(_non_comparative(group_of(tuple(row[c] for c in GROUP_COLUMNS)), row))
    if references is not None:
        covered = {(r["modality"], r["outcome"]) for r in rows if r["basis"] != "non-comparative"}
        identified_refs = references if identified is None else references[references["key"].isin(identified)]
        rows.extend(_study_level_rows(identified_refs, covered))
    table = pd.DataFrame(rows, columns=VERDICT_COLUMNS)
    table["k"] = table["k"].astype(int)
    for column in ("participants", "year"):
        table[column] = pd.array([None if pd.isna(v) else int(v) for v in table[column]], dtype="Int64")
    for column in ("off_scale", "few_studies", "ci_as_printed"):
        table[column] = table[column].astype(bool)
    return _with_statements(table).reset_index(drop=True)


# --- summary of findings -----------------------------------------------------------------------------------


def _format_effect(row: pd.Series) -> str:
    if not np.isfinite(row["estimate"]):
        return ""
    unit = {"MD100": " points (0-100)", "SMD": " SD", "MD": " points"}.get(row["measure"], "")
    est, low, high = natural_scale(row["measure"], row["outcome"], row["estimate"], row["ci_low"], row["ci_high"])
    if row["measure"] in ("RR", "OR", "RD"):
        return f"{row['measure']} {est:.2f} ({low:.2f} to {high:.2f})"
    return f"{row['measure']} {est:.1f} ({low:.1f} to {high:.1f}){unit}"


SOF_COLUMNS = ["outcome", "population", "comparison", "window", "studies", "participants", "effect", "effect_0_100",
               "certainty", "rated_by", "reasons", "verdict", "basis", "statement"]


def summary_of_findings(answers: pd.DataFrame, modality: str) -> pd.DataFrame:
    """A GRADEpro-style summary-of-findings table for one modality.

    Parameters
    ----------
    answers
        :func:`lbpevidence.evidence.answers` (one row per question: the evidence that answers it),
        or any table with :data:`VERDICT_COLUMNS`.
    modality
        A modality term.

    Returns
    -------
    DataFrame
        :data:`SOF_COLUMNS`: outcome, population (group), comparison, window, studies,
        participants, effect (with its CI on the analysis scale; negative favours the modality),
        effect_0_100 (the effect on 0-100: MD100 as is, an SMD times a typical SD), certainty,
        rated_by, reasons (the rating-down, in words), verdict, basis and the plain-language
        statement.
    """
    check_choice("modality", modality, list(MODALITIES))
    rows = answers[answers["modality"] == modality]
    out = []
    for _, row in rows.iterrows():
        reasons = [r for r in str(row["reasons"]).split("; ") if not r.startswith("verdict:")]
        out.append({
            "outcome": row["outcome"],
            "population": POPULATION_GROUP_LABELS.get(row["population"], row["population"]),
            "comparison": COMPARISON_LABELS.get(row["comparator_class"], row["comparator_class"]),
            "window": row["window"],
            "studies": int(row["k"]),
            "participants": row["participants"],
            "effect": _format_effect(row),
            "effect_0_100": round(row["estimate_0_100"], 1) if np.isfinite(row["estimate_0_100"]) else np.nan,
            "certainty": row["certainty"],
            "rated_by": row["rated_by"],
            "reasons": "; ".join(reasons),
            "verdict": row["verdict"],
            "basis": row["basis"],
            "statement": row["statement"],
        })
    return pd.DataFrame(out, columns=SOF_COLUMNS)

"""Which evidence answers each question: the one evidence selector.

A **question** is (modality, outcome, population group, comparison): "does acupuncture reduce
pain in chronic low back pain compared with sham?". :func:`lbpevidence.grading.grade` lists every
candidate answer with its verdict and certainty; this module chooses, by one documented
ranking, the candidate that answers each question (:func:`answers`), the primary answer per
modality and outcome (:func:`headline`), and the answer a claim of the article is judged on
(:func:`for_claim`). The headline, the summary-of-findings tables, the claim audit, the report
and ``lbpevidence diff`` all read :func:`answers`; nothing else selects evidence.

Ranking by strength of evidence (:data:`TIERS`), best first:

1. a published systematic review, IPD or network meta-analysis estimate with its authors'
   certainty rating for that comparison and population;
2. a pooled estimate of 3 or more studies: our own (REML + HKSJ), or a published one without
   an authors' rating (we rate it);
3. a pooled estimate of 2 studies, or a published one whose number of studies is not recorded
   ("few studies"; a k = 2 pooling carries a sensitivity analysis: fixed effect, and REML with a
   Wald CI);
4. a single trial;
5. the studies' own conclusions, where nothing could be quantified;
6. any estimate whose CI runs beyond its scale (it never beats a finite one);
7. an estimate without a control group (within-group change).

Ties within a tier: more participants, then the more recent evidence (the newest study it rests
on), then the follow-up window (short term, intermediate, immediate, long term, unspecified).
Each answer says what it rests on (``basis``, ``evidence``) and which candidates it beat and why
(``beaten``).

**Primary answer** per modality and outcome (:func:`choose`): the strongest tier first; within a
tier the comparison a reader asks about first (usual care / no treatment or a review's mixed
controls, then sham, then other active treatment), then participants, recency and window.
For the core modalities (:data:`CORE_MODALITIES`) the headline also shows the best answer for
each comparison. :func:`strength_order` orders the treatments by the strength of their primary
answers, strongest first (the order of the report's first page); it chooses nothing.

**Claims** are matched by population: a claim about chronic pain is judged on chronic-pain
evidence, one about acute pain on acute or subacute evidence; only when none exists on evidence
from mixed populations (said in the row). A claim about no particular population (``mixed``) is
judged on the primary answer across populations. A claim about "any" outcome is judged on the
outcome whose primary answer rests on the strongest tier (pain before disability on a tie).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .vocabulary import CERTAINTY_LEVELS, COMPARISON_LABELS, MODALITIES, OUTCOMES, POPULATION_GROUPS

__all__ = [
    "ANSWER_COLUMNS",
    "CORE_MODALITIES",
    "QUESTION_COLUMNS",
    "TIERS",
    "answers",
    "choose",
    "for_claim",
    "headline",
    "rank",
    "strength_order",
    "tier",
]

#: The columns that make a question.
QUESTION_COLUMNS = ["modality", "outcome", "population", "comparator_class"]

#: Strength-of-evidence tiers, best first (see the module docstring).
TIERS: dict[int, str] = {
    1: "published review with its authors' certainty",
    2: "pooled estimate, 3 or more studies",
    3: "pooled estimate, few studies",
    4: "single trial",
    5: "studies' conclusions only",
    6: "CI beyond the scale",
    7: "no control group",
}

#: The modalities whose headline shows every comparison, not only the primary answer.
CORE_MODALITIES = ("exercise", "acupuncture", "spinal-manipulation")

_COMPARISON_ORDER = {"inactive": 0, "mixed": 0, "sham": 1, "active": 2, "none": 3, "any": 4}
_WINDOW_ORDER = {"short-term": 0, "intermediate": 1, "immediate": 2, "long-term": 3, "unspecified": 4, "any": 5}
_CLAIM_POPULATIONS = {"acute": ("acute", "mixed"), "chronic": ("chronic", "mixed")}

#: Columns :func:`answers` adds to the grading columns.
ANSWER_COLUMNS = ["tier", "tier_label", "candidates", "beaten"]


def tier(row: pd.Series | dict) -> int:
    """The strength-of-evidence tier of one candidate (1 best; see :data:`TIERS`).

    Examples
    --------
    >>> tier({"basis": "published review", "reported_certainty": "moderate", "k": 10, "off_scale": False})
    1
    >>> tier({"basis": "pooled", "reported_certainty": "", "k": 2, "off_scale": False})
    3
    >>> tier({"basis": "pooled", "reported_certainty": "", "k": 2, "off_scale": True})
    6
    """
    basis = row["basis"]
    if basis == "non-comparative":
        return 7
    if bool(row.get("off_scale", False)):
        return 6
    if basis == "study-level only, not pooled":
        return 5
    k = int(row.get("k") or 0)
    if basis == "published review":
        if row.get("reported_certainty"):
            return 1
        return 2 if k >= 3 else 4 if k == 1 else 3
    if basis == "pooled":
        return 2 if k >= 3 else 3
    return 4


def _number(value: object, missing: float) -> float:
    return missing if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def rank(row: pd.Series | dict, by_comparison: bool = False) -> tuple:
    """The sort key of a candidate: tier, (comparison), participants, recency, window. Lower ranks first."""
    key = [tier(row)]
    if by_comparison:
        key.append(_COMPARISON_ORDER.get(row["comparator_class"], 9))
    key += [-_number(row.get("participants"), 0), -_number(row.get("year"), 0),
            _WINDOW_ORDER.get(row.get("window"), 9)]
    return tuple(key)


def _describe(row: pd.Series | dict) -> str:
    keys = ", ".join(row["evidence"]) if isinstance(row["evidence"], list | tuple) else str(row["evidence"])
    effect = ""
    if np.isfinite(row["estimate"]):
        effect = f" {row['estimate']:.1f} ({row['ci_low']:.1f} to {row['ci_high']:.1f}) {row['measure']}"
    k = f"k={row['k']}, " if row["basis"] == "pooled" else ""
    return f"{row['basis']} ({k}{keys}), {row['window']}{effect}"


def _why_beaten(loser: pd.Series | dict, winner: pd.Series | dict) -> str:
    lose, win = tier(loser), tier(winner)
    if lose != win:
        return f"{TIERS[lose]} ranks below {TIERS[win]}"
    lp, wp = _number(loser.get("participants"), 0), _number(winner.get("participants"), 0)
    if lp != wp:
        return f"fewer participants ({lp:.0f} vs {wp:.0f})" if lp else "participants not reported"
    ly, wy = _number(loser.get("year"), 0), _number(winner.get("year"), 0)
    if ly != wy:
        return f"older evidence ({ly:.0f} vs {wy:.0f})"
    return f"window {loser['window']} comes after {winner['window']}"


def answers(verdicts: pd.DataFrame) -> pd.DataFrame:
    """One row per question: the candidate that answers it, and the ones it beat.

    Parameters
    ----------
    verdicts
        :func:`lbpevidence.grading.grade` output (one row per candidate).

    Returns
    -------
    DataFrame
        The winning candidate's columns plus ``tier`` (1-7), ``tier_label``, ``candidates``
        (how many competed) and ``beaten`` (a list: each other candidate, described, with the
        reason it lost). Sorted by modality, outcome, population and comparison.

    Examples
    --------
    >>> import lbpevidence as lbp
    >>> table = answers(lbp.load_review().verdicts)
    >>> bool(table.duplicated(QUESTION_COLUMNS).any())
    False
    """
    if not len(verdicts):
        return verdicts.assign(**{c: [] for c in ANSWER_COLUMNS})
    rows = []
    for _, group in verdicts.groupby(QUESTION_COLUMNS, sort=True):
        records = group.to_dict("records")
        ordered = sorted(records, key=rank)
        best = dict(ordered[0])
        best["tier"] = tier(best)
        best["tier_label"] = TIERS[best["tier"]]
        best["candidates"] = len(records)
        best["beaten"] = [f"{_describe(r)}: {_why_beaten(r, best)}" for r in ordered[1:]]
        rows.append(best)
    return pd.DataFrame(rows, columns=[*verdicts.columns, *ANSWER_COLUMNS]).reset_index(drop=True)


def choose(rows: pd.DataFrame) -> pd.Series | None:
    """The primary answer among ``rows`` (answers of one modality and outcome): see the module docstring."""
    if not len(rows):
        return None
    records = rows.to_dict("records")
    position = min(range(len(records)), key=lambda i: rank(records[i], by_comparison=True))
    return rows.iloc[position]


def headline(answer_table: pd.DataFrame, outcomes: Iterable[str] = ("pain", "disability")) -> pd.DataFrame:
    """What a reader asks first: per modality and outcome, the primary answer.

    For the core modalities (:data:`CORE_MODALITIES`) every comparison with evidence gets its
    best answer too (across populations). Every modality of the vocabulary appears.

    Returns
    -------
    DataFrame
        :func:`answers` columns plus ``primary`` (True for the one answer per modality and
        outcome chosen by :func:`choose`) and ``comparison`` (the comparison in words). Rows in
        vocabulary order of modality, then outcome, primary first.
    """
    wanted = list(outcomes)
    table = answer_table[answer_table["outcome"].isin(wanted)]
    rows = []
    for modality in MODALITIES:
        for outcome in wanted:
            mine = table[(table["modality"] == modality) & (table["outcome"] == outcome)]
            best = choose(mine)
            if best is None:
                continue
            rows.append({**best.to_dict(), "primary": True})
            if modality not in CORE_MODALITIES:
                continue
            for comparison in sorted(set(mine["comparator_class"]) - {best["comparator_class"], "any", "none"},
                                     key=lambda c: _COMPARISON_ORDER.get(c, 9)):
                options = mine[mine["comparator_class"] == comparison].to_dict("records")
                rows.append({**min(options, key=rank), "primary": False})
    out = pd.DataFrame(rows, columns=[*answer_table.columns, "primary"])
    out["comparison"] = out["comparator_class"].map(lambda c: COMPARISON_LABELS.get(c, c))
    return out.reset_index(drop=True)


def strength_order(headline: pd.DataFrame) -> list[str]:
    """Modalities by the strength of the evidence behind their primary answers, strongest first.

    The key of a modality is the best (lowest) ``tier`` of its primary answers
    (:data:`lbpevidence.evidence.TIERS`), then the best certainty among the answers of that
    tier, then the vocabulary's order. ``headline`` is the table :func:`headline` returns; this
    orders what it chose, and chooses nothing. The report's first page (its answer table and
    answer map) lists the treatments in this order.

    Examples
    --------
    >>> import lbpevidence as lbp
    >>> strength_order(lbp.load_review().headline)[:2]
    ['exercise', 'spinal-manipulation']
    """
    primary = headline[headline["primary"].astype(bool)] if "primary" in headline.columns else headline
    certainty_rank = {c: i for i, c in enumerate(CERTAINTY_LEVELS)}
    modality_rank = {m: i for i, m in enumerate(MODALITIES)}
    keys = {}
    for modality, rows in primary.groupby("modality", sort=False):
        best = int(rows["tier"].min())
        certainty = min(certainty_rank.get(c, 9) for c in rows.loc[rows["tier"] == best, "certainty"])
        keys[modality] = (best, certainty, modality_rank.get(modality, 99), str(modality))
    return sorted(keys, key=keys.__getitem__)


def for_claim(answer_table: pd.DataFrame, modality: str, outcome: str,
              population: str) -> tuple[pd.Series | None, pd.DataFrame, str]:
    """The answer a claim is judged on: ``(row or None, rows considered, note)``.

    ``population`` is the claim's population term (``acute``, ``chronic``, ``mixed``, ...);
    ``outcome`` a term or ``any``: then the primary answer of each outcome competes, and the one
    resting on the strongest tier answers (pain before disability on a tie). ``note`` says when
    evidence from mixed populations stood in.
    """
    mine = answer_table[answer_table["modality"] == modality]
    order: Sequence[str] = [outcome] if outcome != "any" else [o for o in OUTCOMES if o in set(mine["outcome"])]
    group = POPULATION_GROUPS.get(population, "")
    found = []
    for position, candidate_outcome in enumerate(order):
        rows = mine[mine["outcome"] == candidate_outcome]
        note = ""
        if group in _CLAIM_POPULATIONS:
            exact, fallback = _CLAIM_POPULATIONS[group]
            matching = rows[rows["population"] == exact]
            if not len(matching):
                matching = rows[rows["population"].isin([fallback, "any"])]
                if len(matching):
                    note = f"no {exact} evidence: judged on evidence from mixed populations"
            rows = matching
        best = choose(rows)
        if best is not None:
            found.append((tier(best), position, best, rows, note))
    if not found:
        return None, mine.iloc[0:0], ""
    _, _, best, rows, note = min(found, key=lambda item: item[:2])
    return best, rows, note

"""The whole review in one call: what the notebooks, the report and the CLI show.

:func:`load_review` reads a refs/ folder (the bundled one by default), validates it,
computes effect sizes, pools every trial analysis, grades certainty, gives verdicts,
audits the article's citations and checks its claims, and returns a frozen
:class:`Review` holding each table. Results are cached per folder and content, so
notebooks that call it again get the same object at no cost. :func:`analysis_effects`
gives the trials and the pooled row of one analysis (what a forest plot draws).

Examples
--------
>>> review = load_review()
>>> sorted(review.headline["outcome"].unique())
['disability', 'pain']
>>> set(review.headline["modality"]) >= {"exercise", "acupuncture", "spinal-manipulation"}
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import ReferenceTableError, check_choice, problems_frame
from .paths import bundled_refs
from .safety import markdown_safe
from .textio import read_input
from .vocabulary import COMPARATOR_CLASSES, INSTRUMENTS, MODALITIES, OUTCOMES, POPULATION_GROUPS

__all__ = [
    "ANALYSIS",
    "Review",
    "analysis_effects",
    "compare_reviews",
    "coverage",
    "diff_markdown",
    "load_review",
    "review_effects",
]

# The review's analysis choices, stated once: continuous outcomes as mean differences
# rescaled to 0-100 (so pain on 0-10 and 0-100 scales, or RMDQ and ODI, pool together, as the
# Cochrane exercise review does); published SMDs stay SMDs; binary outcomes as reported
# (events and RR -> RR, OR -> OR, RD -> RD). Pooling: REML + Hartung-Knapp-Sidik-Jonkman CI +
# prediction interval (lbpevidence.meta defaults).
ANALYSIS = {"continuous": "MD100", "standardised": "SMD", "method": "REML", "ci": "hksj"}


@dataclass(frozen=True)
class Review:
    """Everything the review computed, one table per attribute.

    Attributes
    ----------
    path : Path
        The refs/ folder read.
    references, outcomes : DataFrame
        The validated reference and outcome tables.
    effects : DataFrame
        One row per outcome row, with the effect (``yi``, ``vi``, CI, ``measure``,
        ``usable``, ``problem``); negative favours the intervention.
    pooled : DataFrame
        One row per trial analysis (modality x outcome x comparator class x window x
        measure) from :func:`~lbpevidence.meta_by`; k < 2 kept with a note.
    verdicts : DataFrame
        :func:`~lbpevidence.grading.grade` output: every candidate answer (pooled analysis,
        single trial, published estimate, study conclusions) with its verdict and certainty.
    answers : DataFrame
        :func:`~lbpevidence.evidence.answers`: one row per question (modality x outcome x
        population x comparison), the candidate that answers it and the ones it beat.
    headline : DataFrame
        :func:`~lbpevidence.evidence.headline`: per modality and outcome (pain, disability) the
        primary answer, and for the core modalities the answer per comparison.
    rob : DataFrame
        Risk of bias per trial (RoB 2, PEDro) for the traffic-light plot.
    audit, audit_fields : DataFrame
        Citation audit (one row per printed citation) and its field-level comparisons.
    claims : DataFrame
        Every claim of the article with its verdict against the evidence.
    problems : DataFrame
        Warnings from every input file, and unusable outcome rows with the reason.
    """

    path: Path
    references: pd.DataFrame
    outcomes: pd.DataFrame
    effects: pd.DataFrame
    pooled: pd.DataFrame
    verdicts: pd.DataFrame
    answers: pd.DataFrame
    headline: pd.DataFrame
    rob: pd.DataFrame
    audit: pd.DataFrame
    audit_fields: pd.DataFrame
    claims: pd.DataFrame
    problems: pd.DataFrame
    analysis: dict = field(default_factory=lambda: dict(ANALYSIS))

    def summary_of_findings(self, modality: str) -> pd.DataFrame:
        """GRADE-style summary of findings for one modality, one row per question it answers."""
        from .grading import summary_of_findings

        return summary_of_findings(self.answers, modality)


def _measure_for(row: pd.Series) -> str:
    instrument = INSTRUMENTS.get(row["instrument"])
    kind = instrument.kind if instrument else "continuous"
    if kind == "standardised":
        return ANALYSIS["standardised"]
    if kind == "binary":
        effect = row.get("effect_type") or ""
        return effect if effect in ("OR", "RD") else "RR"
    return ANALYSIS["continuous"]


def review_effects(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Effect sizes for every outcome row, each on the review's measure for its instrument.

    Rows keep their order and index; rows that cannot be used stay with ``usable``
    False and the ``problem`` named (never dropped).
    """
    from .effects import effect_sizes

    measures = outcomes.apply(_measure_for, axis=1) if len(outcomes) else pd.Series(dtype=str)
    parts = [effect_sizes(outcomes[measures == m], measure=m) for m in sorted(measures.unique())]
    effects = pd.concat(parts).sort_index() if parts else outcomes.assign(measure=[], yi=[], vi=[])
    invalid = ~effects["valid"].astype(bool)
    effects.loc[invalid, "usable"] = False
    effects.loc[invalid & (effects["problem"] == ""), "problem"] = "the row has validation errors"
    return effects


def coverage(references: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per modality: entries, trials, reviews, guidelines, outcome rows and poolable trial rows.

    A study with several modalities counts once under each.
    """
    rows = []
    for modality in MODALITIES:
        entries = references[references["modality"].map(lambda m, t=modality: t in m)]
        mine = outcomes[outcomes["modality"] == modality]
        rows.append({
            "modality": modality,
            "entries": len(entries),
            "trials": int((entries["design"] == "rct").sum()),
            "reviews": int(entries["design"].isin(["systematic-review", "ipd-meta-analysis",
                                                   "network-meta-analysis", "narrative-review"]).sum()),
            "guidelines": int((entries["design"] == "guideline").sum()),
            "outcome_rows": len(mine),
            "pooled_trials": int(mine[(mine["level"] == "trial") & mine["pool"]]["key"].nunique()),
            "unverified_entries": int(entries["unverified"].map(bool).sum()),
        })
    return pd.DataFrame(rows)


def _content_key(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("studies.bib", "outcomes.csv", "article.bib", "claims.csv", "overrides.csv"):
        path = folder / name
        digest.update(name.encode())
        data, _ = read_input(path)  # a FIFO or a device is hashed as missing; its reader then names it
        digest.update(data if data is not None else b"-")
    return digest.hexdigest()


_CACHE: dict[tuple[str, str], Review] = {}


def load_review(path: str | Path | None = None) -> Review:
    """Compute the whole review for a refs/ folder (default: the bundled one).

    Raises :class:`~lbpevidence.errors.ReferenceTableError` (or a subclass) listing
    every error when an input file is invalid: a review of invalid data would mislead.
    Warnings and unusable outcome rows are kept in ``Review.problems``.
    """
    from .citations import audit_citations
    from .claims import check_claims, read_claims
    from .effects import rows_to_problems
    from .evidence import answers, headline
    from .grading import grade, risk_of_bias_table
    from .meta import meta_by
    from .outcomes import read_outcomes
    from .overrides import read_overrides
    from .references import read_references

    folder = Path(path) if path is not None else bundled_refs()
    folder = folder.resolve()
    key = (str(folder), _content_key(folder))
    if key in _CACHE:
        return _CACHE[key]

    references, ref_problems = read_references(folder / "studies.bib", strict=False)
    outcomes, out_problems = read_outcomes(folder / "outcomes.csv", references, strict=False)
    frames = [ref_problems, out_problems]
    printed = None
    if (folder / "article.bib").is_file():
        printed, printed_problems = read_references(folder / "article.bib", strict=False, schema="printed")
        frames.append(printed_problems)
    claims = None
    if (folder / "claims.csv").is_file():
        claims, claim_problems = read_claims(folder / "claims.csv", strict=False)
        frames.append(claim_problems)
    overrides = None
    if (folder / "overrides.csv").is_file():
        overrides, override_problems = read_overrides(folder / "overrides.csv", strict=False)
        frames.append(override_problems)
    problems = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
        else problems_frame([])
    errors = problems[problems["severity"] == "error"]
    if len(errors):
        from .errors import Problem

        raise ReferenceTableError([Problem(**{c: r[c] for c in ("file", "line", "key", "field", "found",
                                                                  "expected", "severity")})
                                   for r in errors.to_dict("records")],
                                  f"{folder}: {len(errors)} problem(s); the review needs valid input")

    effects = review_effects(outcomes)
    unusable = effects[~effects["usable"]]
    if len(unusable):
        issues = problems_frame(rows_to_problems(unusable, file=str(folder / "outcomes.csv")))
        issues["severity"] = "warning"
        problems = pd.concat([problems, issues], ignore_index=True)
    from .grading import GROUP_COLUMNS, pooled_trials

    trials = pooled_trials(effects, references)
    pooled = meta_by(trials, by=GROUP_COLUMNS, method=ANALYSIS["method"], ci=ANALYSIS["ci"]) if len(trials) \
        else pd.DataFrame(columns=GROUP_COLUMNS)
    verdicts = grade(effects, pooled, references=references, overrides=overrides)
    answer_table = answers(verdicts)
    audit_result = audit_citations(printed, references) if printed is not None else None
    claims_checked = check_claims(claims, answer_table) if claims is not None else pd.DataFrame()
    review = Review(
        path=folder,
        references=references,
        outcomes=outcomes,
        effects=effects,
        pooled=pooled,
        verdicts=verdicts,
        answers=answer_table,
        headline=headline(answer_table),
        rob=risk_of_bias_table(references),
        audit=audit_result.citations if audit_result is not None else pd.DataFrame(),
        audit_fields=audit_result.fields if audit_result is not None else pd.DataFrame(),
        claims=claims_checked,
        problems=problems,
    )
    _CACHE[key] = review
    return review


# --- one analysis ------------------------------------------------------------------------------------------


def analysis_effects(review: Review, modality: str, outcome: str, comparator_class: str = "inactive",
                     window: str = "short-term", measure: str | None = None,
                     population: str | None = None) -> tuple[pd.DataFrame, pd.Series | None]:
    """The trial rows of one analysis and its pooled row, from a :class:`Review`.

    Returns ``(rows, pooled)``: the trial rows the review pools
    (:func:`lbpevidence.grading.pooled_trials`: usable, ``pool`` yes, from an entry a page
    identified, with a control group) of that modality x outcome x comparator class x window (and measure, and
    population group: ``acute``, ``chronic`` or ``mixed``) in input order, and the matching
    row of ``review.pooled`` (None when there is none). An analysis never pools across
    population groups: give ``population`` whenever the trials of one comparison come from
    more than one group, or the rows will not be the ones pooled.

    Examples
    --------
    >>> rows, pooled = analysis_effects(load_review(), "yoga", "disability")
    >>> len(rows) == int(pooled["k"]), pooled["method"], pooled["ci_method"]
    (True, 'REML', 'hksj')
    """
    check_choice("modality", modality, list(MODALITIES))
    check_choice("outcome", outcome, list(OUTCOMES))
    check_choice("comparator_class", comparator_class, list(COMPARATOR_CLASSES))
    from .grading import pooled_trials

    eff = pooled_trials(review.effects, review.references)  # the rows meta_by pooled: usable, identified trials
    mask = ((eff["modality"] == modality) & (eff["outcome"] == outcome) & (eff["comparator_class"] == comparator_class)
            & (eff["window"] == window))
    if measure is not None:
        mask &= eff["measure"] == measure
    if population is not None:
        check_choice("population", population, sorted(set(POPULATION_GROUPS.values())))
        mask &= eff["population_group"] == population
    rows = eff[mask]
    pooled = review.pooled
    match = pooled[(pooled["modality"] == modality) & (pooled["outcome"] == outcome)
                   & (pooled["comparator_class"] == comparator_class) & (pooled["window"] == window)]
    if measure is not None:
        match = match[match["measure"] == measure]
    if population is not None:
        match = match[match["population_group"] == population]
    return rows, (match.iloc[0] if len(match) else None)


# --- what changed between two versions of the table ------------------------------------------------------

_ANALYSIS_KEY = ["modality", "outcome", "population", "comparator_class"]
_ROW_KEY = ["key", "outcome", "instrument", "intervention", "intervention_detail", "comparator",
            "comparator_detail", "timepoint_weeks", "window"]
_COMPARED = ["basis", "window", "k", "estimate", "ci_low", "ci_high", "certainty", "verdict"]


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def compare_reviews(old: Review, new: Review) -> dict[str, pd.DataFrame]:
    """What moved between two reviews: analyses, studies and outcome rows.

    Returns a dict of DataFrames:

    ``analyses``
        One row per question (modality x outcome x population x comparison; see
        :mod:`lbpevidence.evidence`) whose answer was added, removed or changed: ``change``, the
        key columns, and ``old_``/``new_`` basis, window, k, estimate, CI, certainty and verdict.
    ``studies``
        Entries added, removed or changed (``change``, ``key``, ``fields`` changed).
    ``rows``
        Outcome rows added, removed or changed (``change``, ``key``, ``outcome``,
        ``line`` in the new table, ``fields`` changed).
    """
    analyses = []
    old_v = old.answers.set_index(_ANALYSIS_KEY)
    new_v = new.answers.set_index(_ANALYSIS_KEY)
    old_v = old_v[~old_v.index.duplicated()]
    new_v = new_v[~new_v.index.duplicated()]
    for index in sorted(set(old_v.index) | set(new_v.index), key=str):
        in_old, in_new = index in old_v.index, index in new_v.index
        before = old_v.loc[index] if in_old else None
        after = new_v.loc[index] if in_new else None
        if in_old and in_new and all(_same(before[c], after[c]) for c in _COMPARED):
            continue
        change = "changed" if in_old and in_new else "added" if in_new else "removed"
        row = {"change": change, **dict(zip(_ANALYSIS_KEY, index, strict=True))}
        for column in _COMPARED:
            row[f"old_{column}"] = before[column] if before is not None else None
            row[f"new_{column}"] = after[column] if after is not None else None
        analyses.append(row)
    studies = []
    old_r, new_r = old.references.set_index("key"), new.references.set_index("key")
    columns = [c for c in old_r.columns if c != "line"]
    for key in sorted(set(old_r.index) | set(new_r.index)):
        if key not in new_r.index:
            studies.append({"change": "removed", "key": key, "fields": ""})
        elif key not in old_r.index:
            studies.append({"change": "added", "key": key, "fields": ""})
        else:
            differ = [c for c in columns if not _same_value(old_r.at[key, c], new_r.at[key, c])]
            if differ:
                studies.append({"change": "changed", "key": key, "fields": ", ".join(differ)})
    rows = []
    numbers = ["mean_int", "sd_int", "n_int", "mean_ctl", "sd_ctl", "n_ctl", "events_int", "events_ctl",
               "effect_type", "estimate", "ci_low", "ci_high", "se", "sign_convention", "pool", "data_type"]
    old_o = {tuple(_key_value(r[c]) for c in _ROW_KEY): r for r in old.outcomes.to_dict("records")}
    new_o = {tuple(_key_value(r[c]) for c in _ROW_KEY): r for r in new.outcomes.to_dict("records")}
    for ident in sorted(set(old_o) | set(new_o), key=str):
        before, after = old_o.get(ident), new_o.get(ident)
        if before is None or after is None:
            record = after or before
            rows.append({"change": "added" if before is None else "removed", "key": record["key"],
                         "outcome": record["outcome"], "line": record["line"], "fields": ""})
            continue
        differ = [c for c in numbers if not _same_value(before[c], after[c])]
        if differ:
            rows.append({"change": "changed", "key": after["key"], "outcome": after["outcome"],
                         "line": after["line"], "fields": ", ".join(differ)})
    return {"analyses": pd.DataFrame(analyses, columns=["change", *_ANALYSIS_KEY,
                                                         *[f"{p}_{c}" for c in _COMPARED for p in ("old", "new")]]),
            "studies": pd.DataFrame(studies, columns=["change", "key", "fields"]),
            "rows": pd.DataFrame(rows, columns=["change", "key", "outcome", "line", "fields"])}


def _key_value(value: object) -> object:
    return None if (not isinstance(value, list | tuple) and pd.isna(value)) else value


def _same_value(a: object, b: object) -> bool:
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return list(a or []) == list(b or [])
    return _same(a, b)


def diff_markdown(changes: dict[str, pd.DataFrame]) -> str:
    """Render :func:`compare_reviews` output as markdown fit for a pull-request comment."""

    def fmt(value: object, digits: int = 1) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "-"
        return f"{value:.{digits}f}" if isinstance(value, float) else markdown_safe(str(value))

    lines = ["## Review changes", ""]
    analyses = changes["analyses"]
    if len(analyses):
        lines += ["| change | modality | outcome | population | comparison | basis | window | estimate (95% CI) | "
                  "k | certainty | verdict |", "|" + "---|" * 11]
        for row in analyses.to_dict("records"):
            def both(column: str, r: dict = row) -> str:
                old, new = fmt(r[f"old_{column}"]), fmt(r[f"new_{column}"])
                return new if old == new else f"{old} → {new}"

            estimate = (f"{fmt(row['old_estimate'])} ({fmt(row['old_ci_low'])} to {fmt(row['old_ci_high'])}) → "
                        f"{fmt(row['new_estimate'])} ({fmt(row['new_ci_low'])} to {fmt(row['new_ci_high'])})")
            lines.append(f"| {row['change']} | {row['modality']} | {row['outcome']} | {row['population']} | "
                         f"{row['comparator_class']} | {both('basis')} | {both('window')} | {estimate} | {both('k')} | "
                         f"{both('certainty')} | {both('verdict')} |")
    else:
        lines.append("No analysis changed.")
    for title, name in (("Studies", "studies"), ("Outcome rows", "rows")):
        table = changes[name]
        lines += ["", f"### {title}", ""]
        if not len(table):
            lines.append("None changed.")
            continue
        for row in table.to_dict("records"):
            where = f" ({row['outcome']}, line {row['line']})" if name == "rows" else ""
            fields = f": {row['fields']}" if row["fields"] else ""
            lines.append(f"- {row['change']} `{row['key']}`{where}{fields}")
    return "\n".join(lines) + "\n"

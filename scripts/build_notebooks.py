"""Write, execute and store the review's notebooks, and the README's headline figure.

    python scripts/build_notebooks.py            # all notebooks + docs/headline.png
    python scripts/build_notebooks.py 02 04      # only the notebooks whose names start so

The notebooks are thin: each cell calls the library (``lbpevidence``), and this script is
where their text lives. Each notebook is executed with nbclient (as
``lbpevidence report`` does, on the bundled refs/) and stored WITH its outputs, so that
``pytest`` (nbval, with notebooks/sanitize.cfg) can check that they still produce the same
output. Everything is deterministic: fixed cell ids, no execution timings, matplotlib's
Agg output (PNG), tables printed in a fixed order.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from lbpevidence import report  # noqa: E402

NOTEBOOK_DIR = REPO / "notebooks"
HEADLINE_PNG = REPO / "docs" / "headline.png"

FIRST = """import lbpevidence as lbp
from lbpevidence import plots, report

review = lbp.load_review(report.refs_path())  # $LBPEVIDENCE_REFS, or the bundled refs/"""

SETUP_TEXT = ("The first cell loads the review: `lbp.load_review()` reads the reference table (refs/), computes "
              "every effect size, pools the trials, grades certainty and audits the article. Set the environment "
              "variable `LBPEVIDENCE_REFS` to a refs/ folder to review another copy of the table.")

# --- the notebooks: (kind, text) cells ---------------------------------------------------------------

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01-reference-table"] = [
    ("md", """# The reference table

Every trial, review and guideline the review rests on, and every outcome number taken from them. Each value was
read on a page whose address is recorded next to it (refs/README.md says how); what could not be confirmed is
listed in `unverified` and never silently filled in.

""" + SETUP_TEXT),
    ("code", FIRST.replace("plots, report\n", "report\nfrom lbpevidence.review import coverage\n", 1)),
    ("md", """## How much evidence each modality has

One row per modality. `entries`: publications in the table (a publication about two modalities counts under
both); `trials`, `reviews`, `guidelines`: of which randomised trials, reviews and guidelines; `outcome_rows`:
contrasts recorded (study x outcome x time point x comparison); `pooled_trials`: trials whose rows enter our
meta-analyses; `unverified_entries`: entries with at least one field no page confirmed."""),
    ("code", "report.display_table(coverage(review.references, review.outcomes))"),
    ("md", """## Every publication

One row per entry of refs/studies.bib. `design` says what kind of study it is; `finding` is what its authors
concluded for their main comparison, in our controlled words (`benefit`, `small-benefit`, `no-difference`, ...);
`unverified` lists fields kept although no page confirmed them."""),
    ("code", "report.display_table(review.references, columns=report.REFERENCE_COLUMNS)"),
    ("md", """## Every outcome row, as an effect size

One row per row of refs/outcomes.csv, with the effect the review computed from it: `yi` and its 95% CI
(`yi_ci_low`, `yi_ci_high`). Continuous outcomes are mean differences rescaled to a 0-100 scale (`MD100`), so that
pain on 0-10 and 0-100 scales, or the Roland-Morris and Oswestry questionnaires, can be pooled; published
standardised mean differences stay `SMD`; binary outcomes are log risk ratios (`RR`). **A negative effect favours
the treatment.** `usable` is False, with the `problem` named, for rows that give no effect."""),
    ("code", "report.display_table(review.effects, digits=2, columns=report.EFFECT_COLUMNS)"),
    ("md", """## Problems found in the input

Warnings from every input file, and outcome rows that could not be used, with the reason. An empty table means
none: errors would have stopped `load_review` with the full list."""),
    ("code", "report.display_table(review.problems, columns=[\"message\", \"severity\"])"),
]

NOTEBOOKS["02-modality-evidence"] = [
    ("md", """# Which treatments does the evidence support?

The review's answer in one table and one figure: for each treatment the article names (exercise, the MedX
lumbar extension machine, acupuncture, spinal manipulation, yoga, tai chi, mindfulness, massage, biofeedback,
heat, staying active and the others) and each main outcome (pain, disability), what the best available evidence
shows, and how sure we can be.

""" + SETUP_TEXT),
    ("code", FIRST),
    ("md", """## The headline table

One row per treatment and outcome: the answer the strongest evidence gives, chosen by one documented rule
(`lbpevidence.evidence`): a published review with its authors' certainty rating first, then a pooled estimate of
three or more studies, of two studies, a single trial, and last the studies' own conclusions; within that, the
comparison a reader asks about first (usual care or no treatment, then sham, then other treatments). For
exercise, acupuncture and spinal manipulation every comparison with evidence gets its own row. How to read it:

- `verdict` says where the effect's 95% CI lies relative to two thresholds, no effect and the **minimal important
  difference** (MID: the smallest change patients notice; 15 points for pain and 10 for disability on a 0-100
  scale, Hayden 2021). The table below defines each verdict.
- `certainty` is the GRADE certainty (high, moderate, low, very low) and `rated_by` says whose it is: the review's
  authors, or our GRADE rules (notebook 04 gives the reasons). A CI that crosses a threshold costs certainty.
- `population`: acute or subacute, chronic, or mixed durations; evidence from one is never pooled with another.
- `effect_0_100` (with `ci_low_0_100` to `ci_high_0_100`) is the difference from the comparison on a 0-100 scale;
  **negative means less pain or disability** with the treatment. Mean differences are rescaled to 0-100;
  standardised mean differences are multiplied by a typical SD (Furlan 2015).
- `basis`: a published review's estimate, our own meta-analysis of the trials (`pooled`), a single trial, or only
  the studies' conclusions. `studies` and `participants` say how much evidence stands behind the row."""),
    ("code", "report.display_table(report.headline_table(review))"),
    ("md", """## The headline figure

**Figure 1.** The evidence for each treatment on a 0-100 scale: the dot is the effect, the line its 95% CI;
left of zero favours the treatment. Colour is the certainty of the evidence; the marker says where the number
comes from (circle: our random-effects meta-analysis, REML with a Hartung-Knapp-Sidik-Jonkman (HKSJ) CI;
diamond: a published review; square: a single trial). Mean differences are rescaled to 0-100 (MD on 0-100);
SMDs are multiplied by a typical SD. The dashed lines are the minimal important differences from Hayden 2021
(15 points for pain, 10 for disability). Arrow heads mark CIs that run beyond the axis. The comparison differs
between rows (usual care, sham, another treatment): it is written above each line."""),
    ("code", "plots.headline_figure(review);"),
    ("md", """The verdicts, as the library defines them (the same words write the sentences below):"""),
    ("code", "report.display_table(report.verdict_legend())"),
    ("md", """## In plain words

Each headline row as a sentence, built from its verdict and its certainty in GRADE's wording (GRADE guidelines
26): *results in* for high, *probably results in* for moderate, *may result in* for low certainty, and *the
evidence is very uncertain* for very low."""),
    ("code", "table = report.headline_table(review, statements=True)\n"
             "report.display_table(table, columns=[\"modality\", \"outcome\", \"statement\"])"),
    ("md", """## The evidence map

**Figure 2.** Every treatment x outcome the table holds evidence for. Filled circles: pooled evidence (our
REML + HKSJ meta-analysis, or a published review's pooled estimate); open squares: trials that were not pooled
(a single trial, or only the studies' conclusions); grey crosses: no trials. Colour is certainty; the marker's
area grows with the number of studies."""),
    ("code", "plots.evidence_map(review.verdicts);"),
    ("md", """**Figure 3.** The same map, with the marker's area growing with the number of participants (the smallest
marker where a review did not report it)."""),
    ("code", "plots.evidence_map(review.verdicts, size=\"participants\");"),
]

_FOREST_CAPTION = ("Forest plots of every analysis of {label} with two or more trials. Squares: trials (area "
                   "proportional to the random-effects weight), lines: their 95% CIs; diamond: the pooled effect "
                   "and its 95% CI (REML, Hartung-Knapp-Sidik-Jonkman); red bar: the 95% prediction interval, "
                   "where the effect of a new trial would be expected to fall. Effects are mean differences "
                   "rescaled to 0-100 (MD100) or log risk ratios; left of zero favours {label}. RoB: the trial's "
                   "risk of bias (green low, red high, grey not assessed).")

NOTEBOOKS["03-meta-analysis"] = [
    ("md", """# Meta-analyses

Our own pooling of the randomised trials in the table. One analysis pools the trials of one treatment, one
outcome, one kind of comparison (usual care or no treatment, sham, another active treatment) and one follow-up
window (immediate, short term up to 3 months, intermediate up to 12 months, long term).

**Methods.** Continuous outcomes as mean differences rescaled to 0-100 (MD100); binary outcomes as risk ratios
(log scale). Random effects with the REML estimator of between-trial variance (tau²), 95% CIs by the
Hartung-Knapp-Sidik-Jonkman (HKSJ) method (t with k - 1 degrees of freedom: wide when there are few trials, as
it should be), and a 95% prediction interval: Cochrane's 2025 defaults, checked against R's metafor. A trial
contributes one row per analysis; published reviews' estimates are shown beside ours, never pooled again.

""" + SETUP_TEXT),
    ("code", FIRST),
    ("md", """## All analyses

One row per analysis. `k` trials; `estimate` with its 95% CI (`ci_low`, `ci_high`) and prediction interval
(`pi_low`, `pi_high`); `tau2` and `i2` (%) measure how much the trials disagree. Analyses with a single trial
are kept with the note `k=1: not pooled`."""),
    ("code", "report.display_table(review.pooled, digits=2, columns=report.POOLED_COLUMNS)"),
    ("md", "## Exercise\n\n**Figure 1.** " + _FOREST_CAPTION.format(label="exercise")),
    ("code", "plots.forest_plots(review, \"exercise\");"),
    ("md", "## Acupuncture\n\n**Figure 2.** " + _FOREST_CAPTION.format(label="acupuncture")),
    ("code", "plots.forest_plots(review, \"acupuncture\");"),
    ("md", "## Spinal manipulation\n\n**Figure 3.** " + _FOREST_CAPTION.format(label="spinal manipulation")),
    ("code", "plots.forest_plots(review, \"spinal-manipulation\");"),
    ("md", "## Yoga\n\n**Figure 4.** " + _FOREST_CAPTION.format(label="yoga")),
    ("code", "plots.forest_plots(review, \"yoga\");"),
    ("md", """## The other treatments

The other treatments the article names have no analysis of two or more of our trials, or none at all: their
evidence is a single trial or a published review's pooled estimate, shown in notebook 04 (certainty) and in the
table above. For example, massage:"""),
    ("code", "plots.forest_plots(review, \"massage\");"),
    ("md", """## Small-study effects

**Figure 5.** Funnel plot of yoga vs usual care for disability in the short term: each trial's effect (MD on
0-100) against its standard error, the pooled REML + HKSJ estimate (vertical line) and its pseudo 95% limits
(dashed). Egger's test needs at least 10 trials; the title says whether it could be run."""),
    ("code", "rows, pooled = plots.analysis_effects(review, \"yoga\", \"disability\", \"inactive\", \"short-term\")\n"
             "plots.funnel_plot(rows, pooled);"),
]

_SOF_TEXT = ("One row per question ({label} for one outcome, one population and one kind of comparison), answered "
             "by the strongest evidence. `effect` is on the analysis scale (MD100: points on 0-100; SMD; RR), "
             "`effect_0_100` on a 0-100 scale; negative favours {label}. `certainty` and `rated_by` say how sure "
             "and who says so; `reasons` why it was lowered; `statement` says it in words.")

_OTHERS = [m for m in ("lumbar-extension-machine", "motor-control-exercise", "yoga", "tai-chi", "mindfulness",
                       "massage", "biofeedback", "heat", "cold", "muscle-relaxants", "stay-active", "mattress",
                       "foam-rolling")]

NOTEBOOKS["04-certainty"] = [
    ("md", """# How sure can we be? Certainty of the evidence

GRADE summary-of-findings tables, one per treatment, one row per question (outcome x population x comparison)
with the evidence that answers it. Evidence from randomised trials starts at *high* certainty and loses a level
for each serious problem: **risk of bias** (more than half of the weight from trials at high risk or unclear
risk; a trial no one assessed counts as unclear, and the reason says how many), **inconsistency** (I² of 50% or
more with a prediction interval that crosses no effect), **imprecision** (rated against the thresholds the 95% CI
crosses: the MID costs one level, no effect and the MID two, both MIDs three; a CI that crosses none still costs
one level below 400 participants) and **publication bias** (Egger's test, with 10 trials or more). Human
judgements, such as indirectness, come from refs/overrides.csv and are shown next to the rule-based rating.
Published reviews keep the certainty their authors gave (`rated_by` names them); where they gave none we rate
the published estimate ourselves, counting its unseen risk of bias as unclear. Verdicts place the CI against no
effect and the MID (Hayden 2021: 15 points for pain, 10 for disability, on 0-100).

""" + SETUP_TEXT),
    ("code", FIRST),
    ("md", "## Exercise\n\n" + _SOF_TEXT.format(label="exercise")),
    ("code", "report.display_table(review.summary_of_findings(\"exercise\"))"),
    ("md", "## Acupuncture\n\n" + _SOF_TEXT.format(label="acupuncture")),
    ("code", "report.display_table(review.summary_of_findings(\"acupuncture\"))"),
    ("md", "## Spinal manipulation\n\n" + _SOF_TEXT.format(label="spinal manipulation")),
    ("code", "report.display_table(review.summary_of_findings(\"spinal-manipulation\"))"),
    ("md", "## The other treatments the article names\n\nThe same table for each of them, in the vocabulary's order."),
]
for _modality in _OTHERS:
    _label = {"lumbar-extension-machine": "The lumbar extension machine (MedX)",
              "motor-control-exercise": "Motor control exercise", "tai-chi": "Tai chi",
              "mindfulness": "Mindfulness-based stress reduction", "heat": "Superficial heat",
              "cold": "Superficial cold", "muscle-relaxants": "Muscle relaxants",
              "stay-active": "Advice to stay active", "mattress": "Mattress firmness",
              "foam-rolling": "Foam rolling"}.get(_modality, _modality.capitalize())
    NOTEBOOKS["04-certainty"] += [
        ("md", f"### {_label}"),
        ("code", f"report.display_table(review.summary_of_findings(\"{_modality}\"))"),
    ]
NOTEBOOKS["04-certainty"] += [
    ("md", """## Risk of bias of the trials

**Figure 1.** Risk-of-bias traffic light of the trials assessed. Where a Cochrane review published RoB 2
judgements, the five RoB 2 domains and the overall judgement are shown; otherwise the PEDro items 2-11 (green:
criterion met; red: not met) and the PEDro total. No validated mapping from PEDro to risk of bias exists, so
ours is a stated convention (`lbpevidence.grading.GradeRules`): low risk needs a total of 6 or more *and* random
and concealed allocation; below 4, or without random allocation, high; otherwise some concerns. Trials no one
assessed are counted in the title, not drawn; they count as unclear in the risk-of-bias rule above."""),
    ("code", "plots.rob_traffic_light(review.rob, include_unassessed=False);"),
    ("md", """The table behind the figure, one row per trial in the table: `rob` (RoB 2 overall, where published),
`pedro` (PEDro total), our `category`, and the page it was read on."""),
    ("code", "report.display_table(review.rob, columns=report.ROB_COLUMNS)"),
]

NOTEBOOKS["05-article-audit"] = [
    ("md", """# The article, audited

The popular article that prompted this review prints four references and makes claims about each treatment.
Here each printed reference is compared, field by field, with the verified records of the reference table, and
each claim with the evidence verdicts of notebooks 02 and 04.

""" + SETUP_TEXT),
    ("code", FIRST),
    ("md", """## The printed citations

One row per printed reference. `verdict`: *verified* (every field agrees with the record meant), *garbled* (the
record meant is clear, but some fields are wrong), *conflated* (no single record: different fields point to
different publications), *not found* (nothing resembles it; a lead to check, not proof that it does not exist).
`best_match` is the record meant or the nearest one, `score` how closely it matches (0-1), `wrong_fields` the
fields that agree with no record the citation resembles."""),
    ("code", "report.display_table(review.audit, digits=2, columns=report.AUDIT_COLUMNS)"),
    ("md", """**Figure 1.** One bar per printed citation, coloured by the audit verdict; its length is the number of
bibliographic fields (of authors, title, journal, year, volume, issue and pages) printed wrong."""),
    ("code", "plots.audit_chart(review.audit);"),
    ("md", """## What each citation should say

For a garbled citation, the correction of each wrong field; for the others, which record each group of fields
resembles."""),
    ("code", "report.display_table(review.audit, columns=report.CORRECTION_COLUMNS)"),
    ("md", """## The claims

One row per claim of the article (paraphrased in refs/claims.csv), with the evidence it was checked against.
`verdict`: *supported* (the evidence shows a benefit as strong as claimed, at the certainty the wording needs),
*overstated* (some benefit, but smaller or less certain than the wording says), *unsupported* (the evidence
cannot tell), *contradicted* (the evidence points the other way). `evidence_verdict`, `certainty` and `basis` are
those of the evidence row used; `reason` explains the verdict."""),
    ("code", "report.display_table(review.claims, columns=report.CLAIM_COLUMNS)"),
]


# --- building -------------------------------------------------------------------------------------------------


def make_notebook(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook from (kind, text) pairs, with fixed cell ids."""
    nb = new_notebook()
    for i, (kind, text) in enumerate(cells):
        cell = new_markdown_cell(text) if kind == "md" else new_code_cell(text)
        cell["id"] = f"{name[:2]}-{i:02d}"
        nb.cells.append(cell)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def tidy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what varies between runs: the interpreter's patch version, empty cell metadata."""
    nb.metadata["language_info"] = {"name": "python", "file_extension": ".py", "mimetype": "text/x-python"}
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k != "execution"}
    return nb


def build(names: list[str]) -> None:
    os.environ.pop(report.REFS_ENV, None)
    NOTEBOOK_DIR.mkdir(exist_ok=True)
    start = time.perf_counter()
    paths = [NOTEBOOK_DIR / f"{name}.ipynb" for name in names]
    for name, path in zip(names, paths, strict=True):
        nbformat.write(make_notebook(name, NOTEBOOKS[name]), path)
    for path, executed in zip(paths, report.execute_notebooks(paths), strict=True):
        executed = tidy(executed)
        nbformat.validate(executed)
        nbformat.write(executed, path)
        print(path.relative_to(REPO))
    print(f"executed {len(paths)} notebook(s) in {time.perf_counter() - start:.1f} s")


def headline_png() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import lbpevidence as lbp
    from lbpevidence import plots

    HEADLINE_PNG.parent.mkdir(exist_ok=True)
    figure = plots.headline_figure(lbp.load_review())
    figure.savefig(HEADLINE_PNG, dpi=100, metadata={"Software": None})
    print(f"{HEADLINE_PNG.relative_to(REPO)}")


def main(argv: list[str]) -> int:
    names = [n for n in NOTEBOOKS if not argv or any(n.startswith(a) for a in argv)]
    build(names)
    if not argv:
        headline_png()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

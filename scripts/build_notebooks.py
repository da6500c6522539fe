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

from lbpevidence import report, tables  # noqa: E402
from lbpevidence.vocabulary import MODALITIES  # noqa: E402

NOTEBOOK_DIR = REPO / "notebooks"
HEADLINE_PNG = REPO / "docs" / "headline.png"



def first_cell(modules: str, more: str = "") -> str:
    """The first code cell: import what the notebook calls, and load the review."""
    return (f"import lbpevidence as lbp\nfrom lbpevidence import {modules}\n{more}\n"
            "review = lbp.load_review(report.refs_path())  # $LBPEVIDENCE_REFS, or the bundled refs/")


FIRST = first_cell("plots, report, tables")

SETUP_TEXT = ("The first cell loads the review: `lbp.load_review()` reads the reference table (refs/), computes "
              "every effect size, pools the trials, grades certainty and audits the article. Set the environment "
              "variable `LBPEVIDENCE_REFS` to a refs/ folder to review another copy of the table.")

# --- the notebooks: (kind, text) cells ---------------------------------------------------------------

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01-reference-table"] = [
    ("md", """# The reference table

Every trial, review and guideline the review rests on, and every outcome number taken from them. Each value was
read on a page whose address is recorded next to it (refs/README.md says how); what could not be confirmed is
listed as not confirmed by a source and never silently filled in.

""" + SETUP_TEXT),
    ("code", first_cell("report, tables", "from lbpevidence.review import coverage\n")),
    ("md", """## How much evidence each treatment has

One row per treatment. *Publications*: entries in the table (a publication about two treatments counts under
both); *Trials*, *Reviews*, *Guidelines*: of which randomised trials, reviews and guidelines; *Outcome rows*:
contrasts recorded (study x outcome x time point x comparison); *Trials pooled*: trials whose rows enter our
meta-analyses; *Entries with an unconfirmed field*: entries with at least one field no page confirmed."""),
    ("code", "tables.display_table(coverage(review.references, review.outcomes))"),
    ("md", """## Every publication

One row per entry of refs/studies.bib (folded: open it to read). *Design* says what kind of study it is; *Authors'
conclusion* is what its authors concluded for their main comparison, in our controlled words (benefit, small
benefit, no difference, ...); *Not confirmed by a source* lists fields kept although no page confirmed them."""),
    ("code", "table = review.references\n"
             "tables.display_table(table, columns=tables.REFERENCE_COLUMNS,\n"
             "                     summary=f\"Every publication ({len(table)} entries)\")"),
    ("md", """## Every outcome row, as an effect size

One row per row of refs/outcomes.csv (folded), with the effect the review computed from it and its 95% CI.
Continuous outcomes are mean differences rescaled to a 0-100 scale (MD100, shown as *MD on 0–100*), so that pain
on 0-10 and 0-100 scales, or the Roland-Morris and Oswestry questionnaires, can be pooled; published
standardised mean differences stay SMDs; binary outcomes are log risk ratios (*log RR*). **A negative effect
favours the treatment.** *Usable* is no, with the problem named, for rows that give no effect."""),
    ("code", "table = tables.outcome_rows(review)\n"
             "tables.display_table(table, summary=f\"Every outcome row ({len(table)} rows)\")"),
    ("md", """## Problems found in the input

Warnings from every input file, and outcome rows that could not be used, with the reason. An empty table means
none: errors would have stopped `load_review` with the full list."""),
    ("code", "table = review.problems\n"
             "tables.display_table(table, columns=[\"message\", \"severity\"],\n"
             "                     summary=f\"Problems and warnings ({len(table)})\")"),
]

NOTEBOOKS["02-modality-evidence"] = [
    ("md", """# Which treatments does the evidence support?

The review's answer, treatment by treatment: for each treatment the article names (exercise, the MedX lumbar
extension machine, acupuncture, spinal manipulation, yoga, tai chi, mindfulness, massage, biofeedback, heat,
staying active and the others) and each main outcome (pain, disability), what the best available evidence shows,
how large the effect is, and how sure we can be.

""" + SETUP_TEXT),
    ("code", first_cell("maps, report, tables")),
    ("md", """## The answer

One row per treatment, the strongest evidence first: for pain and for disability, the *verdict* (where the
effect's 95% CI lies against no effect and the **minimal important difference**, MID: 15 points for pain and 10
for disability on a 0-100 scale, Hayden 2021), the effect on a 0-100 scale with its 95% CI as its source printed it
(**negative means less pain or disability** than with the comparison), the *certainty* of the evidence (GRADE:
high, moderate, low, very low) and who rated it (a review's authors, or our GRADE rules; notebook 04 gives the
reasons), and what the answer rests on. One documented rule (`lbpevidence.evidence`) chooses the answer: a
published review with its authors' certainty rating first, then a pooled estimate of three or more studies, of
two studies, a single trial, and last the studies' own conclusions; within that, the comparison a reader asks
about first (usual care or no treatment, then sham, then other treatments)."""),
    ("code", "tables.AnswerTable(review, links=False)"),
    ("md", """**Figure 1.** The evidence map: the same answers, one row per treatment (strongest evidence first) and one
column per outcome. Colour is the verdict; the filled dots are the certainty of the evidence (four for high, one
for very low); beside them the effect on 0-100 with its 95% CI, and below the comparison and the population."""),
    ("code", "maps.answer_map(review.headline);"),
    ("md", """## Every comparison

For exercise, acupuncture and spinal manipulation every comparison with evidence gets its own row; the other
treatments have their primary answer only. *Population*: acute or subacute, chronic, or mixed durations;
evidence from one is never pooled with another. *Effect, 0–100 (95% CI)*: mean differences rescaled to 0-100;
standardised mean differences multiplied by a typical SD (Furlan 2015). *Evidence*: a published review's
estimate, our own meta-analysis of the trials, a single trial, or only the studies' conclusions."""),
    ("code", "tables.display_table(tables.headline_table(review, words=True))"),
    ("md", """**Figure 2.** The evidence for each treatment on a 0-100 scale: the dot is the effect, the line its 95%
CI; left of zero favours the treatment. Colour is the certainty of the evidence; the marker says where the number
comes from (circle: our random-effects meta-analysis, REML with a Hartung-Knapp-Sidik-Jonkman (HKSJ) CI;
diamond: a published review; square: a single trial). The dashed lines are the minimal important differences
from Hayden 2021 (15 points for pain, 10 for disability). Arrow heads mark CIs that run beyond the axis. The
comparison differs between rows (usual care, sham, another treatment): it is written above each line."""),
    ("code", "maps.headline_figure(review);"),
    ("md", """## In plain words

Each row above as a sentence, built from its verdict and its certainty in GRADE's wording (GRADE guidelines
26): *results in* for high, *probably results in* for moderate, *may result in* for low certainty, and *the
evidence is very uncertain* for very low. The verdicts, as the library defines them, follow."""),
    ("code", "table = tables.headline_table(review, statements=True)\n"
             "tables.display_table(table, columns=[\"modality\", \"outcome\", \"statement\"],\n"
             "                     summary=f\"Every answer in words ({len(table)} sentences)\")"),
    ("code", "tables.display_table(tables.verdict_legend(), summary=\"What the verdicts mean\")"),
    ("md", """## How much evidence there is

**Figure 3.** Every treatment x outcome the table holds evidence for, with the primary answers of the table
above. Filled circles: pooled evidence (our REML + HKSJ meta-analysis, or a published review's pooled
estimate); open squares: trials that were not pooled (a single trial, or only the studies' conclusions); grey
crosses: no trials. Colour is certainty; the marker's area grows with the number of studies."""),
    ("code", "maps.evidence_map(review.headline);"),
]

_FOREST_CAPTION = ("Forest plots of every analysis of {label} with two or more trials. Squares: trials (area "
                   "proportional to the random-effects weight), lines: their 95% CIs; diamond: the pooled effect "
                   "and its 95% CI (REML, Hartung-Knapp-Sidik-Jonkman); red bar: the 95% prediction interval, "
                   "where the effect of a new trial would be expected to fall. Effects are mean differences "
                   "rescaled to 0-100 (MD100) or log risk ratios; left of zero favours {label}. RoB: the trial's "
                   "risk of bias (green low, red high, grey not assessed).")


def _forest_section(number: int, modality: str, heading: str, label: str) -> list[tuple[str, str]]:
    anchor = tables.forest_id(modality)
    return [("md", f"## {heading} <a id=\"{anchor}\"></a>\n\n**Figure {number}.** "
                   + _FOREST_CAPTION.format(label=label)),
            ("code", f"plots.forest_plots(review, \"{modality}\");")]


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
    ("md", """## Analyses of two or more trials

One row per analysis that pools two or more trials, with a forest plot below. *Pooled effect (95% CI)* and the
*95% prediction interval* are on the analysis scale (*MD on 0–100*: points on a 0-100 scale; *log RR*: the
logarithm of the risk ratio); *I²* says how much of the spread between trials is more than chance. With two or
three trials the HKSJ interval is wide: a t distribution with 1 or 2 degrees of freedom."""),
    ("code", "tables.display_table(tables.pooled_table(review))"),
    ("md", """## Single trials <a id="single-trials"></a>

Analyses that rest on one trial are not pooled and get no forest plot: each trial's own effect and 95% CI, on the
analysis scale (folded: open it to read)."""),
    ("code", "table = tables.single_trials(review)\n"
             "tables.display_table(table, summary=f\"Analyses of a single trial ({len(table)})\")"),
    *_forest_section(1, "exercise", "Exercise", "exercise"),
    *_forest_section(2, "acupuncture", "Acupuncture", "acupuncture"),
    *_forest_section(3, "spinal-manipulation", "Spinal manipulation", "spinal manipulation"),
    *_forest_section(4, "yoga", "Yoga", "yoga"),
    ("md", """## Small-study effects

A funnel plot and Egger's test look for small-study effects (such as publication bias); with fewer than 10
trials in an analysis they cannot show them, so they are drawn only for analyses of 10 or more trials."""),
    ("code", "tables.small_study_effects(review)"),
]

_SOF_TEXT = ("One row per question ({label} for one outcome, one population and one kind of comparison), answered "
             "by the strongest evidence. *Effect (95% CI)* is on a 0-100 scale where the outcome has one (negative "
             "favours {label}), with the scale it was analysed on; *Certainty* says how sure, and who rated it. "
             "Why each row has its certainty, and the answer in words, are folded below the table.")

_CORE = ("exercise", "acupuncture", "spinal-manipulation")
_OTHERS = [m for m in MODALITIES if m not in _CORE]  # every other treatment of the vocabulary, in its order

NOTEBOOKS["04-certainty"] = [
    ("md", """# How sure can we be? Certainty of the evidence

GRADE summary-of-findings tables, one per treatment, one row per question (outcome x population x comparison)
with the evidence that answers it. Evidence from randomised trials starts at *high* certainty and loses a level
for each serious problem: **risk of bias** (more than half of the weight from trials at high risk or unclear
risk; a trial no one assessed counts as unclear, and the reason says how many), **inconsistency** (I² of 50% or
more with a prediction interval that crosses no effect), **imprecision** (rated against the thresholds the 95% CI
crosses: the MID costs one level, no effect and the MID two, both MIDs three; fewer than 400 participants, or
none reported, cost one more, at most three) and **publication bias** (Egger's test, with 10 trials or more). Human
judgements, such as indirectness, come from refs/overrides.csv and are shown next to the rule-based rating.
Published reviews keep the certainty their authors gave; where they gave none we rate the published estimate
ourselves, counting its unseen risk of bias as unclear. Verdicts place the CI against no effect and the MID
(Hayden 2021: 15 points for pain, 10 for disability, on 0-100).

""" + SETUP_TEXT),
    ("code", FIRST),
    ("md", "## Exercise\n\n" + _SOF_TEXT.format(label="exercise")),
    ("code", "tables.summary_of_findings(review, \"exercise\")"),
    ("md", "## Acupuncture\n\n" + _SOF_TEXT.format(label="acupuncture")),
    ("code", "tables.summary_of_findings(review, \"acupuncture\")"),
    ("md", "## Spinal manipulation\n\n" + _SOF_TEXT.format(label="spinal manipulation")),
    ("code", "tables.summary_of_findings(review, \"spinal-manipulation\")"),
    ("md", "## The other treatments\n\nThe same table for each of them, in the vocabulary's order."),
]
for _modality in _OTHERS:
    NOTEBOOKS["04-certainty"] += [
        ("md", f"### {MODALITIES[_modality].label}"),
        ("code", f"tables.summary_of_findings(review, \"{_modality}\")"),
    ]
NOTEBOOKS["04-certainty"] += [
    ("md", """## Risk of bias of the trials behind the answers

**Figure 1.** Risk of bias of the randomised trials a headline answer rests on, summarised as robvis does: for all
of them and per treatment, how many are at low risk, some concerns, high risk, or were not assessed (counted, not
listed). A trial's category comes from a RoB 2 judgement where a Cochrane review published one, else a review's
RoB 1 domains, else its PEDro record: no validated mapping from PEDro to risk of bias exists, so ours is a stated
convention (`lbpevidence.grading.GradeRules`): low risk needs a total of 6 or more *and* random and concealed
allocation; below 4, or without random allocation, high; otherwise some concerns. A trial no one assessed counts
as unclear in the grading."""),
    ("code", "plots.rob_summary(tables.headline_trials(review));"),
    ("md", "The assessed trials behind the headline, and what their category rests on:"),
    ("code", "table = tables.headline_trials(review, assessed_only=True)\n"
             "tables.display_table(table, columns=[\"study\", \"modality\", \"category\", \"judged_from\"])"),
    ("md", """Every trial of the table with an assessment, for the researcher (folded), after the count of those
without one."""),
    ("code", "table, note = tables.assessed_trials(review)\nnote"),
    ("code", "tables.display_table(table, columns=tables.ROB_COLUMNS,\n"
             "                     summary=f\"Trials with a risk-of-bias judgement or PEDro score ({len(table)})\")"),
]

NOTEBOOKS["05-article-audit"] = [
    ("md", """# The article, audited

The popular article that prompted this review prints four references and makes claims about each treatment.
Here each printed reference is compared, field by field, with the verified records of the reference table, and
each claim with the evidence verdicts of notebooks 02 and 04.

""" + SETUP_TEXT),
    ("code", FIRST),
    ("md", """## The printed citations

One row per printed reference. *Verdict*: verified (every field agrees with the record meant), garbled (the
record meant is clear, but some fields are wrong), conflated (no single record: different fields point to
different publications), not found (nothing resembles it; a lead to check, not proof that it does not exist).
*Record meant (or nearest)* is the record's key, *Match* how closely it matches (0-1), *Fields printed wrong* the
fields that agree with no record the citation resembles."""),
    ("code", "tables.display_table(review.audit, digits=2, columns=tables.AUDIT_COLUMNS)"),
    ("md", """**Figure 1.** One bar per printed citation, coloured by the audit verdict; its length is the number of
bibliographic fields (of authors, title, journal, year, volume, issue and pages) printed wrong."""),
    ("code", "plots.audit_chart(review.audit);"),
    ("md", """## What each citation should say

For a garbled citation, the correction of each wrong field; for the others, which record each group of fields
resembles."""),
    ("code", "tables.display_table(review.audit, columns=tables.CORRECTION_COLUMNS)"),
    ("md", """## The claims

One row per claim of the article (paraphrased in refs/claims.csv), with the evidence it was checked against.
*Verdict*: supported (the evidence shows a benefit as strong as claimed, at the certainty the wording needs),
overstated (some benefit, but smaller or less certain than the wording says), unsupported (the evidence cannot
tell), contradicted (the evidence points the other way). *Verdict of the evidence*, *Certainty* and *Evidence*
are those of the evidence row used; *Why* explains the verdict."""),
    ("code", "tables.display_table(review.claims, columns=tables.CLAIM_COLUMNS)"),
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
    from lbpevidence import maps

    HEADLINE_PNG.parent.mkdir(exist_ok=True)
    figure = maps.headline_figure(lbp.load_review())
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

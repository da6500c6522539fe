"""The citation audit: printed citations against verified records, and the `audit` command.

Expected values are written out by hand from refs/article.bib, refs/studies.bib and the
field-by-field comparison in shared/research/evidence-leads.md (Task 1), never produced by
the code under test.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import pandas as pd
import pytest

import lbpevidence as lbp
from lbpevidence.citations import CITATION_COLUMNS, FIELD_COLUMNS, AuditThresholds, audit_citations
from lbpevidence.cli import main

ARTICLE = lbp.bundled_refs() / "article.bib"
CLAIMS = lbp.bundled_refs() / "claims.csv"
COLUMNS = ["key", "authors", "et_al", "title", "journal", "year", "volume", "issue", "pages", "doi", "pmid"]


@pytest.fixture(scope="module")
def refs():
    return lbp.read_references()


@pytest.fixture(scope="module")
def article(refs):
    return audit_citations(ARTICLE, refs)


def citation(result, key):
    rows = result.citations[result.citations["key"] == key]
    assert len(rows) == 1
    return rows.iloc[0]


def attributed(result, key):
    """(field, candidate) pairs the audit attributes for one printed citation."""
    rows = result.fields[(result.fields["printed_key"] == key) & result.fields["attributed"]]
    return set(zip(rows["field"], rows["candidate"], strict=True))


def field_row(result, key, field, candidate):
    rows = result.fields[(result.fields["printed_key"] == key) & (result.fields["field"] == field)
                         & (result.fields["candidate"] == candidate)]
    assert len(rows) == 1
    return rows.iloc[0]


# ------------------------------------------------------------------------------------------------
# The article's four printed citations (bundled refs/)
# ------------------------------------------------------------------------------------------------


def test_result_shape(article):
    assert list(article.citations.columns) == CITATION_COLUMNS
    assert list(article.fields.columns) == FIELD_COLUMNS
    assert article.to_frame() is article.citations
    assert article.citations["key"].tolist() == ["printed1", "printed2", "printed3", "printed4"]
    assert article.citations["printed_number"].tolist() == [1, 2, 3, 4]
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.citations = None


def test_printed2_cherkin_2009_is_garbled(article):
    row = citation(article, "printed2")
    assert row["verdict"] == "garbled"
    assert row["best_match"] == "cherkin2009randomized"
    assert set(row["wrong_fields"]) == {"title", "authors", "issue", "pages"}
    for field in ("journal", "year", "volume"):
        assert bool(field_row(article, "printed2", field, "cherkin2009randomized")["agrees"]) is True
    issue = field_row(article, "printed2", "issue", "cherkin2009randomized")
    assert (issue["printed_value"], issue["true_value"]) == ("16", "9")
    pages = field_row(article, "printed2", "pages", "cherkin2009randomized")
    assert (pages["printed_value"], pages["true_value"]) == ("1444–1451", "858–866")
    title = field_row(article, "printed2", "title", "cherkin2009randomized")
    assert title["true_value"] == ("A randomized trial comparing acupuncture, simulated acupuncture, and usual care "
                                   "for chronic low back pain")
    authors = field_row(article, "printed2", "authors", "cherkin2009randomized")["detail"]
    # Deyo is the 12th and last author, Barlow the 6th; the 2nd author is Sherman.
    assert "Deyo, R. A. is printed 2nd but is the 12th author" in authors
    assert "Barlow, W. E. is printed 3rd but is the 6th author" in authors
    assert "Sherman, K. J. (2nd author) is missing" in authors
    assert row["resembles"][0] == "cherkin2009randomized"
    assert "cherkin2009randomized" in row["explanation"] and "wrong" in row["explanation"]


def test_printed2_wrong_values_resemble_the_leads_candidates(article):
    # evidence-leads: the "Cherkin, Deyo ... Barlow" string matches the 1998 NEJM trial, and
    # page 1444 of Arch Intern Med is where Vickers 2012 starts.
    row = citation(article, "printed2")
    assert {"cherkin1998comparison", "vickers2012acupuncture"} <= set(row["resembles"])
    assert "a resemblance, not proof" in row["explanation"]


@pytest.mark.parametrize("key", ["printed1", "printed3", "printed4"])
def test_the_other_three_are_not_verified(article, key):
    row = citation(article, key)
    assert row["verdict"] == "conflated"
    assert row["explanation"].endswith("Check the original before calling it fabricated.")


def test_printed1_hides_names_year_volume_osullivan_and_the_medx_topic(article):
    row = citation(article, "printed1")
    assert {"hides1996multifidus", "osullivan1997evaluation", "risch1993lumbar"} <= set(row["resembles"])
    pairs = attributed(article, "printed1")
    assert {("authors", "hides1996multifidus"), ("year", "hides1996multifidus"),
            ("volume", "hides1996multifidus"), ("authors", "osullivan1997evaluation"),
            ("topic", "risch1993lumbar")} <= pairs
    # Spine 1996;21 is Hides' multifidus paper; issue 17 and pages 2048-2055 match nothing.
    assert set(row["wrong_fields"]) == {"issue", "pages"}


def test_printed3_giles_authors_and_an_exercise_review_topic(article):
    row = citation(article, "printed3")
    assert {"giles2003chronic", "hayden2005exercise"} <= set(row["resembles"])
    assert {("authors", "giles2003chronic"), ("year", "giles2003chronic"),
            ("topic", "hayden2005exercise")} <= attributed(article, "printed3")
    assert "Waddell" in row["explanation"]  # no record has Waddell as an author


def test_printed4_acupuncture_review_authors_and_the_smt_review_topic(article):
    row = citation(article, "printed4")
    authors_from = {"vantulder1999effectiveness", "furlan2005acupuncture", "furlan2005acupuncturespine"}
    assert authors_from & set(row["resembles"])
    assert "assendelft2003spinal" in row["resembles"]
    assert ("topic", "assendelft2003spinal") in attributed(article, "printed4")
    assert ("authors", "vantulder1999effectiveness") in attributed(article, "printed4")


def test_a_bib_path_and_its_table_give_the_same_audit(refs, article):
    table = lbp.read_references(ARTICLE, schema="printed")
    again = audit_citations(table, refs)
    pd.testing.assert_frame_equal(again.citations, article.citations)


def test_thresholds_are_used(refs):
    # printed2's title is 0.88 similar to the real one; demanding 0.95 leaves it unidentified.
    strict = audit_citations(ARTICLE, refs, AuditThresholds(title_match=0.95))
    assert citation(strict, "printed2")["verdict"] != "garbled"


def test_thresholds_are_frozen_and_checked():
    with pytest.raises(dataclasses.FrozenInstanceError):
        AuditThresholds().title_match = 0.5
    with pytest.raises(ValueError, match=re.escape("`title_match` must be between 0 and 1, but 1.5 was passed")):
        AuditThresholds(title_match=1.5)


# ------------------------------------------------------------------------------------------------
# Constructed variants of verified records
# ------------------------------------------------------------------------------------------------

CHERKIN_AUTHORS = ["Cherkin, D. C.", "Sherman, K. J.", "Avins, A. L.", "Erro, J. H.", "Ichikawa, L.", "Barlow, W. E.",
                   "Delaney, K.", "Hawkes, R.", "Hamilton, L.", "Pressman, A.", "Khalsa, P. S.", "Deyo, R. A."]


def variant(refs, key, **changes):
    """A printed citation built from a verified row, with some fields changed."""
    row = refs.loc[refs["key"] == key, COLUMNS].iloc[0].to_dict()
    row.update({"key": "variant", **changes})
    return pd.DataFrame([row])


def audit_one(refs, frame):
    return audit_citations(frame, refs).citations.iloc[0]


@pytest.mark.parametrize("identifiers", [True, False])
@pytest.mark.parametrize("key", ["cherkin2009randomized", "hides2001longterm", "cherkin1998comparison",
                                 "risch1993lumbar", "vickers2012acupuncture"])
def test_an_exact_copy_is_verified(refs, key, identifiers):
    frame = variant(refs, key) if identifiers else variant(refs, key, doi="", pmid="")
    result = audit_citations(frame, refs)
    row = result.citations.iloc[0]
    assert (row["verdict"], row["best_match"], row["wrong_fields"]) == ("verified", key, [])
    best = result.fields[result.fields["candidate"] == key]
    assert not (best["agrees"] == False).any()  # noqa: E712 (nullable booleans)


@pytest.mark.parametrize(("changes", "field", "correction"), [
    ({"year": 2010}, "year", "year: '2010' should be '2009'"),
    ({"volume": "196"}, "volume", "volume: '196' should be '169'"),
    ({"issue": "6"}, "issue", "issue: '6' should be '9'"),
    ({"pages": "858-686"}, "pages", "pages: '858-686' should be '858–866'"),
    ({"pages": "885-866"}, "pages", "pages: '885-866' should be '858–866'"),
    ({"authors": CHERKIN_AUTHORS[:1] + CHERKIN_AUTHORS[2:]}, "authors",
     "authors: Sherman, K. J. (2nd author) is missing"),
    ({"authors": [CHERKIN_AUTHORS[0], CHERKIN_AUTHORS[2], CHERKIN_AUTHORS[1], *CHERKIN_AUTHORS[3:]]}, "authors",
     "authors: Sherman, K. J. is printed 3rd but is the 2nd author"),
    ({"authors": [*CHERKIN_AUTHORS, "Doe, J."]}, "authors", "authors: Doe, J. is not an author of the record"),
    ({"authors": ["Cherkin, D. M.", *CHERKIN_AUTHORS[1:]]}, "authors",
     "authors: Cherkin, D. M. is Cherkin, D. C. in the record"),
    ({"title": "A randomized trial comparing acupuncture, simulated acupuncture, and usual care for acute low back "
               "pain"}, "title",
     "title: 'A randomized trial comparing acupuncture, simulated acupuncture, and usual care for acute low back "
     "pain' should be 'A randomized trial comparing acupuncture, simulated acupuncture, and usual care for chronic "
     "low back pain'"),
])
def test_each_single_field_corruption_is_caught_and_named(refs, changes, field, correction):
    row = audit_one(refs, variant(refs, "cherkin2009randomized", doi="", pmid="", **changes))
    assert (row["verdict"], row["best_match"], row["wrong_fields"]) == ("garbled", "cherkin2009randomized", [field])
    assert row["corrections"] == [correction]


@pytest.mark.parametrize(("key", "changes"), [
    ("cherkin2009randomized", {"journal": "Archives of Internal Medicine"}),
    ("cherkin1998comparison", {"journal": "N Engl J Med"}),
    ("assendelft2003spinal", {"journal": "Ann Intern Med"}),
    ("cherkin2009randomized", {"title": "A RANDOMIZED TRIAL COMPARING ACUPUNCTURE, SIMULATED ACUPUNCTURE, AND USUAL "
                                        "CARE FOR CHRONIC LOW BACK PAIN"}),
    ("cherkin2009randomized", {"title": "A randomized trial comparing acupuncture, simulated acupuncture and usual "
                                        "care for chronic low-back pain."}),
    ("cherkin2009randomized", {"title": "A {R}andomized trial comparing acupuncture, simulated acupuncture, and "
                                        "usual care for chronic low back pain"}),
    ("cherkin1998comparison", {"authors": ["Cherkin, DC", "Deyo, RA", "Batti{\\'e}, M", "Street, J", "Barlow, W"]}),
    ("cherkin1998comparison", {"authors": "Cherkin, Daniel C. and Deyo, Richard A. and Batti\\'{e}, Michele and "
                                          "Street, Janet and Barlow, William"}),
    ("cherkin2009randomized", {"pages": "858-866"}),
    ("cherkin2009randomized", {"pages": "858-66"}),
    ("hides2001longterm", {"pages": "E243-8"}),
    ("cherkin2009randomized", {"authors": ["Cherkin, D. C.", "Sherman, K. J.", "Avins, A. L."], "et_al": True}),
    ("cherkin2009randomized", {"authors": ["Cherkin DC", "Sherman KJ", "Avins AL", "et al."]}),
    ("cherkin2009randomized", {"authors": "Cherkin, D. C. and Sherman, K. J. and others"}),
    ("cherkin2009randomized", {"authors": [n.replace(".", "").replace(" ", "").replace(",", ", ")
                                           for n in CHERKIN_AUTHORS]}),
])
def test_harmless_differences_are_not_flagged(refs, key, changes):
    row = audit_one(refs, variant(refs, key, doi="", pmid="", **changes))
    assert (row["verdict"], row["best_match"], row["wrong_fields"]) == ("verified", key, [])


def test_a_citation_built_from_two_records_is_conflated_and_says_which_field_came_from_which(refs):
    # Authors, journal, year and volume of Cherkin 2009; title, issue and pages of Hides 2001.
    hides = refs.set_index("key").loc["hides2001longterm"]
    frame = variant(refs, "cherkin2009randomized", doi="", pmid="", title=hides["title"], issue=hides["issue"],
                    pages=hides["pages"])
    result = audit_citations(frame, refs)
    row = result.citations.iloc[0]
    assert row["verdict"] == "conflated"
    assert set(row["resembles"]) == {"cherkin2009randomized", "hides2001longterm"}
    pairs = attributed(result, "variant")
    assert {("authors", "cherkin2009randomized"), ("journal", "cherkin2009randomized"),
            ("year", "cherkin2009randomized"), ("volume", "cherkin2009randomized"),
            ("title", "hides2001longterm"), ("issue", "hides2001longterm"), ("pages", "hides2001longterm")} <= pairs
    assert "hides2001longterm: title, issue, pages" in row["sources"]
    assert row["wrong_fields"] == []


def test_a_made_up_citation_is_not_found_and_is_only_a_lead(refs):
    frame = pd.DataFrame([{"key": "made-up", "authors": ["Nobody, A. B."], "title": "Zebra husbandry in alpine meadows",
                           "journal": "Journal of Imaginary Results", "year": 1950, "volume": "1", "issue": "1",
                           "pages": "1-2"}])
    row = audit_one(refs, frame)
    assert row["verdict"] == "not found"
    assert "not proof that the work does not exist" in row["explanation"]


def test_a_citation_printing_only_a_title_is_identified_by_it(refs):
    frame = pd.DataFrame({"title": ["Spinal manipulative therapy for low back pain: a meta-analysis of "
                                    "effectiveness relative to other therapies"]})
    row = audit_one(refs, frame)
    assert (row["verdict"], row["best_match"], row["resembles"]) == ("verified", "assendelft2003spinal",
                                                                     ["assendelft2003spinal"])


def test_a_garbled_author_list_resembles_another_record_only_with_names_in_their_places(refs):
    # "Cherkin DC" alone: eleven authors dropped; other lists holding Cherkin elsewhere are no better.
    row = audit_one(refs, variant(refs, "cherkin2009randomized", doi="", pmid="", authors=["Cherkin DC"]))
    assert (row["verdict"], row["wrong_fields"], row["resembles"]) == ("garbled", ["authors"],
                                                                       ["cherkin2009randomized"])


def test_an_identifier_identifies_a_record_whatever_else_is_wrong(refs):
    frame = pd.DataFrame([{"key": "x", "authors": ["Doe, J."], "title": "Something else entirely",
                           "journal": "Spine", "year": 2001, "pmid": "19433697"}])
    row = audit_one(refs, frame)
    assert (row["verdict"], row["best_match"]) == ("garbled", "cherkin2009randomized")
    assert set(row["wrong_fields"]) == {"authors", "title", "journal", "year"}


def test_a_bad_thresholds_argument_fails_at_once(refs):
    with pytest.raises(TypeError, match="AuditThresholds"):
        audit_citations(ARTICLE, refs, thresholds={"title_match": 0.9})


# ------------------------------------------------------------------------------------------------
# The `audit` command
# ------------------------------------------------------------------------------------------------


def test_audit_command_markdown_exits_0_although_citations_fail(capsys):
    assert main(["audit", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| 2 | printed2 | garbled | cherkin2009randomized |" in out
    assert "## Wrong fields" in out
    assert "| 2 | printed2 | garbled | issue | 16 | 9 | cherkin2009randomized |" in out


def test_audit_command_json_and_csv(capsys):
    assert main(["audit", str(ARTICLE), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [c["verdict"] for c in payload["citations"]] == ["conflated", "garbled", "conflated", "conflated"]
    assert {w["field"] for w in payload["wrong_fields"] if w["key"] == "printed2"} == {"authors", "title", "issue",
                                                                                       "pages"}
    assert main(["audit", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("printed_number,key,verdict,best_match,score,wrong_fields")


def test_audit_command_exit_codes(write):
    bad = write("@article{printed1, title = {Unclosed\n", "article.bib")
    result = subprocess.run([sys.executable, "-m", "lbpevidence", "audit", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "unbalanced braces" in result.stderr
    assert main(["audit", str(ARTICLE)]) == 0
    with pytest.raises(SystemExit) as info:
        main(["audit", "--format", "yaml"])
    assert info.value.code == 2


def test_audit_command_without_claims_prints_citations_only(write, capsys):
    path = write(ARTICLE.read_text(encoding="utf-8"), "article.bib")
    assert main(["audit", str(path), "--format", "markdown"]) == 0  # no studies.bib beside it: the bundled one
    out = capsys.readouterr().out
    assert "## Citations" in out and "## Claims" not in out

"""The article audit: printed citations against verified records, claims against evidence verdicts.

Expected values are written out by hand from refs/article.bib, refs/studies.bib,
refs/claims.csv and the field-by-field comparison in shared/research/evidence-leads.md
(Task 1), never produced by the code under test.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lbpevidence as lbp
from lbpevidence.audit import (
    CITATION_COLUMNS,
    CLAIM_VERDICTS,
    FIELD_COLUMNS,
    AuditThresholds,
    ClaimRules,
    audit_citations,
    check_claims,
    compare_authors,
    normalise_journal,
    normalise_title,
    read_claims,
    same_journal,
    same_pages,
)
from lbpevidence.cli import main
from lbpevidence.errors import ClaimsTableError

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
# Normalisation helpers
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("Arch Intern Med", "Archives of Internal Medicine"),
    ("Ann Intern Med", "Annals of Internal Medicine"),
    ("N Engl J Med", "The New England Journal of Medicine"),
    ("Spine", "Spine (Phila Pa 1976)"),
    ("Cochrane Database Syst Rev", "Cochrane Database of Systematic Reviews"),
    ("BMJ", "British Medical Journal"),
    ("CMAJ", "Canadian Medical Association Journal"),
    ("Lancet", "The Lancet"),
    ("PM R", "PM&R"),
    ("Br J Sports Med", "British Journal of Sports Medicine"),
    ("Spine J", "The Spine Journal"),
    ("J Manipulative Physiol Ther", "Journal of Manipulative and Physiological Therapeutics"),  # fallback
])
def test_same_journal(a, b):
    assert same_journal(a, b) and same_journal(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("Spine", "Spine J"), ("Arch Intern Med", "Ann Intern Med"), ("Arch Intern Med", "JAMA Intern Med"),
    ("Br J Sports Med", "Spine"), ("Physiotherapy", "Phys Ther"), ("", "Spine"),
])
def test_different_journals(a, b):
    assert not same_journal(a, b)


def test_normalise_journal_drops_places_punctuation_and_stop_words():
    assert normalise_journal("The Journal of Bone & Joint Surgery (Am)") == ("journal", "bone", "joint", "surgery")


@pytest.mark.parametrize(("a", "b", "same"), [
    ("858-66", "858–866", True), ("858--866", "858-866", True), ("1444-51", "1444–1451", True),
    ("E243-8", "E243–E248", True), ("858", "858–866", True), ("CD001351", "CD001351", True),
    ("858-868", "858–866", False), ("885-866", "858–866", False), ("1444-1451", "1444–1453", False),
    ("", "858–866", False),
])
def test_same_pages(a, b, same):
    assert same_pages(a, b) is same


def test_normalise_title_ignores_case_punctuation_accents_latex_and_hyphens():
    assert normalise_title("Low-Back Pain: M{\\\"u}ller’s trial") == "low back pain mullers trial"
    assert normalise_title("low–back pain") == normalise_title("Low back pain")
    assert normalise_title("randomised") != normalise_title("randomized")


def test_compare_authors_kinds():
    real = ["Hides, J. A.", "Jull, G. A.", "Richardson, C. A."]
    assert compare_authors(["Hides JA", "Jull GA", "Richardson CA"], real).agrees is True
    assert compare_authors(["Hides JA", "Richardson CA"], real).kinds == ("dropped",)
    assert compare_authors(["Hides JA", "Richardson CA", "Jull GA"], real).kinds == ("reordered",)
    assert compare_authors(["Hides JA", "Jull GA", "Richardson CA", "Doe J"], real).kinds == ("added",)
    assert compare_authors(["Hides JB", "Jull GA", "Richardson CA"], real).kinds == ("initials",)
    # A truncated list is compared only on the names it prints: they must be the first ones.
    assert compare_authors(["Hides JA", "Jull GA", "et al."], real).agrees is True
    assert compare_authors(["Hides JA", "Richardson CA"], real, printed_truncated=True).kinds == (
        "reordered", "dropped")
    # A record that lists six names and "others": names beyond them cannot be checked.
    six = ["A, A.", "B, B.", "C, C.", "D, D.", "E, E.", "F, F.", "others"]
    assert compare_authors(["A A", "B B", "C C", "D D", "E E", "F F", "G G"], six).agrees is True
    # A record giving fewer initials is compatible ("Berman, B." for "Berman BM").
    assert compare_authors(["Berman BM"], ["Berman, Brian"]).agrees is True


NAMES = st.lists(st.from_regex(r"[A-Z][a-z]{2,8}, [A-Z]\. [A-Z]\.", fullmatch=True), min_size=1, max_size=8,
                 unique_by=lambda n: n.split(",")[0])


@given(NAMES, st.integers(min_value=1, max_value=8))
def test_a_list_agrees_with_itself_and_its_truncations(names, keep):
    assert compare_authors(names, names).agrees is True
    assert compare_authors([n.replace(".", "").replace(" ", "").replace(",", " ") for n in names], names).agrees
    assert compare_authors(names[:keep], names, printed_truncated=True).agrees is True


@given(NAMES.filter(lambda names: len(names) >= 2), st.data())
def test_any_swap_or_drop_is_flagged(names, data):
    i = data.draw(st.integers(min_value=0, max_value=len(names) - 2))
    swapped = [*names[:i], names[i + 1], names[i], *names[i + 2:]]
    assert compare_authors(swapped, names).kinds == ("reordered",)
    dropped = names[:i] + names[i + 1:]
    assert compare_authors(dropped, names).kinds == ("dropped",)


@given(st.integers(min_value=1, max_value=99_999), st.integers(min_value=0, max_value=500))
def test_abbreviated_page_ranges_equal_their_full_form(first, length):
    last = first + length
    full, short = str(first), str(last)
    while len(short) > 1 and len(short) == len(full) and short[0] == full[0]:
        short, full = short[1:], full[1:]  # drop the leading digits the two pages share
    assert same_pages(f"{first}-{short}", f"{first}–{last}")
    assert same_pages(f"{first}--{last}", f"{first}-{last}")


def test_compare_authors_similarity():
    real = ["Cherkin, D. C.", "Sherman, K. J.", "Avins, A. L.", "Deyo, R. A."]
    result = compare_authors(["Cherkin DC", "Deyo RA", "et al."], real)
    assert result.present == 1.0 and result.first_author is True
    assert result.similarity == pytest.approx((1 + 0.5) / 2)
    assert compare_authors([], real).agrees is None


# ------------------------------------------------------------------------------------------------
# read_claims
# ------------------------------------------------------------------------------------------------

HEADER = "claim_id,location,modality,outcome,population,claimed_direction,claimed_strength,citation,claim,notes\n"


def test_read_the_bundled_claims():
    claims = read_claims()
    assert len(claims) == 22
    assert claims["claim_id"].tolist()[:3] == ["C01", "C02", "C03"]
    c07 = claims.set_index("claim_id").loc["C07"]
    assert (c07["modality"], c07["outcome"], c07["population"], c07["claimed_direction"], c07["claimed_strength"],
            int(c07["citation"])) == ("lumbar-extension-machine", "pain", "chronic", "benefit", "strong", 1)
    assert pd.isna(claims.set_index("claim_id").loc["C02", "citation"])
    assert claims["valid"].all()
    assert int(claims.loc[0, "line"]) == 2


def test_read_claims_reports_every_problem(write):
    path = write(HEADER
                 + "C01,paragraph 1,acupunture,pain,chronic,benefit,strong,,Acupuncture helps.,\n"
                 + "C01,paragraph 2,yoga,pian,chronc,helps,very strong,7,,\n"
                 + "X9,paragraph 3,MBSR,any,mixed,no-benefit,weak,2,Mindfulness does not help.,\n",
                 "claims.csv")
    table, problems = read_claims(path, strict=False, printed=ARTICLE)
    assert problems["message"].tolist() == [
        f"{path}:2 C01 modality: found 'acupunture', expected a known modality (did you mean 'acupuncture'?); "
        "see refs/README.md",
        f"{path}:3 C01 citation: found '7', expected a printed_number of article.bib (1, 2, 3, 4) or an empty cell",
        f"{path}:3 C01 claim: found an empty cell, expected the claim, paraphrased in our words",
        f"{path}:3 C01 claim_id: found duplicate claim_id 'C01', expected unique ids (first at line 2)",
        f"{path}:3 C01 claimed_direction: found 'helps', expected one of benefit, no-benefit, harm",
        f"{path}:3 C01 claimed_strength: found 'very strong', expected one of strong, moderate, weak, unspecified",
        f"{path}:3 C01 outcome: found 'pian', expected a known outcome or 'any' (did you mean 'pain'?); "
        "see refs/README.md",
        f"{path}:3 C01 population: found 'chronc', expected a known population (did you mean 'chronic'?); "
        "see refs/README.md",
        f"{path}:4 X9 claim_id: found 'X9', expected an id of the form Cnn (C01, C02, ...)",
    ]
    assert table["valid"].tolist() == [False, False, False]
    assert table.loc[2, "modality"] == "mindfulness"  # synonyms become terms


def test_read_claims_strict_raises_claims_table_error(write):
    path = write(HEADER + "C01,p,acupunture,pain,chronic,benefit,strong,,A claim.,\n", "claims.csv")
    with pytest.raises(ClaimsTableError, match="did you mean 'acupuncture'") as info:
        read_claims(path)
    assert len(info.value.problems) == 1


def test_read_claims_checks_citations_against_a_sibling_article_bib(write, tmp_path):
    (tmp_path / "article.bib").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    path = write(HEADER + "C01,p,yoga,pain,mixed,benefit,weak,5,Yoga helps.,\n", "claims.csv")
    _, problems = read_claims(path, strict=False)
    assert problems["field"].tolist() == ["citation"]
    path.unlink()
    (tmp_path / "article.bib").unlink()
    path = write(HEADER + "C01,p,yoga,pain,mixed,benefit,weak,5,Yoga helps.,\n", "claims.csv")
    _, problems = read_claims(path, strict=False)  # no article.bib: the number is not checked
    assert problems.empty


def test_read_claims_missing_file_and_columns(write, tmp_path):
    _, problems = read_claims(tmp_path / "nope.csv", strict=False)
    assert problems["found"].tolist() == ["no such file"]
    path = write("claim_id,modality\nC01,yoga\n", "claims.csv")
    _, problems = read_claims(path, strict=False)
    assert {"outcome", "population", "claimed_direction", "claimed_strength", "claim"} <= set(problems["field"])


def test_validate_command_reads_claims(write):
    path = write(HEADER + "C01,p,acupunture,pain,chronic,benefit,strong,,A claim.,\n", "claims.csv")
    result = subprocess.run([sys.executable, "-m", "lbpevidence", "validate", str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert "did you mean 'acupuncture'" in result.stdout


# ------------------------------------------------------------------------------------------------
# check_claims
# ------------------------------------------------------------------------------------------------


def evidence_row(modality="acupuncture", outcome="pain", comparator_class="inactive", window="short-term",
                 certainty="moderate", verdict="important benefit", participants=300, measure="SMD",
                 estimate=-0.7, ci_low=-0.9, ci_high=-0.6, basis="pooled", evidence=("a2001", "b2002"),
                 population="chronic", k=None, year=2010, reported_certainty=""):
    return {"modality": modality, "outcome": outcome, "population": population,
            "comparator_class": comparator_class, "window": window, "k": k if k is not None else len(evidence),
            "participants": participants, "year": year, "measure": measure, "estimate": estimate, "ci_low": ci_low,
            "ci_high": ci_high, "certainty": certainty, "rated_by": "lbpevidence (GRADE rules)", "verdict": verdict,
            "basis": basis, "reasons": "", "evidence": list(evidence), "off_scale": False,
            "reported_certainty": reported_certainty}


def claim(modality="acupuncture", outcome="pain", direction="benefit", strength="moderate", claim_id="C01",
          population="chronic"):
    return {"claim_id": claim_id, "modality": modality, "outcome": outcome, "population": population,
            "claimed_direction": direction, "claimed_strength": strength, "citation": None}


def judge(claims, rows, rules=None):
    return check_claims(pd.DataFrame(claims), pd.DataFrame(rows), rules)


@pytest.mark.parametrize(("strength", "row", "expected"), [
    ("moderate", {}, "supported"),
    ("strong", {"certainty": "low"}, "overstated"),
    ("strong", {"certainty": "moderate"}, "supported"),
    ("strong", {"certainty": "very low"}, "overstated"),
    ("moderate", {"certainty": "very low"}, "unsupported"),    # very uncertain supports nothing
    ("weak", {"certainty": "very low"}, "unsupported"),
    ("weak", {"certainty": "low"}, "supported"),
    ("moderate", {"verdict": "benefit, possibly important", "certainty": "low"}, "supported"),
    ("moderate", {"verdict": "benefit below MID"}, "overstated"),
    ("strong", {"verdict": "benefit below MID"}, "overstated"),
    ("weak", {"verdict": "benefit below MID", "certainty": "low"}, "supported"),
    ("moderate", {"verdict": "insufficient evidence", "certainty": "very low"}, "unsupported"),
    ("moderate", {"verdict": "no important difference", "certainty": "low"}, "unsupported"),
    ("weak", {"verdict": "no important difference", "certainty": "moderate"}, "contradicted"),
    ("weak", {"verdict": "no important difference", "certainty": "high"}, "contradicted"),
    # as good as another active treatment is not evidence that it does not work
    ("weak", {"verdict": "no important difference", "certainty": "high", "comparator_class": "active"},
     "unsupported"),
    ("weak", {"verdict": "harm below MID", "certainty": "low"}, "contradicted"),
    ("weak", {"verdict": "important harm", "certainty": "very low"}, "contradicted"),
    ("moderate", {"verdict": "benefit reported, not quantified", "certainty": "very low"}, "unsupported"),
    ("weak", {"verdict": "no comparative estimate", "certainty": "very low", "basis": "non-comparative"},
     "unsupported"),
])
def test_claim_of_benefit_verdicts(strength, row, expected):
    result = judge([claim(strength=strength)], [evidence_row(**row)])
    assert result.loc[0, "verdict"] == expected


@pytest.mark.parametrize(("direction", "row", "expected"), [
    ("no-benefit", {"verdict": "no important difference"}, "supported"),
    ("no-benefit", {"verdict": "important benefit", "certainty": "high"}, "contradicted"),
    ("no-benefit", {"verdict": "important benefit", "certainty": "low"}, "unsupported"),
    ("no-benefit", {"verdict": "insufficient evidence"}, "unsupported"),
    ("harm", {"verdict": "harm below MID", "estimate": 0.4, "ci_low": 0.1, "ci_high": 0.5}, "supported"),
    ("harm", {"verdict": "important benefit"}, "unsupported"),
])
def test_claims_of_no_benefit_and_harm(direction, row, expected):
    result = judge([claim(direction=direction)], [evidence_row(**row)])
    assert result.loc[0, "verdict"] == expected


def test_no_row_means_no_evidence_in_table():
    result = judge([claim(modality="foam-rolling"), claim(outcome="disability", claim_id="C02")], [evidence_row()])
    assert result["verdict"].tolist() == ["no evidence in table", "no evidence in table"]
    assert result.loc[0, "reason"] == "The evidence table has no answer for foam-rolling, pain and chronic."
    assert result.loc[0, "evidence"] == []


def test_the_result_carries_the_evidence_row_it_relied_on():
    row = evidence_row(window="intermediate", basis="published review", evidence=("hayden2021exercise",))
    result = judge([claim()], [row]).iloc[0]
    assert (result["evidence_outcome"], result["evidence_population"], result["comparator_class"], result["window"],
            result["evidence_verdict"], result["certainty"], result["basis"], result["evidence"]) == (
        "pain", "chronic", "inactive", "intermediate", "important benefit", "moderate", "published review",
        ["hayden2021exercise"])
    assert result["reason"] == ("The evidence agrees with a moderate claim of benefit. Evidence: pain, chronic pain, "
                                "vs usual care / no treatment (intermediate): important benefit, moderate certainty, "
                                "published review.")


def test_the_strongest_evidence_answers_then_the_comparison_a_reader_asks_about():
    rows = [evidence_row(comparator_class="active", basis="published review", reported_certainty="moderate",
                         k=10, verdict="no important difference"),
            evidence_row(comparator_class="sham", k=3, verdict="benefit below MID"),
            evidence_row(comparator_class="inactive", k=1, basis="single trial", verdict="important benefit")]
    result = judge([claim()], rows).iloc[0]
    # a review with its authors' certainty (tier 1) beats a pooling of 3 (tier 2) and a single trial (tier 4)
    assert (result["comparator_class"], result["verdict"], result["rows_considered"]) == (
        "active", "unsupported", 3)
    assert len(result["other_rows"]) == 2
    same_tier = [evidence_row(comparator_class="sham", k=3), evidence_row(comparator_class="inactive", k=3,
                                                                          participants=100)]
    assert judge([claim()], same_tier).loc[0, "comparator_class"] == "inactive"


def test_a_review_pooling_mixed_controls_ranks_as_inactive():
    rows = [evidence_row(comparator_class="sham", participants=900, k=4),
            evidence_row(comparator_class="mixed", participants=100, k=4, verdict="benefit below MID")]
    assert judge([claim()], rows).loc[0, "comparator_class"] == "mixed"


def test_claims_are_matched_by_population():
    rows = [evidence_row(population="chronic", verdict="important benefit"),
            evidence_row(population="acute", verdict="no important difference", comparator_class="sham")]
    acute = judge([claim(population="acute")], rows).iloc[0]
    assert (acute["evidence_population"], acute["evidence_verdict"]) == ("acute", "no important difference")
    # no acute evidence: an acute claim is not judged on chronic-pain evidence
    only_chronic = judge([claim(population="acute")], rows[:1]).iloc[0]
    assert only_chronic["verdict"] == "no evidence in table"
    # but mixed populations stand in, and the reason says so
    mixed = [evidence_row(population="mixed")]
    stand_in = judge([claim(population="acute")], mixed).iloc[0]
    assert stand_in["evidence_population"] == "mixed" and "mixed populations" in stand_in["reason"]


def test_keys_given_as_text_are_split():
    row = evidence_row(verdict="important harm", certainty="very low", estimate=20.0, ci_low=16.0, ci_high=24.0,
                       measure="MD100")
    row["evidence"] = "a2001; b2002"
    result = judge([claim(strength="weak")], [row]).iloc[0]
    assert (result["verdict"], result["evidence"]) == ("contradicted", ["a2001", "b2002"])
    assert result["reason"].startswith("The claim says it helps, but the evidence favours the comparator.")


def test_outcome_any_is_judged_on_pain_first():
    rows = [evidence_row(outcome="disability", certainty="high"), evidence_row(outcome="pain", certainty="low"),
            evidence_row(modality="yoga", certainty="high")]
    result = judge([claim(outcome="any")], rows).iloc[0]
    assert (result["evidence_outcome"], result["rows_considered"]) == ("pain", 1)
    only_disability = judge([claim(outcome="any")], rows[:1]).iloc[0]
    assert only_disability["evidence_outcome"] == "disability"


def test_every_bundled_claim_gets_a_verdict():
    rows = [evidence_row("exercise", "pain", certainty="moderate", verdict="important benefit"),
            evidence_row("lumbar-extension-machine", "pain", certainty="very low", population="any",
                         comparator_class="any", basis="study-level only, not pooled",
                         verdict="benefit reported, not quantified"),
            evidence_row("spinal-manipulation", "pain", certainty="moderate", verdict="no important difference",
                         population="mixed"),
            evidence_row("acupuncture", "pain", comparator_class="sham", certainty="low",
                         verdict="benefit below MID", population="mixed"),
            evidence_row("massage", "pain", certainty="low", verdict="insufficient evidence", population="mixed")]
    claims = read_claims(CLAIMS)
    result = check_claims(claims, pd.DataFrame(rows))
    assert result["claim_id"].tolist() == claims["claim_id"].tolist()
    assert result["verdict"].isin(CLAIM_VERDICTS).all()
    verdicts = dict(zip(result["claim_id"], result["verdict"], strict=True))
    assert verdicts["C07"] == "overstated"      # MedX, strong claim, very low certainty
    assert verdicts["C08"] == "no evidence in table"  # MedX disability: no row
    assert verdicts["C11"] == "contradicted"    # manipulation, no important difference at moderate certainty
    assert verdicts["C12"] == "supported"       # acupuncture, weak claim, benefit below MID at low certainty
    assert verdicts["C13"] == "unsupported"     # massage, insufficient evidence
    assert verdicts["C22"] == "no evidence in table"  # foam rolling


def test_check_claims_fails_at_once_on_a_bad_verdict_table():
    with pytest.raises(ValueError, match="must have the columns"):
        check_claims(pd.DataFrame([claim()]), pd.DataFrame([{"modality": "yoga"}]))
    with pytest.raises(ValueError, match=r"The value for `verdict` must be one of .*, but 'great' was passed\."):
        judge([claim()], [evidence_row(verdict="great")])
    with pytest.raises(ValueError, match="`certainty`"):
        judge([claim()], [evidence_row(certainty="medium")])


def test_claim_rules_are_frozen_documented_and_checked():
    rules = ClaimRules()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.strong_needs = "low"
    assert rules.needed("strong") == "moderate" and rules.needed("moderate") == "low"
    with pytest.raises(ValueError, match="`strong_needs`"):
        ClaimRules(strong_needs="certain")
    lenient = ClaimRules(strong_needs="very low")
    assert judge([claim(strength="strong")], [evidence_row(certainty="low")], lenient).loc[0, "verdict"] == "supported"


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

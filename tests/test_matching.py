"""Matching: journals, pages, titles and author lists, compared as the citation audit and the importer do.

Expected values are written out by hand.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lbpevidence.matching import compare_authors, normalise_journal, normalise_title, same_journal, same_pages

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

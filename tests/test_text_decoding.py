"""Batch decoding must give exactly what decoding value by value gives (issue 9: speed without drift).

The loader decodes a whole column in one pass (latex.decode_many) and formats all author
names at once (names.split_authors_many); the one-value functions stay the reference.
Expected strings in the example tests are written by hand from the LaTeX conventions.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lbpevidence.latex import decode_latex, decode_many
from lbpevidence.names import split_authors, split_authors_many
from lbpevidence.references import _one_braced_group

# Characters that exercise every rule: accents, commands, escapes, braces, dashes, quotes, ties,
# math, whitespace of every kind, the NUL the batch joins with, and the placeholders it parks on.
MARKUP = st.lists(st.sampled_from([*"\\{}~$-`'\"^=.ucvHkrdb &%#_,;:!/ \t\n\r\x0b\x1c\x00\x02\x05aeoAZ1ß",
                                     "\\emph{", "\\'e", '\\"u', "\\ss", "\\TeX", "{\\o}", "--", "``", "''"]),
                   max_size=25).map("".join)


@given(st.lists(MARKUP, max_size=30))
def test_decode_many_equals_decoding_one_by_one(values):
    assert decode_many(values) == {value: decode_latex(value) for value in values}


@pytest.mark.parametrize(("values", "expected"), [
    ([r"Caf{\'e}", "plain", "  spaced  out  "], ["Café", "plain", "  spaced  out  "]),  # no markup: unchanged
    (["a\nb", "x\t y", "1--9"], ["a b", "x y", "1–9"]),
    (["M{\\\"u}ller\x00", r"{\O}stergaard"], ["Müller\x00", "Østergaard"]),  # a NUL inside: decoded alone
    ([r"ends with \\", r"\c c and --- \emph{x}"], ["ends with", "ç and — x"]),
])
def test_decode_many_examples(values, expected):
    assert list(decode_many(values).values()) == expected


NAMES = st.lists(st.sampled_from([
    "Doe, Jane", "Jane Doe", "van der Berg, Anna", "Ludwig van Beethoven", "{World Health Organization}",
    r"M{\"u}ller, Hans-Peter", "O'Sullivan, P B", "de la Fuente Jr, Juan", "others", "Smith,", "A. B. Cher",
    "{Barnes and Noble}", "Zo{\\\"e} Kov{\\'a}cs", "LGF Giles", "K.", "  Padded ,  Name  ", "x",
]), min_size=1, max_size=6)


@given(st.lists(NAMES.map(" and ".join), max_size=12))
def test_split_authors_many_equals_one_by_one(fields):
    many = split_authors_many(fields)
    for field in fields:
        names, truncated = split_authors(field)
        assert many[field] == (tuple(names), truncated)


def test_split_authors_many_formats_names():
    many = split_authors_many(["Jane Doe and van der Berg, Anna and others", r"M{\"u}ller, Hans-Peter"])
    assert many == {"Jane Doe and van der Berg, Anna and others": (("Doe, J.", "van der Berg, A."), True),
                    r"M{\"u}ller, Hans-Peter": (("Müller, H.-P.",), False)}


@pytest.mark.parametrize(("raw", "expected"), [
    ("{plain}", "plain"),
    ("{A {DNA} study}", "A {DNA} study"),
    ("{" * 50 + "deep" + "}" * 50, "{" * 49 + "deep" + "}" * 49),  # deeper than any regex could follow
    ("{}", ""),
    ("{a}{b}", None),  # two groups: concatenation needs the tokenizer
    ("{a}}", None),
    ("{a{b}", None),
    ("{a} # {b}", None),
    ('"quoted"', None),
    ("{", None),
])
def test_one_braced_group(raw, expected):
    assert _one_braced_group(raw) == expected


def _one_group_by_hand(raw: str) -> str | None:
    """Reference for the fast path, written independently: walk the characters, track the depth."""
    if len(raw) < 2 or raw[0] != "{" or raw[-1] != "}":
        return None
    depth = 0
    for position, char in enumerate(raw):
        depth += (char == "{") - (char == "}")
        if depth < 0 or (depth == 0 and position < len(raw) - 1):
            return None  # a brace closed too early, or the first group ended before the value did
    return raw[1:-1] if depth == 0 else None


@given(st.text(alphabet="{}ab #\"", max_size=30))
def test_one_braced_group_agrees_with_a_character_walk(raw):
    assert _one_braced_group(raw) == _one_group_by_hand(raw)

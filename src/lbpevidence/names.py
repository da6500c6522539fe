"""Author names: the one place that splits author lists and names into their parts.

BibTeX separates names with ``and`` (any case, outside braces) and writes each as
``Last, First``, ``Last, Jr, First`` or ``First von Last``; ``others`` marks a
truncated list. Braced groups (``{World Health Organization}``) are one name.
:func:`split_authors` turns such a field into ``"Last, F. M."`` names.

A printed citation writes names as ``Last, F. M.``, ``Last, FM`` or, Vancouver style,
``Last FM``, and ends a truncated list with ``et al.``: :func:`split_name` with
``printed=True`` and :func:`author_list` read those (the citation audit compares them,
:mod:`lbpevidence.matching`).

Examples
--------
>>> split_authors("Cherkin, Daniel C. and Sherman, Karen J and others")
(['Cherkin, D. C.', 'Sherman, K. J.'], True)
>>> split_authors("Ludwig van Beethoven and {World Health Organization}")
(['van Beethoven, L.', 'World Health Organization'], False)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import chain

from .latex import decode_latex, decode_many

__all__ = ["TRUNCATION_MARKS", "author_list", "format_name", "initials", "last_name", "split_authors",
           "split_authors_many", "split_name"]

#: What ends a truncated author list: BibTeX's ``and others``, a citation's ``et al.`` (lower case).
TRUNCATION_MARKS = frozenset({"others", "et al.", "et al", "etal"})

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",")
_GIVEN_WORD = re.compile(r"[^\s.]+")
_SPACE = re.compile(r"\s+")
_SUFFIXES = frozenset({"Jr", "Sr", "2nd", "3rd", "4th"})


def _split_top_level(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Split ``text`` on ``pattern`` only where no brace is open."""
    if "{" not in text:  # the common case, at C speed
        return [p for p in map(str.strip, pattern.split(text)) if p]
    parts, depth, start, pos = [], 0, 0, 0
    for match in pattern.finditer(text):
        segment = text[pos:match.start()]
        depth += segment.count("{") - segment.count("}")
        pos = match.start()
        if depth == 0:
            parts.append(text[start:match.start()])
            start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


@lru_cache(maxsize=65536)
def initials(given: str) -> str:
    """Initials of given names: ``"Jean-Pierre M"`` -> ``"J.-P. M."``.

    >>> initials("Daniel C."), initials("LGF"), initials(""), initials("Jean-Pierre M")
    ('D. C.', 'L. G. F.', '', 'J.-P. M.')
    """
    out = []
    for word in _GIVEN_WORD.findall(given):  # words split at spaces and periods, at C speed
        if "-" in word:
            out.append("-".join(f"{piece[0]}." for piece in word.split("-") if piece))
        elif word.isupper() and len(word) <= 4:
            out.extend(f"{ch}." for ch in word)  # "LGF" is three initials, as PubMed writes them
        else:
            out.append(f"{word[0]}.")
    return " ".join(out)


def _parts(name: str) -> tuple[str, str]:
    """Return (last, given) for one BibTeX name."""
    if "{" not in name:  # the common case: plain str methods, no brace bookkeeping
        if "," not in name:
            words = name.split()
            if len(words) == 2 and not words[0][:1].islower():
                return words[1], words[0]  # "Given Last", the commonest shape without a comma
            pieces = []
        else:
            pieces = [p for p in map(str.strip, name.split(",")) if p]
            words = name.split() if len(pieces) < 2 else []
    elif name[0] == "{" and name[-1] == "}" and name.count("{") == 1:
        return name[1:-1].strip(), ""
    else:
        pieces = _split_top_level(name, _COMMA)
        words = _split_top_level(name, _SPACE) if len(pieces) < 2 else []
    if len(pieces) >= 2:
        return pieces[0], pieces[-1]
    if len(words) == 1:
        return words[0], ""
    # "First von Last": the last name starts at the first lower-case word (von part).
    for i, word in enumerate(words[:-1]):
        if word[:1].islower():
            return " ".join(words[i:]), " ".join(words[:i])
    return words[-1], " ".join(words[:-1])


def last_name(name: str) -> str:
    """Last name of one BibTeX name, braces removed.

    >>> last_name("van Tulder, Maurits W")
    'van Tulder'
    """
    return decode_latex(_parts(name)[0])


def split_name(name: str, printed: bool = False) -> tuple[str, str]:
    """``(last, given)`` of one name, LaTeX decoded.

    By default ``name`` is a BibTeX name (``Last, First``, ``Last, Jr, First``, ``First von
    Last``, ``{Organisation}``). With ``printed=True`` it is a name as a citation prints it:
    ``Last, F. M.``, ``Last, FM`` or ``Last FM`` (Vancouver and MEDLINE: a last word of one
    to four capitals, after a ``Jr``/``Sr`` suffix is dropped); any other text is one name
    without given names (an organisation, a single name).

    Examples
    --------
    >>> split_name("Ludwig van Beethoven"), split_name(r"M{\\"u}ller, Hans")
    (('van Beethoven', 'Ludwig'), ('Müller', 'Hans'))
    >>> split_name("Cherkin DC", printed=True), split_name("World Health Organization", printed=True)
    (('Cherkin', 'DC'), ('World Health Organization', ''))
    >>> split_name("van Tulder MW", printed=True), split_name("Smith JA Jr", printed=True)
    (('van Tulder', 'MW'), ('Smith', 'JA'))
    """
    if not printed:
        last, given = _parts(name)
        return decode_latex(last), decode_latex(given)
    text = decode_latex(str(name)).strip()
    if "," in text:
        last, given = text.split(",", 1)
        return last.strip(), given.strip()
    words = text.split()
    if len(words) >= 3 and words[-1] in _SUFFIXES:
        words = words[:-1]  # "Smith JA Jr": the suffix is no initial
    if len(words) >= 2 and _is_initials(words[-1]):
        return " ".join(words[:-1]), words[-1]
    return text, ""


def _is_initials(word: str) -> bool:
    letters = word.replace(".", "")
    return 1 <= len(letters) <= 4 and letters.isalpha() and letters.isupper()


def author_list(names: object, truncated: bool | None = False) -> tuple[list[str], bool]:
    """An author list as ``(names, truncated)``, from a BibTeX ``author`` field or a list of names.

    A field is split by :func:`split_authors`; a list keeps its names as given, less a last
    item that marks truncation (:data:`TRUNCATION_MARKS`). ``truncated`` is true when the
    list says so or the caller does; a missing value is an empty list.

    Examples
    --------
    >>> author_list(["Cherkin DC", "Sherman KJ", "et al."])
    (['Cherkin DC', 'Sherman KJ'], True)
    >>> author_list("Cherkin, Daniel C. and Sherman, Karen J."), author_list(None)
    ((['Cherkin, D. C.', 'Sherman, K. J.'], False), ([], False))
    """
    if names is None or (isinstance(names, float) and math.isnan(names)):
        return [], bool(truncated)
    if isinstance(names, str):
        found, flag = split_authors(names) if names.strip() else ([], False)
        return found, bool(truncated) or flag
    items = [str(n).strip() for n in names if str(n).strip()]  # type: ignore[attr-defined]
    flag = bool(items) and items[-1].lower() in TRUNCATION_MARKS
    if flag:
        items = items[:-1]
    return items, bool(truncated) or flag


def _join(last: str, given: str) -> str:
    """``"Last, F. M."`` from a decoded last name and decoded given names."""
    short = initials(given)
    return f"{last}, {short}" if short else last


@lru_cache(maxsize=131072)
def format_name(name: str) -> str:
    """Format one BibTeX name as ``"Last, F. M."`` (an organisation stays whole).

    >>> format_name("Giles, L. G. F."), format_name("O'Sullivan, Peter B")
    ('Giles, L. G. F.', "O'Sullivan, P. B.")
    >>> format_name(r"M{\\"u}ller, {\\"O}rjan")
    'Müller, Ö.'
    """
    last, given = _parts(name)
    return _join(decode_latex(last), decode_latex(given))


def _names(field: str) -> tuple[list[str], bool]:
    """The raw names of an ``author`` field and whether it ends in ``and others``."""
    names = _split_top_level(field, _AND)
    truncated = bool(names) and names[-1].lower() in TRUNCATION_MARKS
    return (names[:-1] if truncated else names), truncated


@lru_cache(maxsize=65536)
def _split_authors_cached(field: str) -> tuple[tuple[str, ...], bool]:
    names, truncated = _names(field)
    return tuple(format_name(n) for n in names), truncated


def split_authors(field: str) -> tuple[list[str], bool]:
    """Split an ``author`` field into formatted names and an "and others" flag."""
    names, truncated = _split_authors_cached(field)
    return list(names), truncated


def split_authors_many(fields: Iterable[str]) -> dict[str, tuple[tuple[str, ...], bool]]:
    """:func:`split_authors` for many fields at once, ``{field: (names, truncated)}``.

    A table repeats names across entries: each distinct name is split once and all name
    parts are decoded in one pass (:func:`lbpevidence.latex.decode_many`).

    >>> split_authors_many(["Doe, Jane and M{\\"u}ller, Hans", "Doe, Jane and others"])["Doe, Jane and others"]
    (('Doe, J.',), True)
    """
    raw = {field: _names(field) for field in fields}
    parts = {name: _parts(name) for name in dict.fromkeys(chain.from_iterable(names for names, _ in raw.values()))}
    decoded = decode_many(chain.from_iterable(parts.values()))
    formatted = {name: _join(decoded[last], decoded[given]) for name, (last, given) in parts.items()}
    return {field: (tuple(map(formatted.__getitem__, names)), truncated) for field, (names, truncated) in raw.items()}

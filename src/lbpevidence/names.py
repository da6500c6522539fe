"""Author lists: BibTeX ``author`` strings -> ``"Last, F. M."`` names.

BibTeX separates names with ``and`` (any case, outside braces) and writes each as
``Last, First``, ``Last, Jr, First`` or ``First von Last``; ``others`` marks a
truncated list. Braced groups (``{World Health Organization}``) are one name.

Examples
--------
>>> split_authors("Cherkin, Daniel C. and Sherman, Karen J and others")
(['Cherkin, D. C.', 'Sherman, K. J.'], True)
>>> split_authors("Ludwig van Beethoven and {World Health Organization}")
(['van Beethoven, L.', 'World Health Organization'], False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import chain

from .latex import decode_latex, decode_many

__all__ = ["format_name", "initials", "last_name", "split_authors", "split_authors_many"]

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",")
_GIVEN_WORD = re.compile(r"[^\s.]+")
_SPACE = re.compile(r"\s+")


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
    truncated = bool(names) and names[-1].lower() in {"others", "et al.", "et al"}
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

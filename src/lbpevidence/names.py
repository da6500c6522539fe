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
from functools import lru_cache

from .latex import decode_latex

__all__ = ["format_name", "initials", "last_name", "split_authors"]

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",")
_GIVEN_WORD = re.compile(r"[^\s.]+")
_SPACE = re.compile(r"\s+")


def _split_top_level(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Split ``text`` on ``pattern`` only where no brace is open."""
    if "{" not in text:  # the common case, at C speed
        return [p.strip() for p in pattern.split(text) if p.strip()]
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
    if name.startswith("{") and name.endswith("}") and name.count("{") == 1:
        return name[1:-1].strip(), ""
    if "{" not in name:  # the common case: plain str methods, no brace bookkeeping
        pieces = [p.strip() for p in name.split(",") if p.strip()]
        words = name.split() if len(pieces) < 2 else []
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


@lru_cache(maxsize=131072)
def format_name(name: str) -> str:
    """Format one BibTeX name as ``"Last, F. M."`` (an organisation stays whole).

    >>> format_name("Giles, L. G. F."), format_name("O'Sullivan, Peter B")
    ('Giles, L. G. F.', "O'Sullivan, P. B.")
    >>> format_name(r"M{\\"u}ller, {\\"O}rjan")
    'Müller, Ö.'
    """
    last, given = (decode_latex(part) for part in _parts(name))
    short = initials(given)
    return f"{last}, {short}" if short else last


@lru_cache(maxsize=65536)
def _split_authors_cached(field: str) -> tuple[tuple[str, ...], bool]:
    names = _split_top_level(field, _AND)
    truncated = bool(names) and names[-1].lower() in {"others", "et al.", "et al"}
    if truncated:
        names = names[:-1]
    return tuple(format_name(n) for n in names), truncated


def split_authors(field: str) -> tuple[list[str], bool]:
    """Split an ``author`` field into formatted names and an "and others" flag."""
    names, truncated = _split_authors_cached(field)
    return list(names), truncated

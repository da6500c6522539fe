"""LaTeX markup in BibTeX values -> plain Unicode text.

Why not bibtexparser's ``LatexDecodingMiddleware``? On this project's benchmark it made
parsing 25-35x slower and dropped macros it did not know (``\\TeX`` vanished). This
decoder handles what bibliographies actually contain (accents, special letters,
dashes, quotes, text-formatting commands, protective braces), keeps the name of any
macro it does not know rather than dropping it, and only runs on values that contain
markup. Results are cached because bibliographies repeat the same strings (journal
names, author names) thousands of times.

Examples
--------
>>> decode_latex(r'M{\\"u}ller')
'Müller'
>>> decode_latex(r"Caf{\\'e} \\& {B}ar -- \\TeX{} \\emph{today}")
'Café & Bar – TeX today'
>>> decode_latex('plain text is returned unchanged')
'plain text is returned unchanged'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["decode_latex", "decode_many", "needs_decoding", "normalise_pages"]

# Combining marks for LaTeX accent commands.
_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}

# Argument-less macros that stand for a character or word.
_SYMBOLS = {
    "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å",
    "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð", "th": "þ",
    "TH": "Þ", "ng": "ŋ", "NG": "Ŋ", "textendash": "–", "textemdash": "—", "ldots": "…",
    "dots": "…", "textquoteright": "’", "textquoteleft": "‘", "textregistered": "®",
    "texttrademark": "™", "copyright": "©", "textdegree": "°", "textperiodcentered": "·",
    "S": "§", "P": "¶", "pounds": "£", "euro": "€", "textasciitilde": "\x05", "textbackslash": "\\",
    "textbraceleft": "\x02", "textbraceright": "\x03",
    "TeX": "TeX", "LaTeX": "LaTeX", "BibTeX": "BibTeX", "times": "×", "pm": "±", "le": "≤",
    "ge": "≥", "leq": "≤", "geq": "≥", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ",
    "epsilon": "ε", "kappa": "κ", "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ",
    "chi": "χ", "omega": "ω", "Delta": "Δ", "Sigma": "Σ", "Omega": "Ω", "infty": "∞",
}

# Commands whose argument is text to keep (their formatting is dropped).
_TEXT_COMMANDS = {
    "emph", "textit", "textbf", "textsc", "texttt", "textrm", "textsf", "textsl", "textup",
    "textnormal", "mathrm", "mathit", "mathbf", "mathsf", "mathtt", "mbox", "hbox", "url",
    "textsuperscript", "textsubscript", "uppercase", "lowercase", "MakeUppercase", "MakeLowercase",
    "text", "underline", "enquote", "NoCaseChange", "bibstring", "mkbibquote",
}
_SWITCHES = {"em", "it", "bf", "sc", "tt", "rm", "sf", "sl", "normalfont", "small", "large", "relax"}
_ESCAPED = {"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}", " ": " ", ",": " ",
            ";": " ", ":": " ", "!": "", "/": "", "-": "", "\\": " "}

_PARKED = {"{": "\x02", "}": "\x03", "$": "\x04", "~": "\x05"}
# Line breaks and tabs too: a value written over several lines is collapsed to one, like any other.
_MARKUP = re.compile(r"[\\{}~$\n\r\t]|--|``|''")
_ACCENT_ARG = re.compile(r"\\([\"'`^~=.uvHckrdb])(?:\s*\{\s*(\\?[A-Za-z])\s*\}|(?<=[\"'`^~=.])\s*(\\?[A-Za-z])"
                         r"|\s+(\\?[A-Za-z]))")
_COMMAND = re.compile(r"\\([A-Za-z]+)\s*(\{\})?")
_TEXT_COMMAND = re.compile(r"\\(" + "|".join(sorted(_TEXT_COMMANDS, key=len, reverse=True)) + r")\s*\{")
_ESCAPE = re.compile(r"\\([&%$#_{} ,;:!/\-\\])")
# Whitespace to collapse: a run of two or more, or one tab/newline (the lookbehind: not a space). A lone
# space is left alone, so the substitution touches few places; the leading \s lets the regex skip ahead.
_SPACES = re.compile(r"\s(?:\s+|(?<=[^ ]))")


def needs_decoding(value: str) -> bool:
    """True when ``value`` contains LaTeX markup, braces, ties, dashes or line breaks to convert.

    >>> needs_decoding("Spine"), needs_decoding("{S}pine")
    (False, True)
    """
    return _MARKUP.search(value) is not None


def _accent(match: re.Match[str]) -> str:
    mark = _ACCENTS[match.group(1)]
    base = match.group(2) or match.group(3) or match.group(4)
    base = {"\\i": "i", "\\j": "j"}.get(base, base.lstrip("\\"))
    return unicodedata.normalize("NFC", base + mark)


def _strip_text_commands(value: str) -> str:
    # \emph{x} -> {x}: the braces go with all other protective braces below.
    return _TEXT_COMMAND.sub("{", value)


def _command(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    if name in _SWITCHES:
        return ""
    return name  # unknown macro: keep its name rather than silently dropping text


@lru_cache(maxsize=131072)
def decode_latex(value: str) -> str:
    """Decode LaTeX markup in one BibTeX field value to Unicode.

    Accents (``{\\"u}``, ``\\'{e}``, ``\\c c``) become precomposed characters; special
    letters (``\\ss``, ``\\o``), ``--``/``---`` dashes, TeX quotes and ties become
    their Unicode forms; text commands (``\\emph{}``) keep their text; protective
    braces go; whitespace is collapsed. Unknown macros keep their name.

    Examples
    --------
    >>> decode_latex(r"Sch{\\"o}n \\c{c}a {\\'\\i} 50\\% \\{x\\} \\$5 \\textasciitilde{}")
    'Schön ça í 50% {x} $5 ~'
    >>> decode_latex("``Quoted'' --- {DNA} in $\\\\alpha$-cells")
    '“Quoted” — DNA in α-cells'
    """
    if not needs_decoding(value):
        return value
    return _decode_markup(value).strip()


def _decode_markup(text: str) -> str:
    """The steps of :func:`decode_latex`, whitespace collapsed but not stripped.

    No pattern here matches or produces a NUL, and none reaches across one: text joined
    with NUL decodes to the decoded parts joined with NUL (see :func:`decode_many`).
    """
    text = _ACCENT_ARG.sub(_accent, text)
    text = _strip_text_commands(text)
    # Escaped braces are literal: park them where brace removal cannot reach.
    text = _ESCAPE.sub(lambda m: _PARKED.get(m.group(1), _ESCAPED[m.group(1)]), text)
    text = _COMMAND.sub(_command, text)
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = text.replace("{", "").replace("}", "").replace("$", "").replace("~", " ")
    text = text.replace("\x02", "{").replace("\x03", "}").replace("\x04", "$").replace("\x05", "~")
    return _SPACES.sub(" ", text)


_SEPARATOR = "\x00"


def decode_many(values: Iterable[str]) -> dict[str, str]:
    """Decode many values at once: ``{value: decode_latex(value)}`` for each distinct value.

    A table has tens of thousands of values; calling :func:`decode_latex` on each costs
    more in calls than in decoding. Here the values with markup are joined with NUL and
    each regex runs once over the whole text; no step reaches across a NUL, so the parts
    are exactly what decoding them one by one gives. Values that contain a NUL themselves
    are decoded one by one.

    Examples
    --------
    >>> decoded = decode_many([r"M{\\"u}ller", "Spine", r"M{\\"u}ller", "1--9"])
    >>> len(decoded), list(decoded.values())
    (3, ['Müller', 'Spine', '1–9'])
    """
    decoded = {value: value for value in values}
    marked = [value for value in decoded if _MARKUP.search(value) is not None]
    joinable = [value for value in marked if _SEPARATOR not in value]
    if joinable:
        parts = _decode_markup(_SEPARATOR.join(joinable)).split(_SEPARATOR)
        decoded.update(zip(joinable, (part.strip() for part in parts), strict=True))
    for value in marked:
        if _SEPARATOR in value:
            decoded[value] = decode_latex(value)
    return decoded


_PAGE_RANGE = re.compile(r"^\s*([A-Za-z]*\d+[A-Za-z]*)\s*(?:-{1,3}|–|—|−)\s*([A-Za-z]*\d+[A-Za-z]*)\s*$")


def normalise_pages(pages: str) -> str:
    """Write a page range with an en dash, whatever dash or hyphen the source used.

    >>> normalise_pages("858--866"), normalise_pages("E243-E248"), normalise_pages("CD009790")
    ('858–866', 'E243–E248', 'CD009790')
    """
    match = _PAGE_RANGE.match(pages)
    if match:
        return f"{match.group(1)}–{match.group(2)}"
    return pages.strip()

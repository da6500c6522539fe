"""Defences against hostile text: text that drives a terminal, a spreadsheet or a web page.

Small functions, each used where output leaves (files that are not files are met where
input enters: :mod:`lbpevidence.textio`):

* :func:`terminal_safe` makes text harmless on a terminal: escape sequences, other
  control characters, bidirectional overrides and lone surrogates (from a path that
  is not UTF-8) are shown as ``\\x1b`` / ``\\u202e`` escapes. The CLI passes everything it
  prints through it (:class:`SafeStream`).
* :func:`spreadsheet_safe` neutralises a CSV cell a spreadsheet would run as a formula
  (a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return): a ``'`` is put in front.
* :func:`markdown_safe` escapes raw HTML in a markdown table cell.
* :func:`is_web_url` accepts only ``http(s)://`` URLs (no ``javascript:``, ``data:``, ``file:``).

This module imports nothing heavy.

Examples
--------
>>> terminal_safe("doe\\x1b[31mred\\u202e")
'doe\\\\x1b[31mred\\\\u202e'
>>> spreadsheet_safe('=HYPERLINK("http://evil")'), spreadsheet_safe("-1.5"), spreadsheet_safe("-1+2")
('\\'=HYPERLINK("http://evil")', '-1.5', "'-1+2")
>>> markdown_safe("<script>alert(1)</script> & more")
'&lt;script&gt;alert(1)&lt;/script&gt; & more'
>>> is_web_url("https://pubmed.ncbi.nlm.nih.gov/1/"), is_web_url("javascript:alert(1)")
(True, False)
"""

from __future__ import annotations

import math
import re
from typing import TextIO

__all__ = ["SafeStream", "is_web_url", "markdown_safe", "spreadsheet_safe", "terminal_safe"]

# --- terminal -----------------------------------------------------------------------------------------

# C0 controls but tab and line feed, DEL, C1 controls (0x9b is an 8-bit ESC [), bidirectional overrides
# and isolates ("Trojan source"), line/paragraph separators, and lone surrogates (undecodable path bytes).
_UNSAFE_FOR_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029"
                                  "\u2066-\u2069\ufeff\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    # C0 controls as \x1b; the rest as \u009b, which is also a valid escape inside a JSON string (json.dumps
    # escapes C0 itself, but leaves DEL, C1, bidi controls and lone surrogates as they are).
    return f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every character that could drive a terminal shown as an escape (``\\x1b``, ``\\u009b``).

    Tab and line feed stay; carriage return is escaped (it rewrites the line already
    printed). A lone surrogate (a byte of a path that is not UTF-8) shows as ``\\udcff``,
    as Python itself shows it.

    >>> terminal_safe("a\\tb\\nc\\rd\\x9b2J\\x7f")
    'a\\tb\\nc\\\\x0dd\\\\u009b2J\\\\u007f'
    """
    return _UNSAFE_FOR_TERMINAL.sub(_escape_char, text)


class SafeStream:
    """A text stream that writes :func:`terminal_safe` text to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


# --- exports ------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula: text starting with ``= + - @``, tab or CR gets a ``'``.

    Numbers, and text that is just a number (``-1.5``), are left as they are.
    """
    if not isinstance(value, str):
        return value
    stripped = value.lstrip(" ")
    if not stripped.startswith(_FORMULA_START):
        return value
    try:
        if math.isfinite(float(stripped)) and not stripped.startswith(("\t", "\r")):
            return value
    except ValueError:
        pass
    return "'" + value


_ENTITY = re.compile(r"&(?=#?\w+;)")


def markdown_safe(text: str) -> str:
    """Markdown table cell text with raw HTML made literal: ``<``/``>`` and entity-like ``&`` escaped."""
    return _ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


_WEB_URL = re.compile(r"^https?://[^\s/?#]+\S*$", re.IGNORECASE)


def is_web_url(url: str) -> bool:
    """True for an ``http://`` or ``https://`` URL with a host; ``javascript:``, ``data:``, ``file:`` are not."""
    return _WEB_URL.match(url) is not None

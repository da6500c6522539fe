"""Defences against hostile input: files that are not files, text that drives a terminal or a spreadsheet.

Small functions, each used where input enters or output leaves:

* :func:`read_input` reads a file only when it is a regular file of sane size: a FIFO
  named studies.bib would block forever, a symlink to ``/dev/zero`` would be read
  forever; both become a located :class:`~lbpevidence.errors.Problem` instead.
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

import errno
import math
import os
import re
import stat
from pathlib import Path
from typing import TextIO

from .errors import Problem

__all__ = ["MAX_INPUT_BYTES", "SafeStream", "is_web_url", "markdown_safe", "not_regular", "read_input",
           "spreadsheet_safe", "terminal_safe"]

#: The largest input file read (2 GiB): a real refs/ file is a few MB; a larger one is a mistake or an attack.
MAX_INPUT_BYTES = 2 * 2**30

_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def _kind(mode: int) -> str:
    return next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")


def not_regular(path: str | Path) -> str | None:
    """What ``path`` is when it is not a regular file (``'a FIFO (named pipe)'``, ``'no such file'``), else None.

    Symlinks are followed; nothing is opened.

    >>> not_regular("/dev/null"), not_regular(__file__)
    ('a character device', None)
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"a file that cannot be read ({_describe(exc)})"
    return None if stat.S_ISREG(info.st_mode) else _kind(info.st_mode)


def read_input(path: str | Path, file: str | None = None, expected: str = "a regular file",
               limit: int = MAX_INPUT_BYTES) -> tuple[bytes | None, Problem | None]:
    """The bytes of ``path`` if it is a readable regular file, else ``(None, problem)``.

    Symlinks are followed (a link to a regular file is read), but what they point to must
    be a regular file: a FIFO, a device (``/dev/zero``), a socket or a directory is a
    problem, found without opening it for reading first (opening a FIFO blocks). The file
    is opened non-blocking and checked again after opening, so a file swapped for a FIFO
    in between is caught too. Files larger than ``limit`` bytes and files that cannot be
    read (permissions, a symlink loop) are problems. ``file`` is how problems name the
    path (default ``str(path)``).

    Examples
    --------
    >>> data, problem = read_input("/dev/zero", "studies.bib")
    >>> data, str(problem)
    (None, 'studies.bib: found a character device, expected a regular file (a .bib or .csv file on disk)')
    """
    file = str(path) if file is None else file
    expected = f"{expected} (a .bib or .csv file on disk)" if expected == "a regular file" else expected

    def problem(found: str) -> tuple[None, Problem]:
        return None, Problem(file, 0, "", "", found, expected)

    kind = not_regular(path)
    if kind is not None:
        return problem(kind)
    info = os.stat(path)
    if info.st_size > limit:
        return problem(f"a file of {info.st_size:,} bytes")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return problem(f"a file that cannot be read ({_describe(exc)})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped between the stat and the open
            return problem(_kind(info.st_mode))
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 24)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:  # it grew while being read
                return problem(f"a file of more than {limit:,} bytes")
            chunks.append(chunk)
    except OSError as exc:
        return problem(f"a file that cannot be read ({_describe(exc)})")
    finally:
        os.close(fd)
    return b"".join(chunks), None


def _describe(exc: OSError) -> str:
    """``[Errno 13] Permission denied`` without the path (the problem names it already)."""
    name = errno.errorcode.get(exc.errno or 0, "")
    return f"{name}: {exc.strerror}" if name and exc.strerror else str(exc)


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

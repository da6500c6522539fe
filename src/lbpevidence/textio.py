"""Reading input files as text: regular files only, any encoding named, CSV rows with their lines.

Every reader of refs/ (studies.bib, outcomes.csv, article.bib, claims.csv, overrides.csv) and
of an import file goes through this module, so that each meets hostile or damaged input the
same way:

* :func:`read_input` reads a file only when it is a regular file of sane size: a FIFO
  named studies.bib would block forever, a symlink to ``/dev/zero`` would be read
  forever; both become a located :class:`~lbpevidence.errors.Problem` instead;
* :func:`decode_bytes` turns bytes into text: UTF-8 (a BOM removed); a byte that is not
  UTF-8 is replaced and reported with its line and column; a UTF-16 or UTF-32 file is
  one problem, and is still read; :func:`read_text` does both steps;
* :func:`csv_rows`, :func:`text_lines`, :func:`check_header` and :func:`control_character`
  read CSV tables row by row with the line each row starts and ends on.

This module imports nothing heavy.

Examples
--------
>>> text, problems = read_text("/dev/zero", "studies.bib")
>>> text, [str(p) for p in problems]
(None, ['studies.bib: found a character device, expected a regular file (a .bib or .csv file on disk)'])
>>> list(csv_rows(csv.reader(text_lines("a,b\\n1,2\\n")), "t.csv", []))
[(1, 1, ['a', 'b']), (2, 2, ['1', '2'])]
"""

from __future__ import annotations

import codecs
import csv
import errno
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import Problem

__all__ = ["MAX_INPUT_BYTES", "check_header", "control_character", "csv_rows", "decode_bytes", "not_regular",
           "read_input", "read_text", "text_lines"]


# --- files ---------------------------------------------------------------------------------------------

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


# --- encodings -----------------------------------------------------------------------------------------

_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
               (codecs.BOM_UTF16_BE, "utf-16"))


def _wide_encoding(data: bytes) -> tuple[str, str] | None:
    """(codec, what was found) for UTF-16/32 text, which reads as UTF-8 with a NUL beside every letter."""
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            return codec, f"{codec.upper()} text (byte-order mark {bom.hex(' ').upper()})"
    sample = data[:4096]
    if len(sample) >= 8 and b"\x00" in sample:
        for codec, nuls in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
            if nuls.count(0) >= 0.9 * len(nuls):
                return codec, f"{codec.upper()[:-3]} text without a byte-order mark (a NUL byte beside every letter)"
    return None


def decode_bytes(data: bytes, file: str) -> tuple[str, list[Problem]]:
    """UTF-8 text (BOM removed); undecodable bytes are replaced and reported by line.

    UTF-16 and UTF-32 files (Windows "Unicode") are one problem, and are still read.

    Examples
    --------
    >>> decode_bytes("Müller".encode(), "a.csv")
    ('Müller', [])
    >>> text, problems = decode_bytes(b"ok\\nM\\xfcller\\n", "a.csv")
    >>> text.splitlines()[1], problems[0].line, problems[0].found
    ('M\\ufffdller', 2, 'byte 0xfc at column 2 that is not UTF-8')
    """
    wide = _wide_encoding(data)
    if wide is not None:
        codec, found = wide
        return data.decode(codec, errors="replace"), [
            Problem(file, 1, "", "encoding", found, "UTF-8 text (save the file as UTF-8)")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    problems = []
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")  # lines as editors count them
    for number, raw_line in enumerate(lines, start=1):
        try:
            raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(file, number, "", "encoding", f"byte 0x{raw_line[exc.start]:02x} at column "
                                    f"{exc.start + 1} that is not UTF-8", "UTF-8 text (save the file as UTF-8)"))
    return data.decode("utf-8-sig", errors="replace"), problems


def read_text(path: str | Path, file: str | None = None,
              expected: str = "a regular file") -> tuple[str | None, list[Problem]]:
    """The text of ``path`` (:func:`read_input`, then :func:`decode_bytes`) and its problems.

    ``None`` when the file cannot be read at all (a FIFO, a device, no such file): the one
    problem says why.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "claims.csv"
    >>> _ = path.write_bytes("claim_id\\nC01\\n".encode("utf-16"))
    >>> text, problems = read_text(path, "claims.csv")
    >>> text.split(), problems[0].found
    (['claim_id', 'C01'], 'UTF-16 text (byte-order mark FF FE)')
    """
    file = str(path) if file is None else file
    data, unreadable = read_input(path, file, expected)
    if unreadable is not None:
        return None, [unreadable]
    assert data is not None
    return decode_bytes(data, file)


# --- CSV -----------------------------------------------------------------------------------------------

_CSV_FIELD_LIMIT = 2**31 - 1  # the csv module's default cell limit is 131,072 characters
# Control characters other than tab and line breaks: a damaged file, or one not saved as UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(cell: str) -> str | None:
    """The first control character of a CSV cell, described (None when there is none).

    Tab and line breaks are not control characters here.

    >>> control_character("ok\\tfine"), control_character("bad\\x00byte")
    (None, 'a control character U+0000 at position 4')
    """
    match = _CONTROL.search(cell)
    return None if match is None else f"a control character U+{ord(match.group()):04X} at position {match.start() + 1}"


def check_header(header: list[str], required: Sequence[str], known: Sequence[str], file: str,
                 row_name: str) -> list[Problem]:
    """Problems of a CSV header: empty file, missing required columns, unknown (warning) and repeated ones."""
    if not header:
        return [Problem(file, 0, "", "", "an empty file", f"a header row and one row per {row_name}")]
    problems = [Problem(file, 1, "", column, "no such column", f"a '{column}' column (see refs/README.md)")
                for column in required if column not in header]
    problems += [Problem(file, 1, "", column, f"unknown column '{column}'", "a column from refs/README.md",
                         "warning") for column in header if column not in known]
    problems += [Problem(file, 1, "", column, f"{header.count(column)} columns named '{column}'",
                         "each column once (only the last one would be read)")
                 for column in sorted({c for c in header if header.count(c) > 1})]
    return problems


def csv_rows(reader, file: str, problems: list[Problem]) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of each row; the csv module's 131,072-character cell limit is lifted.

    A quoted cell may span lines, so a row's first line is the one after the previous row's last.
    A csv error (none is known to remain once the limit is lifted) becomes a located problem.
    """
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, _CSV_FIELD_LIMIT))
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                problems.append(Problem(file, start, "", "", f"a row the csv module cannot read ({exc})",
                                        "a CSV row (RFC 4180)"))
                continue
            yield start, reader.line_num, cells
    finally:
        csv.field_size_limit(limit)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def text_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings, as ``io.StringIO(text, newline="")`` yields them, lazily.

    A StringIO copies non-ASCII text at 4 bytes a character (a 140 MB CSV took 0.5 GB more);
    this reads the string in place.

    >>> list(text_lines("a,b\\r\\nc\\rd\\n\\ne"))
    ['a,b\\r\\n', 'c\\r', 'd\\n', '\\n', 'e']
    """
    return (match.group() for match in _LINE.finditer(text))

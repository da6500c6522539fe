"""The command line: exit codes, output formats, and a light `validate`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import bib_entry
from lbpevidence.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lbpevidence", *args], capture_output=True, text=True)


def test_validate_bundled_refs_is_clean():
    result = run("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s)" in result.stderr


def test_validate_reports_problems_one_per_line_and_exits_1(write):
    path = write(bib_entry("a", modality="acupunture") + bib_entry("b", design="rtc"))
    result = run("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines == [
        f"{path}:11 a modality: found 'acupunture', expected a known modality (did you mean 'acupuncture'?); "
        "see refs/README.md",
        f"{path}:32 b design: found 'rtc', expected a known design (did you mean 'rct'?); see refs/README.md",
    ]


def test_validate_json_format(write):
    path = write(bib_entry(pmid="x1"))
    result = run("validate", str(path), "--format", "json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)
    assert [(p["key"], p["field"], p["line"]) for p in problems] == [("doe2020trial", "pmid", 10)]


def test_usage_error_exits_2():
    assert run("validate", "--format", "yaml").returncode == 2
    assert run("no-such-command").returncode == 2


@pytest.mark.parametrize("fmt", ["csv", "markdown", "json"])
def test_table_formats(write, fmt, capsys):
    path = write(bib_entry("a") + bib_entry("b", author="Roe, R.", year="2019"))
    assert main(["table", str(path), "--format", fmt, "--columns", "key,first_author,year,modality"]) == 0
    out = capsys.readouterr().out
    if fmt == "csv":
        assert out.splitlines() == ["key,first_author,year,modality", "a,Doe,2020,acupuncture",
                                    "b,Roe,2019,acupuncture"]
    elif fmt == "markdown":
        assert out.splitlines()[0] == "| key | first_author | year | modality |"
        assert "| b | Roe | 2019 | acupuncture |" in out
    else:
        assert json.loads(out)[1] == {"key": "b", "first_author": "Roe", "year": 2019, "modality": "acupuncture"}


def test_table_unknown_column_is_a_usage_error(capsys):
    assert main(["table", "--columns", "key,nope"]) == 2
    assert "The value for `--columns` must name columns of" in capsys.readouterr().err


def test_validate_imports_neither_matplotlib_nor_scipy():
    code = ("import sys; from lbpevidence.cli import main; rc = main(['validate']); "
            "heavy = [m for m in ('matplotlib', 'scipy', 'nbconvert') if m in sys.modules]; "
            "print(rc, heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr


def test_import_lbpevidence_is_light():
    code = ("import sys, lbpevidence; "
            "print([m for m in ('matplotlib', 'scipy', 'nbconvert', 'pandas') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


def test_every_public_name_resolves():
    import lbpevidence as lbp

    for name in lbp.__all__:
        assert getattr(lbp, name) is not None, name

"""The architecture holds: no module imports its own or a higher layer, nor another module's private names.

The layers are defined once, in docs/architecture.md (its ```layers blocks); this test reads them,
and every import of every module of src/lbpevidence, at the top of a module or inside a function.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "lbpevidence"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
_BLOCK = re.compile(r"^```layers[ \t]*(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def parse_layers(text: str) -> dict[str, list[list[str]]]:
    """{block ('' = the package, 'meta' = that subpackage): layers from the ground up, each a list of modules}."""
    return {name: [line.split(":", 1)[1].split() for line in body.splitlines() if ":" in line][::-1]
            for name, body in _BLOCK.findall(text)}


LAYERS = parse_layers(ARCHITECTURE.read_text(encoding="utf-8"))
RANK = {block: {module: i for i, layer in enumerate(layers) for module in layer} for block, layers in LAYERS.items()}


def module_name(path: Path) -> str:
    """``'references'``, ``'meta'`` (meta/__init__.py), ``'meta.pooling'``, ``'__init__'`` (the package face)."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1]) if parts[-1] == "__init__" and len(parts) > 1 else ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(module: str, source: str) -> list[tuple[int, str, list[str]]]:
    """``(line, module imported, names taken from it)`` for each import of the package in ``source``.

    A package (``meta``) stands for its face; ``from . import x`` takes module ``x`` when there is
    one, else the name ``x`` of the face.
    """
    is_package = module == "__init__" or (PACKAGE / module.replace(".", "/")).is_dir()
    package = [] if module == "__init__" else module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
            elif (node.module or "").split(".")[0] == "lbpevidence":
                base = []
            else:
                continue
            inner = node.module.removeprefix("lbpevidence").lstrip(".") if node.module and not node.level else \
                node.module
            target = ".".join([*base, *([inner] if inner else [])]) or "__init__"
            for alias in node.names:
                submodule = ".".join([*base, alias.name]) if not inner else ""
                if submodule in MODULES:
                    found.append((node.lineno, submodule, []))
                else:
                    found.append((node.lineno, target, [alias.name]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lbpevidence":
                    found.append((node.lineno, alias.name.removeprefix("lbpevidence").lstrip(".") or "__init__", []))
    return found


def rank(module: str) -> tuple[int, int]:
    """(layer in the package, layer inside its subpackage; 0 outside one)."""
    top, _, inner = module.partition(".")
    return RANK[""][top], RANK[top].get(inner or "__init__", 0) if top in RANK else 0


def upward(module: str, target: str) -> bool:
    """True when ``module`` may not import ``target``: its own layer or a higher one."""
    if module.partition(".")[0] == target.partition(".")[0] and module.partition(".")[0] in RANK:
        return rank(target)[1] >= rank(module)[1]  # inside a subpackage: its own layers
    return rank(target)[0] >= rank(module)[0]


def private_uses(module: str, source: str) -> list[str]:
    """Another module's private names that ``source`` imports or reads (``from .x import _y``, ``x._y``)."""
    found = [f"{line}: {target}.{name}" for line, target, names in imports(module, source)
             for name in names if name.startswith("_") and not name.startswith("__")]
    bound = {target.rpartition(".")[2]: target for _, target, names in imports(module, source) if not names}
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{node.lineno}: {bound[node.value.id]}.{node.attr}")
    return found


def test_the_layers_are_read_from_the_architecture_page():
    assert LAYERS[""][0] == ["__init__", "errors", "paths", "vocabulary", "latex", "safety"]
    assert LAYERS[""][-1] == ["__main__"] and LAYERS[""][-2] == ["cli"]
    assert LAYERS["meta"][0] == ["estimators"] and LAYERS["meta"][-1] == ["__init__"]


def test_every_module_has_exactly_one_layer():
    for block, layers in LAYERS.items():
        listed = [module for layer in layers for module in layer]
        assert len(listed) == len(set(listed)), f"a module stands in two layers of block {block!r}: {listed}"
    for module in MODULES:
        top, _, inner = module.partition(".")
        assert top in RANK[""], f"src/lbpevidence/{module}: no layer in docs/architecture.md"
        if (PACKAGE / top).is_dir():
            assert (inner or "__init__") in RANK[top], f"{module}: no layer in the ```layers {top} block"
    tops = {module.partition(".")[0] for module in MODULES}
    assert set(RANK[""]) <= tops, f"docs/architecture.md names modules that do not exist: {set(RANK['']) - tops}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_its_own_or_a_higher_layer(module):
    source = MODULES[module].read_text(encoding="utf-8")
    bad = [f"line {line}: {target}" for line, target, _ in imports(module, source) if upward(module, target)]
    assert not bad, (f"src/lbpevidence/{MODULES[module].relative_to(PACKAGE)} imports its own or a higher layer "
                     f"(docs/architecture.md): {bad}")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_another_modules_private_names(module):
    found = private_uses(module, MODULES[module].read_text(encoding="utf-8"))
    assert not found, f"src/lbpevidence/{MODULES[module].relative_to(PACKAGE)} uses private names: {found}"


def test_the_checks_find_an_upward_import_and_a_private_name():
    source = ("from .references import _decode_bytes\n"
              "def f():\n    from .review import load_review\n    from . import grading\n"
              "    return grading._matching_overrides\n")
    assert [upward("outcomes", target) for _, target, _ in imports("outcomes", source)] == [False, True, True]
    assert private_uses("outcomes", source) == ["1: references._decode_bytes", "5: grading._matching_overrides"]
    assert upward("meta.estimators", "meta.pooling") and not upward("meta.bias", "meta.pooling")
    assert not upward("meta.pooling", "errors") and upward("errors", "meta")
    assert imports("meta.bias", "from ..errors import check_choice\nfrom .pooling import as_studies\n") == [
        (1, "errors", ["check_choice"]), (2, "meta.pooling", ["as_studies"])]

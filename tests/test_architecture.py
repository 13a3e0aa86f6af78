"""The folder listing is the architecture: each package's `__init__` says what it may import, and
these tests hold the code to it (imports inside functions included; `if TYPE_CHECKING:` imports,
which never run, excluded). They also keep modules small enough to read in one sitting."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shared" / "newsroom"

# Lines of logic (not blank, comment or docstring lines) a module may hold. Data modules (term
# lists, pattern tables) are exempt by name: `*_data.py`.
MAX_LOGIC_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, here: str) -> Iterator[str]:
    """Every newsroom module `tree` imports when it runs, at the top or inside a function."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_block(node):
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("newsroom"):
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                in_init = modules()[here].name == "__init__.py"
                anchor = here.split(".") if in_init else here.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("newsroom"):
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    yield candidate if candidate in modules() else base
        stack.extend(ast.iter_child_nodes(node))


@cache
def import_graph() -> dict[str, frozenset[str]]:
    graph = {}
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = frozenset(i for i in _imports(tree, name) if i != name)
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


_MAY_IMPORT = re.compile(r"^May import: (.+?)\.?$", re.MULTILINE)


def allowed_imports() -> dict[str, frozenset[str] | None]:
    """Package -> the packages its `__init__` docstring allows (None: every package)."""
    rules: dict[str, frozenset[str] | None] = {}
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        found = _MAY_IMPORT.search(doc)
        assert found, f"{init.relative_to(ROOT)} does not say what it may import ('May import: ...')"
        text = found.group(1).strip()
        if text == "every package":
            rules[init.parent.name] = None
        elif text == "nothing else in newsroom":
            rules[init.parent.name] = frozenset()
        else:
            rules[init.parent.name] = frozenset(p.strip() for p in text.split(","))
    return rules


def test_every_package_says_what_it_does_and_may_import() -> None:
    rules = allowed_imports()
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert set(rules) == packages
    for package, allowed in rules.items():
        assert allowed is None or allowed <= packages, f"{package} allows an unknown package: {allowed - packages}"
    top_level = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert top_level == [], f"every module belongs to a stage package: {top_level}"


def test_packages_import_only_what_their_init_allows() -> None:
    rules = allowed_imports()
    broken = []
    for module, imported in import_graph().items():
        package = _package(module)
        allowed = rules.get(package)
        if not package or allowed is None:
            continue
        for target in imported:
            other = _package(target)
            if other and other != package and other not in allowed:
                broken.append(f"{module} imports {target}")
    assert broken == []


def test_no_import_cycles_lazy_imports_included() -> None:
    graph = import_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target] if target in path else [node, target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def logic_lines(path: Path) -> int:
    """Lines holding code: not blank, not a comment, not part of a docstring."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstring_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstring_lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return sum(
        1
        for number, line in enumerate(source.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#") and number not in docstring_lines
    )


@pytest.mark.parametrize("module", sorted(modules()))
def test_module_is_small_enough_to_read(module: str) -> None:
    path = modules()[module]
    if path.stem.endswith("_data"):
        return
    lines = logic_lines(path)
    assert lines <= MAX_LOGIC_LINES, f"{module}: {lines} lines of logic (at most {MAX_LOGIC_LINES})"

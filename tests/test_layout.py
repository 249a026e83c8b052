"""The package's architecture, checked: which subpackage may import which,
no import cycle, short functions, and no private path where users read.

See "Where things live" in docs/contributing.rst for the map.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "skfashion"

#: Each part of the package -> the other parts it may import. Dependencies
#: point one way: the command line uses everything, nothing uses it.
ALLOWED = {
    "_version": set(),
    "_catalog": set(),
    "utils": {"_catalog", "_version"},
    "datasets": {"utils"},  # atomic writes only: no PyTorch
    "modules": set(),  # plain PyTorch
    "preprocessing": set(),  # plain scikit-learn
    "callbacks": {"utils"},
    "neural_network": {"_catalog", "callbacks", "modules", "utils"},
    "evaluation": {"datasets"},
    "tuning": set(),
    "io": {"_version", "datasets", "neural_network", "preprocessing", "utils"},
    "serve": {"_version", "io", "preprocessing"},  # any model, as a Predictor
    "cli": {
        "_catalog",
        "_version",
        "callbacks",
        "datasets",
        "evaluation",
        "io",
        "neural_network",
        "preprocessing",
        "serve",
        "tuning",
        "utils",
    },
}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path):
    """The skfashion modules that ``path`` imports, at the top or inside a
    function, as absolute names."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("skfashion")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif (node.module or "").startswith("skfashion"):
                target = node.module
            else:
                continue
            # "from . import _data" imports the module skfashion.cli._data
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if _exists(sub) else target)
    return found - {name}


def _exists(module):
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


GRAPH = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _part(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_part_is_in_the_map():
    parts = {_part(m) for m in GRAPH} - {None}
    assert parts == set(ALLOWED)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_one_way(module):
    part = _part(module)
    if part is None:  # skfashion/__init__.py: the public names, lazily
        assert "cli" not in {_part(m) for m in GRAPH[module]}
        return
    others = {_part(m) for m in GRAPH[module]} - {part, None}
    assert others <= ALLOWED[part], f"{module} imports {others - ALLOWED[part]}"


def test_no_import_cycle():
    """No module imports itself back through others (imports inside
    functions count too: they run in the same order sooner or later)."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == "open":
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def _functions():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield path, node


def _body_lines(node):
    """Lines of a function, its docstring aside."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):
            lines -= first.end_lineno - first.lineno + 1
    return lines


def test_functions_are_short():
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({_body_lines(node)})"
        for path, node in _functions()
        if _body_lines(node) > 50
    ]
    assert long == []


def test_the_base_class_stays_small():
    lines = (PACKAGE / "neural_network" / "_base.py").read_text().count("\n")
    assert lines <= 350


PRIVATE_PATH = re.compile(r"skfashion\._[a-z]")


def _user_texts():
    yield ROOT / "README.md", (ROOT / "README.md").read_text()
    for folder, pattern in (("docs", "*.rst"), ("examples", "*.py")):
        for path in sorted((ROOT / folder).rglob(pattern)):
            if "_build" not in path.parts and "generated" not in path.parts:
                yield path, path.read_text()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(
                node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ):
                yield path, ast.get_docstring(node) or ""


def test_no_private_path_where_users_read():
    """README, docs, examples and docstrings name public paths only."""
    found = sorted(
        f"{path.relative_to(ROOT)}: {match}"
        for path, text in _user_texts()
        for match in PRIVATE_PATH.findall(text)
    )
    assert found == []

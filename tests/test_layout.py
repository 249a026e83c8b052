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
    "_lazy": set(),  # the subpackages' names imported when first used
    "utils": {"_lazy", "_version"},
    "datasets": {"utils"},  # atomic writes only: no PyTorch
    "modules": set(),  # plain PyTorch
    "preprocessing": set(),  # plain scikit-learn
    "callbacks": {"utils"},
    "neural_network": {"_catalog", "callbacks", "modules", "utils"},
    "evaluation": {"datasets", "novelty", "utils"},
    "tuning": {"_lazy"},
    "io": {
        "_lazy",
        "_version",
        "datasets",
        "neural_network",
        "novelty",
        "preprocessing",
        "utils",
    },
    # any model, as a Predictor; the signals are utils'
    "serve": {"_version", "io", "preprocessing", "utils"},
    "novelty": {"utils"},  # scikit-learn's idiom over any fitted skorch net
    # the report's and the tuning's protocols, from Python
    "experiments": {
        "_catalog",
        "_lazy",
        "callbacks",
        "datasets",
        "evaluation",
        "io",
        "neural_network",
        "preprocessing",
        "tuning",
        "utils",
    },
    # parse, call the public API, print: nothing else
    "cli": {
        "_catalog",
        "_version",
        "datasets",
        "experiments",
        "io",
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


def _from_imports(tree, name=None, is_package=False):
    """``(target module, imported names, line)`` of each ``from skfashion...
    import ...`` in ``tree``, relative imports resolved for the module
    ``name``."""
    package = name if is_package else (name or "").rpartition(".")[0]
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level and name is None:  # outside the package: not skfashion's
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join([*base, *([node.module] if node.module else [])])
        elif (node.module or "").startswith("skfashion"):
            target = node.module
        else:
            continue
        yield target, [a.name for a in node.names], node.lineno


def _imports(path):
    """The skfashion modules that ``path`` imports, at the top or inside a
    function, as absolute names."""
    name = _module_name(path)
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("skfashion")}
    for target, names, _ in _from_imports(tree, name, path.name == "__init__.py"):
        # "from . import _data" imports the module skfashion.cli._data
        for alias in names:
            sub = f"{target}.{alias}"
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


def _documented_map():
    """The map as docs/contributing.rst states it: one line a part,
    ``- ``part``: ``other``, ...`` (or ``nothing``)."""
    text = (ROOT / "docs" / "contributing.rst").read_text()
    block = text.split(".. layout-map-start")[1].split(".. layout-map-end")[0]
    documented = {}
    for line in block.strip().splitlines():
        part, _, others = line.removeprefix("- ").partition(": ")
        names = set() if others == "nothing" else set(re.findall(r"``(\w+)``", others))
        documented[part.strip("`")] = names
    return documented


def test_the_documented_map_is_the_tested_one():
    assert _documented_map() == ALLOWED


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


def _public_names(package):
    """A package's ``__all__``, read from its ``__init__.py`` (a list, or
    ``sorted(_MODULES)`` of a lazy package)."""
    init = ROOT.joinpath(*package.split("."), "__init__.py")
    values = {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
    names = values["__all__"]
    if isinstance(names, ast.Call):  # sorted(_MODULES)
        names = values[names.args[0].id]
        return {ast.literal_eval(k) for k in names.keys}
    return set(ast.literal_eval(names))


def private_crossings(source, module=None, is_package=False):
    """Names taken across a package's border from its private modules.

    Inside skfashion, a private module (a path with a ``_name``) is its
    package's business: another package -- or a test, a benchmark, a
    script -- may take a name from it only if the package makes that name
    public (its ``__all__``), as scikit-learn's private names cross files
    only inside a subpackage. Code outside may still take a private module
    whole (``from skfashion.cli.report import _outputs``), to measure it or
    to replace a function of it in a test.
    """
    found = []
    tree = ast.parse(source)
    for target, names, line in _from_imports(tree, module, is_package):
        parts = target.split(".")
        private = [i for i, p in enumerate(parts) if p.startswith("_")]
        for alias in names:
            if not private and not alias.startswith("_"):
                continue
            cut = private[0] if private else len(parts)
            package = ".".join(parts[:cut])
            inside = module is not None and f"{module}.".startswith(package + ".")
            if inside or _exists(f"{target}.{alias}"):
                continue
            if alias not in _public_names(package):
                found.append(f"{line}: {alias} from {target}")
    return found


def _checked_files():
    """Every Python file of the repository that imports skfashion."""
    for folder in ("skfashion", "tests", "benchmarks", "scripts", "examples", "docs"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).parts
            if rel[:2] == ("tests", "data") or "_build" in rel or "generated" in rel:
                continue
            yield path


def test_private_names_stay_inside_their_package():
    found = []
    for path in _checked_files():
        inside = path.is_relative_to(PACKAGE)
        module = _module_name(path) if inside else None
        for problem in private_crossings(
            path.read_text(), module, path.name == "__init__.py"
        ):
            found.append(f"{path.relative_to(ROOT)}:{problem}")
    assert found == []


@pytest.mark.parametrize(
    "source, module",
    [
        ("from skfashion.datasets._idx import _read_header", None),
        ("from skfashion.datasets._fashion_mnist import FILES", None),
        ("from skfashion.datasets import _fashion_mnist as f", None),  # a module: ok
        ("from ..neural_network._validation import sample_weights", "skfashion.io._x"),
        ("from skfashion.experiments._protocol import train", None),
        ("from skfashion.experiments._run_report import _fit_here", None),
    ],
)
def test_private_crossings_are_found(source, module):
    """The rule fails on an injected violation, and only on one."""
    found = private_crossings(source, module)
    assert bool(found) == ("as f" not in source), found


#: the package's light catalog and version, which ``--help`` reads
CLI_LIGHT = {"skfashion._catalog", "skfashion._version"}


def cli_private_imports(source, module, is_package=False):
    """What a module of the command line takes from the library other than
    a public name of a public package, at its top, or anything of the
    library inside a function."""
    tree = ast.parse(source)
    inner = {
        id(node)
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(f)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        one = ast.Module(body=[node], type_ignores=[])
        imports = list(_from_imports(one, module, is_package))
        if not imports:  # not skfashion's
            continue
        ((target, names, line),) = imports
        if target.startswith("skfashion.cli") or target in CLI_LIGHT:
            continue
        private = any(p.startswith("_") for p in target.split("."))
        if private or any(n.startswith("_") for n in names):
            found.append(f"{line}: {', '.join(names)} from {target}")
        elif id(node) in inner:
            found.append(f"{line}: {', '.join(names)} from {target}, in a function")
    return found


def test_the_command_line_takes_public_names_only():
    found = []
    for path in sorted((PACKAGE / "cli").rglob("*.py")):
        module = _module_name(path)
        is_package = path.name == "__init__.py"
        problems = cli_private_imports(path.read_text(), module, is_package)
        found += [f"{module}:{p}" for p in problems]
    assert found == []


@pytest.mark.parametrize(
    "source, bad",
    [
        ("from ...experiments._report import Report", True),
        ("from ...evaluation._shift import ShiftEvaluation", True),
        ("from skfashion.experiments import _run_report", True),
        ("def run():\n    from skfashion.io import load_model", True),
        ("from skfashion import experiments", False),
        ("from .._common import ArgumentError", False),
        ("from ..._catalog import TITLES", False),
    ],
)
def test_cli_private_imports_are_found(source, bad):
    """The command line's rule fails on an injected violation, and only on one."""
    found = cli_private_imports(source, "skfashion.cli.report._x")
    assert bool(found) == bad, found


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

"""Lines, function-level imports and the longest functions of the package, by
folder: the measures a change to the layout reports before and after.

Usage: python scripts/layout_stats.py [REPOSITORY]   (default: this one)
"""

import ast
import collections
import sys
from pathlib import Path


def _folder(rel):
    if len(rel.parts) == 1:
        return "(top)"
    if rel.parts[0] == "cli" and len(rel.parts) > 2:
        return "cli/" + rel.parts[1]
    return rel.parts[0]


def _imports_in_functions(tree):
    """Import statements inside functions, each counted once."""
    count = 0

    class Visitor(ast.NodeVisitor):
        depth = 0

        def visit_FunctionDef(self, node):
            self.depth += 1
            self.generic_visit(node)
            self.depth -= 1

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_Import(self, node):
            nonlocal count
            count += bool(self.depth)

        visit_ImportFrom = visit_Import

    Visitor().visit(tree)
    return count


def main(repo):
    package = Path(repo) / "skfashion"
    lines, imports, functions = collections.Counter(), collections.Counter(), []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        text = path.read_text()
        tree = ast.parse(text)
        lines[_folder(rel)] += text.count("\n")
        imports[_folder(rel)] += _imports_in_functions(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                functions.append((length, f"{rel}:{node.lineno} {node.name}"))
    total = sum(lines.values())
    print("folder lines share function-level-imports")
    for folder in sorted(lines):
        share = 100 * lines[folder] / total
        print(f"{folder} {lines[folder]} {share:.0f}% {imports[folder]}")
    print("total", total, sum(imports.values()))
    for length, name in sorted(functions, reverse=True)[:10]:
        print(length, name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1])

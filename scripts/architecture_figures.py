"""Print the architecture figures of a package: what is too long, too wide, misplaced or circular.

    python scripts/architecture_figures.py [feedback_miner] [--store feedback_miner/store]

Figures (the limits of issue #16): functions over 80 lines, modules over 450 lines, classes over 15
methods, SQL strings outside the store package, import cycles between modules. An import of a
package's own children by its ``__init__`` (re-exporting them) is not an edge; lazy imports inside
functions are (they hide a cycle, they do not remove it). Exits 1 when any figure is not zero.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

MAX_FUNCTION_LINES, MAX_MODULE_LINES, MAX_CLASS_METHODS = 80, 450, 15
# A string that starts like a SQL statement (DuckDB's verbs), or holds SELECT ... FROM anywhere.
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|BEGIN|COMMIT|ROLLBACK|WITH\s+\w+\s+AS)\b"
                 r"|\bSELECT\b[\s\S]*\bFROM\b")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def string_texts(node: ast.AST) -> list[tuple[int, str]]:
    """Every string literal (an f-string's literal parts joined) with its line."""
    out = []
    parts = {id(v) for n in ast.walk(node) if isinstance(n, ast.JoinedStr) for v in n.values}
    for n in ast.walk(node):
        if isinstance(n, ast.JoinedStr):
            out.append((n.lineno, "".join(v.value for v in n.values if isinstance(v, ast.Constant))))
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in parts:
            out.append((n.lineno, n.value))
    return out


def imported_modules(tree: ast.Module, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """Project modules this module imports (anywhere in its body)."""
    out = set()
    package = name if is_package else name.rpartition(".")[0]
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            targets = [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (n.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in n.names]
        else:
            continue
        for t in targets:
            while t and t not in modules:  # `import a.b.c` of a name inside a module: its module
                t = t.rpartition(".")[0]
            if t and t != name and not (is_package and t.startswith(name + ".")):
                out.add(t)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def figures(root: Path, store: Path) -> dict[str, list[str]]:
    files = sorted(root.rglob("*.py"))
    names = {f: module_name(f, root) for f in files}
    modules = set(names.values())
    out: dict[str, list[str]] = {"functions over 80 lines": [], "modules over 450 lines": [],
                                 "classes over 15 methods": [], "SQL strings outside the store": [],
                                 "import cycles": []}
    graph = {}
    for f in files:
        text = f.read_text(encoding="utf-8")
        tree = ast.parse(text)
        rel = f.relative_to(root.parent)
        n_lines = len(text.splitlines())
        if n_lines > MAX_MODULE_LINES:
            out["modules over 450 lines"].append(f"{rel}: {n_lines}")
        for n in ast.walk(tree):
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef):
                length = n.end_lineno - n.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    out["functions over 80 lines"].append(f"{rel}:{n.lineno} {n.name}: {length}")
            elif isinstance(n, ast.ClassDef):
                methods = [b for b in n.body if isinstance(b, ast.FunctionDef | ast.AsyncFunctionDef)]
                if len(methods) > MAX_CLASS_METHODS:
                    out["classes over 15 methods"].append(f"{rel}:{n.lineno} {n.name}: {len(methods)}")
        if not f.resolve().is_relative_to(store.resolve()):
            for line, s in string_texts(tree):
                if SQL.search(s):
                    out["SQL strings outside the store"].append(f"{rel}:{line} {' '.join(s.split())[:60]}")
        graph[names[f]] = imported_modules(tree, names[f], f.name == "__init__.py", modules)
    out["import cycles"] = [" <-> ".join(c) for c in cycles(graph)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package", nargs="?", default="feedback_miner", type=Path)
    ap.add_argument("--store", type=Path, default=None, help="the store package (default: <package>/store)")
    args = ap.parse_args()
    found = figures(args.package, args.store or args.package / "store")
    for title, items in found.items():
        print(f"{title}: {len(items)}")
        for item in items:
            print(f"    {item}")
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

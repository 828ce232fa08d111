"""The shape of the code base: no Python file over 800 lines, no import
cycle between the addon's modules (a module may import its own package's
``__init__`` chain, nothing that imports it back)."""

import ast
import os

from odoo.tests import BaseCase, tagged

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIPPED = {".git", ".local", "node_modules", "__pycache__"}
MAX_LINES = 800


def python_files():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED and not d.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def module_name(path):
    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    if rel == "__init__":
        return ""  # the addon's own package
    return rel[: -len(".__init__")] if rel.endswith(".__init__") else rel


def imports(path, modules):
    """The addon's modules imported by ``path`` (relative imports)."""
    mod = module_name(path)
    package = mod if path.endswith("__init__.py") else mod.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        base = package.split(".") if package else []
        if node.level > 1:
            base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
        for alias in node.names:
            candidate = f"{target}.{alias.name}" if target else alias.name
            if candidate in modules:
                found.add(candidate)
            elif target in modules:
                found.add(target)
    return found


@tagged("post_install", "-at_install")
class TestStructure(BaseCase):
    def test_no_python_file_over_800_lines(self):
        long = {}
        for path in python_files():
            with open(path, encoding="utf-8") as f:
                count = sum(1 for _line in f)
            if count > MAX_LINES:
                long[os.path.relpath(path, ROOT)] = count
        self.assertEqual(long, {})

    def test_no_import_cycle(self):
        paths = {module_name(p): p for p in python_files()}
        graph = {mod: imports(path, paths) for mod, path in paths.items()}

        def related(a, b):
            # a package and its own modules: the package imports them
            return not a or not b or a.startswith(b + ".") or b.startswith(a + ".")

        cycles = []
        state = {}

        def visit(mod, stack):
            state[mod] = "open"
            for dep in sorted(graph[mod]):
                if state.get(dep) == "open":
                    cycle = stack[stack.index(dep) :] + [dep]
                    if not all(
                        related(a, b) for a, b in zip(cycle, cycle[1:], strict=False)
                    ):
                        cycles.append(" -> ".join(cycle))
                elif dep not in state:
                    visit(dep, [*stack, dep])
            state[mod] = "done"

        for mod in sorted(graph):
            if mod not in state:
                visit(mod, [mod])
        self.assertEqual(cycles, [])

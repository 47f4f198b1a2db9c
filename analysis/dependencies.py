"""What each notebook runs: the package's modules it imports, directly or through other modules.

The Makefile reruns a notebook when one of these files changes. They are
read from the import statements (``ast``; nothing is imported), so the list
cannot fall behind the code. Standard library only: ``make`` runs it before
the virtual environment exists.

    python -m analysis.dependencies   # one Make variable per notebook: NOTEBOOK_DEPS_<name> := files
"""

import ast
import sys
from functools import cache
from pathlib import Path

from analysis.config import NOTEBOOKS_DIR, PACKAGE_DIR, ROOT

PACKAGE = PACKAGE_DIR.name


def module_file(module: str) -> Path | None:
    """The file of a module of the package (``analysis.data.io``), or None if there is no such module."""
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(source: str, importer: str = "") -> set[str]:
    """The package's modules that ``source`` imports, wherever the import statement stands.

    ``from analysis.reporting import figures`` imports the module
    ``analysis.reporting.figures``; a relative import is resolved against
    ``importer``, the importing module's name.
    """
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = importer.rsplit(".", node.level)[0]
                base = f"{parent}.{base}".rstrip(".")
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] == PACKAGE and module_file(name)}


def _with_parents(module: str) -> set[str]:
    """A module and the packages above it: importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` too."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


@cache
def closure(module: str) -> frozenset[str]:
    """``module`` and every module of the package it imports, transitively."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        for name in _with_parents(current) - seen:
            seen.add(name)
            todo.extend(imported_modules(module_file(name).read_text(), name) - seen)
    return frozenset(seen)


def notebook_dependencies(notebook: Path) -> list[Path]:
    """The package's files that ``notebook`` runs, relative to the repository, sorted."""
    modules = set()
    for name in imported_modules(Path(notebook).read_text()):
        modules |= closure(name)
    return sorted(module_file(name).relative_to(ROOT) for name in modules)


def makefile_variables(notebooks_dir: Path = NOTEBOOKS_DIR) -> str:
    lines = ["# Written by `python -m analysis.dependencies`: the modules each notebook imports. Do not edit."]
    for notebook in sorted(Path(notebooks_dir).glob("*.py")):
        files = " ".join(str(path) for path in notebook_dependencies(notebook))
        lines.append(f"NOTEBOOK_DEPS_{notebook.stem} := {files}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(makefile_variables())

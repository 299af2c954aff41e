"""The code behind an artifact: a module's import closure within pinnfail, and its hash.

A workflow stage runs the code its entry module imports, transitively; hashing
that closure (plus the package data the modules name, such as
``schemas/run.schema.json``) gives a rerun trigger that cannot forget a module.
Imports are read from the source (``ast``), including those inside functions and
lazy ones (``importlib.import_module("pinnfail.jets")`` or a proxy such as
``_Lazy("pinnfail.jets")``: a call whose only argument is a literal module name), so
nothing is imported to compute a closure.
"""
from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = __name__.rpartition(".")[0]
ROOT = Path(__file__).resolve().parent


def module_file(name: str) -> Path | None:
    """The source file of pinnfail module ``name`` (a package's ``__init__.py``); None if none."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = ROOT.joinpath(*name.split(".")[1:])
    for path in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=None)
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_bytes(), filename=str(path))


def _imported_names(name: str, path: Path) -> set[str]:
    """Every module name an import statement of ``name`` may refer to (absolute)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}  # from . import jets
        elif _lazy_import(node):
            names.add(node.args[0].value)
    return names


LAZY_IMPORTERS = {"import_module", "_Lazy", "__import__"}


def _lazy_import(node: ast.AST) -> bool:
    """Whether ``node`` is a call ``import_module("a.b")`` / ``_Lazy("a.b")`` (any qualifier)."""
    if not (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords):
        return False
    func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    arg = node.args[0]
    return func in LAZY_IMPORTERS and isinstance(arg, ast.Constant) and isinstance(arg.value, str)


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def import_closure(*modules: str) -> list[str]:
    """The pinnfail modules that importing ``modules`` can run (parent packages included)."""
    seen: set[str] = set()
    todo = [parent for module in modules for parent in _with_parents(module)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_file(name)
        if path is None:
            if name in modules:
                raise ValueError(f"code: no pinnfail module {name!r}")
            continue
        seen.add(name)
        for imported in _imported_names(name, path):
            if module_file(imported) is not None:
                todo.extend(_with_parents(imported))
    return sorted(seen)


def package_data(module: str) -> list[Path]:
    """Package data files a module names by a string literal (e.g. ``"data/table1_paper.csv"``)."""
    found = set()
    for node in ast.walk(_parse(module_file(module))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 256:
            if "\n" in node.value or "\0" in node.value:
                continue
            try:
                path = (ROOT / node.value).resolve()
                if path.is_file() and path.suffix != ".py" and ROOT in path.parents:
                    found.add(path)
            except (OSError, ValueError):
                continue
    return sorted(found)


def code_hash(*modules: str, files=()) -> str:
    """A short hash of the source of every module in the closure of ``modules``, the package
    data they name and the extra ``files``: it changes whenever code the stage runs changes."""
    paths = {module_file(name) for name in import_closure(*modules)}
    paths |= {data for name in import_closure(*modules) for data in package_data(name)}
    paths |= {Path(f).resolve() for f in files}
    digest = hashlib.sha256()
    for path in sorted(paths):
        shown = path.relative_to(ROOT) if ROOT in path.parents else path.name
        digest.update(str(shown).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]

"""The code behind an artifact: a module's import closure within pinnfail, and its hash.

A workflow stage runs the code its entry module imports, transitively; hashing
that closure (plus the package data the modules name, such as
``schemas/run.schema.json``) gives a rerun trigger that cannot forget a module.
Imports are read from the source (``ast``), including those inside functions and
lazy ones (``importlib.import_module("pinnfail.numerics.jets")`` or a proxy such as
``_Lazy("pinnfail.numerics.jets")``: a call whose only argument is a literal module name), so
nothing is imported to compute a closure.
"""
from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = __name__.split(".")[0]
ROOT = Path(__file__).resolve().parents[1]  # the package's folder (src/pinnfail)


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
        elif _imports_its_modules(node) and path.name == "__init__.py":  # a registry of modules
            names |= {f"{name}.{p.stem}" for p in path.parent.glob("*.py") if p.name != "__init__.py"}
    return names


def _imports_its_modules(node: ast.AST) -> bool:
    """Whether ``node`` is ``pkgutil.iter_modules(__path__)``: the package imports each of its
    modules by a computed name (the figures' registry), so each is part of its closure."""
    if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name)):
        return False
    func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    return func == "iter_modules" and node.args[0].id == "__path__"


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


def layer_of(name: str) -> str | None:
    """The layer (``pinnfail.LAYERS``) a pinnfail module belongs to; None for one outside every
    layer (the package's own ``__init__`` is the only module allowed there)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in _layers() else None


def _layers() -> tuple[str, ...]:
    from pinnfail import LAYERS

    return LAYERS


def modules(root: Path | None = None) -> list[str]:
    """Every pinnfail module under ROOT (default: this package's folder), by dotted name."""
    root = root or ROOT
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        names.append(".".join((PACKAGE, *parts)))
    return names


def layer_violations(root: Path | None = None) -> list[str]:
    """The import contract, read from the source (every import, lazy ones included): each
    module belongs to a layer of ``pinnfail.LAYERS`` and imports pinnfail modules of its own
    layer or those below only. One line per breach, naming the module, the import and why."""
    global ROOT
    saved, ROOT = ROOT, (root or ROOT)
    _parse.cache_clear()
    try:
        order = {layer: i for i, layer in enumerate(_layers())}
        found = []
        for name in modules(ROOT):
            if name == PACKAGE:
                continue
            layer = layer_of(name)
            if layer is None:
                found.append(f"{name}: belongs to no layer (pinnfail.LAYERS: {', '.join(order)})")
                continue
            above = set()
            for imported in _imported_names(name, module_file(name)):
                target = imported
                while target and module_file(target) is None:
                    target = target.rpartition(".")[0]
                other = layer_of(target) if target and target != PACKAGE else None
                if other is not None and order[other] > order[layer]:
                    above.add((target, other))
            # ``from pinnfail.x import y`` names the package and the module: the module is the import
            for target, other in sorted(above):
                if not any(t.startswith(target + ".") for t, _ in above):
                    found.append(f"{name} ({layer}) imports {target} ({other}): a layer above its own")
        return found
    finally:
        ROOT = saved
        _parse.cache_clear()

"""The import contract: every module belongs to a layer (``pinnfail.LAYERS``) and imports only
its own layer and those below, read from the source (``pinnfail.workflow.sources``)."""
import shutil
from pathlib import Path

import pytest

import pinnfail
from pinnfail.workflow import sources

PACKAGE = Path(pinnfail.__file__).resolve().parent
TOP = pinnfail.LAYERS[-1]


def test_every_module_is_in_a_layer_and_imports_point_down():
    assert sources.layer_violations() == []
    names = sources.modules()
    assert {sources.layer_of(n) for n in names if n != "pinnfail"} == set(pinnfail.LAYERS)
    assert "pinnfail.numerics.lbfgs" in names and "pinnfail.numerics.linesearch" in names
    assert "pinnfail.products.claims" in names and "pinnfail.workflow.plan" in names


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    copy = tmp_path_factory.mktemp("src") / "pinnfail"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _module_path(tree: Path, name: str) -> Path:
    base = tree.joinpath(*name.split(".")[1:])
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def test_an_upward_import_planted_in_any_module_is_named(tree):
    """Every module below the top layer, one at a time: a function-level import of the command
    line is reported, naming the module and the import; the tree is clean again after."""
    planted = 0
    for name in sources.modules(tree):
        layer = sources.layer_of(name)
        if layer in (None, TOP):
            continue
        path = _module_path(tree, name)
        text = path.read_text()
        path.write_text(text + "\n\ndef _planted():\n    from pinnfail.interfaces import cli  # noqa\n")
        try:
            found = sources.layer_violations(tree)
        finally:
            path.write_text(text)
        assert found == [f"{name} ({layer}) imports pinnfail.interfaces.cli ({TOP}): a layer above its own"], name
        planted += 1
    assert planted >= 40
    assert sources.layer_violations(tree) == []


@pytest.mark.parametrize("where, line, target", [
    ("numerics/jets.py", "from pinnfail.artifacts.files import write_text", "pinnfail.artifacts.files"),
    ("artifacts/hdf5.py", "import pinnfail.products.records", "pinnfail.products.records"),
    ("products/tables.py", "from ..workflow import layout", "pinnfail.workflow.layout"),
    ("workflow/plan.py", 'x = importlib.import_module("pinnfail.interfaces.flags")', "pinnfail.interfaces.flags"),
])
def test_each_form_of_import_is_read(tree, where, line, target):
    path = tree / where
    text = path.read_text()
    path.write_text(text + "\n" + ("import importlib\n" if "importlib" in line else "") + line + "\n")
    try:
        (found,) = sources.layer_violations(tree)
    finally:
        path.write_text(text)
    assert f"imports {target} (" in found


def test_a_module_outside_every_layer_is_named(tree):
    stray = tree / "stray.py"
    stray.write_text('"""A module at the top of the package."""\n')
    try:
        assert sources.layer_violations(tree) == [
            f"pinnfail.stray: belongs to no layer (pinnfail.LAYERS: {', '.join(pinnfail.LAYERS)})"]
    finally:
        stray.unlink()


def test_the_developer_guide_maps_every_module():
    """docs/development.md's table names every module (a package's by its folder)."""
    text = (PACKAGE.parents[1] / "docs/development.md").read_text()
    for name in sources.modules():
        parts = name.split(".")[1:]
        if not parts or parts[0] not in pinnfail.LAYERS:
            continue
        path = _module_path(PACKAGE, name).relative_to(PACKAGE)
        shown = f"`{path.parent}/`" if path.parent.name == "figures" else f"`{path.as_posix()}`"
        if path.name == "__init__.py" and path.parent.name in pinnfail.LAYERS:
            shown = f"**{path.parent.name}/**"
        assert shown in text, f"docs/development.md does not map {name} ({shown})"

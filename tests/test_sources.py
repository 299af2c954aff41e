"""sources: a stage's import closure (static, lazy imports included) and its code hash."""
import textwrap

import pytest

from pinnfail.workflow import sources


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A throwaway ``pinnfail`` package whose files a test writes; sources reads it instead."""
    root = tmp_path / "pinnfail"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.setattr(sources, "ROOT", root)
    sources._parse.cache_clear()

    def write(name, text):
        (root / f"{name}.py").write_text(textwrap.dedent(text))
    yield write
    sources._parse.cache_clear()


def test_closure_follows_plain_relative_and_function_level_imports(package):
    package("a", "from . import b\ndef f():\n    import pinnfail.c\n")
    package("b", "from .d import x\n")
    package("c", "")
    package("d", "x = 1\n")
    package("unused", "")
    assert sources.import_closure("pinnfail.a") == ["pinnfail", "pinnfail.a", "pinnfail.b", "pinnfail.c", "pinnfail.d"]


def test_closure_follows_lazy_imports_by_literal_name(package):
    package("a", 'import importlib\nj = _Lazy("pinnfail.j")\ndef f():\n    return importlib.import_module("pinnfail.k")\n')
    package("j", "")
    package("k", "")
    package("m", 'name = "pinnfail.k"\nprint("pinnfail.j")\n')  # a mere string is no import
    assert sources.import_closure("pinnfail.a") == ["pinnfail", "pinnfail.a", "pinnfail.j", "pinnfail.k"]
    assert sources.import_closure("pinnfail.m") == ["pinnfail", "pinnfail.m"]


def test_code_hash_changes_with_a_lazily_imported_module_only(package, tmp_path):
    package("a", 'j = _Lazy("pinnfail.j")\n')
    package("j", "x = 1\n")
    package("other", "")
    before = sources.code_hash("pinnfail.a")
    package("other", "y = 2\n")
    assert sources.code_hash("pinnfail.a") == before
    package("j", "x = 2\n")
    sources._parse.cache_clear()
    assert sources.code_hash("pinnfail.a") != before


def test_unknown_module_is_named():
    with pytest.raises(ValueError, match="pinnfail.nope"):
        sources.import_closure("pinnfail.nope")


def test_reference_stage_runs_the_jets_through_pdes():
    # pdes imports jets lazily (planning imports no JAX); the reference job still runs it
    assert "pinnfail.numerics.jets" in sources.import_closure("pinnfail.numerics.reference")


def test_a_package_that_imports_each_of_its_modules_reaches_them_all():
    """The figures' registry imports its modules by computed names (pkgutil): each is part of
    the figures' code, so editing one reruns the figures."""
    closure = sources.import_closure("pinnfail.products.figures")
    assert {"pinnfail.products.figures.panels", "pinnfail.products.figures.precision",
            "pinnfail.products.figures.style"} <= set(closure)
    assert "pinnfail.products.claims" not in closure

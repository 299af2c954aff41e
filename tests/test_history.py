"""history: the run history's columns, declared once and written by training as declared."""
import ast
from pathlib import Path

import pytest

from pinnfail.numerics import history as H

SRC = Path(H.__file__).parent
COLUMNS = {H.ITERATION, H.FEVALS, H.WALL_TIME, H.OBJECTIVE, H.PENALTY, H.TRAIN_TOTAL, H.TEST_TOTAL, H.TEST_RMAE}


def test_a_row_sums_its_terms_and_names_every_column():
    row = H.row(iteration=10, fevals=12, wall_time=1.5, objective=3.5, penalty=0.5,
                train_terms={"domain": 1.0, "initial": 2.0}, test_terms={"domain": 4.0, "initial": 8.0})
    assert row[H.TRAIN_TOTAL] == 3.0 and row[H.TEST_TOTAL] == 12.0
    assert row[H.train_term("initial")] == 2.0 and row[H.test_term("domain")] == 4.0
    assert H.TEST_RMAE not in row
    assert H.row(iteration=0, fevals=0, wall_time=0, objective=0, penalty=0, train_terms={}, test_terms={},
                 test_rmae=0.5)[H.TEST_RMAE] == 0.5


def test_no_module_spells_a_history_column_itself():
    """Every read of a history column goes through this module's names (a renamed column
    cannot leave a reader behind): no subscript or membership test with one as a literal."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "history.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            key = None
            attrs = isinstance(node, ast.Subscript) and getattr(node.value, "attr", None) == "attrs"
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and not attrs:
                key = node.slice.value  # (a run's attribute, e.g. attrs["fevals"], is not a column)
            elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
                key = node.left.value
            if key in COLUMNS:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {key!r}")
    assert not offenders, offenders


@pytest.mark.parametrize("name", ["domain", "periodic"])
def test_term_columns(name):
    assert H.train_term(name) == f"train_{name}" and H.test_term(name) == f"test_{name}"

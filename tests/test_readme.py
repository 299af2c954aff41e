"""The README's generated blocks: copied from generated files, and stale blocks are caught."""
from pathlib import Path

import pytest

from pinnfail.products import readme

ROOT = Path(__file__).resolve().parents[1]

LEDGER = """# Which claims hold

| paper | claim | verdict | budget | seeds | evidence |
|---|---|---|---|---|---|
| Fig. 9 | toy claim A | **holds** | cap 10 | 3 | ratio 12x |
| Fig. 9 | toy claim B | **not decided: too few seeds: 2** | cap 10 | 2 |  |

Totals: holds 1, not decided 1 (of 2).
"""

TABLE1 = """| equation | method | precision | loss | rMAE | rRMSE | N | seeds | iterations | classification | source |
|---|---|---|---|---|---|---|---|---|---|---|
| toy | PINN FP64 | fp64 | 1 | 0.5 | 0.5 | 10 |  |  |  | literature |
| toy | double PINN | fp64 | 1 | 1e-06 | 1 | 10 |  |  |  | paper |
| toy | double PINN | fp64 | 1 | 2e-03 ± 1e-04 | 1 | 10 | 4 | 700 | solved 4/4 | pipeline |
"""


def _root(tmp_path, ledger=LEDGER, table1=TABLE1):
    (tmp_path / "docs/results/cpu/table1").mkdir(parents=True)
    (tmp_path / "docs/claims.md").write_text(ledger)
    (tmp_path / "docs/results/cpu/table1/table1.md").write_text(table1)
    return tmp_path


TEXT = ("intro\n<!-- generated from docs/claims.md -->\nold\n<!-- end generated -->\nmiddle\n"
        "<!-- generated from docs/results/cpu/table1/table1.md -->\n<!-- end generated -->\nend\n")


def test_the_committed_readme_blocks_are_current():
    assert readme.stale((ROOT / "README.md").read_text(), ROOT) == []


def test_blocks_are_derived_from_their_files(tmp_path):
    root = _root(tmp_path)
    out = readme.update(TEXT, root)
    assert "| Fig. 9 | toy claim B | **not decided** (too few seeds) |" in out and "Totals: holds 1, not decided 1 (of 2)." in out
    assert "| toy | 1e-06 | 2e-03 ± 1e-04 | 4 | 700 | solved 4/4 |" in out
    assert out.startswith("intro\n") and "\nmiddle\n" in out and out.endswith("end\n") and "\nold\n" not in out
    assert readme.stale(out, root) == [] and readme.update(out, root) == out


def test_an_edited_source_makes_its_block_stale(tmp_path):
    root = _root(tmp_path)
    out = readme.update(TEXT, root)
    (root / "docs/claims.md").write_text(LEDGER.replace("**holds** | cap 10", "**does not hold** | cap 10"))
    assert readme.stale(out, root) == ["docs/claims.md"]


def test_an_unknown_source_is_named(tmp_path):
    with pytest.raises(ValueError, match="no generated block for docs/other.md"):
        readme.update("<!-- generated from docs/other.md -->\n<!-- end generated -->\n", _root(tmp_path))

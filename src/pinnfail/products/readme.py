"""The README's results blocks, copied from generated files so that prose never restates a number.

A block sits between ``<!-- generated from PATH -->`` and ``<!-- end generated -->``; its text is a
pure function of the generated file PATH (``BLOCKS`` maps each PATH to that function):

- ``docs/claims.md``: the ledger's verdict table cut to paper / claim / verdict, and its totals;
- ``docs/results/cpu/table1/table1.md``: the pipeline's rows beside the paper's, per equation.

``update`` rewrites every block from the files; ``stale`` names the blocks that differ (the test
suite fails on any). No JAX, no h5py: the inputs are Markdown files.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

BEGIN = "<!-- generated from {} -->"
END = "<!-- end generated -->"
_BLOCK = re.compile(r"<!-- generated from (\S+) -->\n(.*?)<!-- end generated -->", re.S)


def _table(text: str, header_start: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table whose header starts with header_start."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header_start):
            rows = []
            for row in lines[i:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return [rows[0]] + rows[2:]
    raise ValueError(f"no table starting {header_start!r}")


def _verdict_word(cell: str) -> str:
    """'**not decided: too few seeds: ...**' -> '**not decided** (too few seeds)': the verdict and
    the head of its reason (the numbers stay in the ledger)."""
    verdict, _, reason = cell.strip("*").partition(":")
    head = reason.split(":")[0].split(";")[0].strip()
    return f"**{verdict}**" + (f" ({head})" if head else "")


def claims_block(text: str) -> str:
    """Paper / claim / verdict from docs/claims.md, the reason left to the ledger, and the totals."""
    header, *rows = _table(text, "| paper | claim | verdict |")
    i, j, k = (header.index(c) for c in ("paper", "claim", "verdict"))
    out = ["| paper | claim | verdict |", "|---|---|---|"]
    out += [f"| {r[i]} | {r[j]} | {_verdict_word(r[k])} |" for r in rows]
    totals = next(line for line in text.splitlines() if line.startswith("Totals: "))
    return "\n".join(out + ["", totals]) + "\n"


def table1_block(text: str) -> str:
    """Per equation: the paper's double-PINN FP64 rMAE beside the pipeline's (mean +- std), with
    the pipeline's seeds, iterations and classes."""
    header, *rows = _table(text, "| equation | method |")
    col = {name: header.index(name) for name in ("equation", "rMAE", "seeds", "iterations", "classification", "source")}
    paper = {r[col["equation"]]: r[col["rMAE"]] for r in rows if r[col["source"]] == "paper"}
    out = ["| equation | paper (1e6 iterations), mean ± std | this pipeline, CPU, mean ± std | seeds | iterations | "
           "classes |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r[col["source"]] == "pipeline":
            eq = r[col["equation"]]
            out.append(f"| {eq} | {paper.get(eq, '–')} | {r[col['rMAE']]} | {r[col['seeds']]} | "
                       f"{r[col['iterations']]} | {r[col['classification']]} |")
    return "\n".join(out) + "\n"


def quickstart_block(text: str) -> str:
    """The quick start's Table 1 (a fresh clone's results/table1.md, committed with its
    provenance): the pipeline's rows, mean ± std over seeds."""
    header, *rows = _table(text, "| equation | method |")
    keep = [c for c in ("equation", "method", "precision", "loss", "rMAE", "rRMSE", "N", "seeds", "iterations",
                        "classification") if c in header]
    out = ["| " + " | ".join(keep) + " |", "|" + "---|" * len(keep)]
    out += ["| " + " | ".join(r[header.index(c)] for c in keep) + " |"
            for r in rows if r[header.index("source")] == "pipeline"]
    return "\n".join(out) + "\n"


BLOCKS: dict[str, Callable[[str], str]] = {
    "docs/claims.md": claims_block,
    "docs/results/cpu/table1/table1.md": table1_block,
    "docs/results/quickstart/table1.md": quickstart_block,
}


def _render(source: str, root: Path) -> str:
    if source not in BLOCKS:
        raise ValueError(f"README: no generated block for {source} (known: {', '.join(BLOCKS)})")
    return BLOCKS[source]((root / source).read_text())


def update(readme: str, root: Path) -> str:
    """The README text with every generated block rewritten from its file under root."""
    return _BLOCK.sub(lambda m: f"{BEGIN.format(m[1])}\n{_render(m[1], root)}{END}", readme)


def stale(readme: str, root: Path) -> list[str]:
    """The sources whose block differs from what the file gives now."""
    return [m[1] for m in _BLOCK.finditer(readme) if m[2] != _render(m[1], root)]


def rewrite(readme_path, root, check: bool = False) -> str:
    """Rewrite README_PATH's generated blocks from their sources under ROOT (``pinnfail readme``),
    or with ``check`` raise ValueError naming the stale ones and write nothing. Returns one line."""
    from pinnfail.artifacts.files import write_text

    path = Path(readme_path)
    text = path.read_text()
    if check:
        if late := stale(text, Path(root)):
            raise ValueError(f"{path}: stale generated blocks: {', '.join(late)} (run `pinnfail readme`)")
        return f"{path}: generated blocks current"
    write_text(path, update(text, Path(root)))
    return f"{path}: generated blocks rewritten"

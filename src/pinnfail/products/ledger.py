"""docs/claims.md: the claims ledger rendered from the registry's verdicts (``claims``) over the
committed variants (``records``). One row per claim; under it the variants that decided it and
the weaker or earlier ones it supersedes."""
from __future__ import annotations

from typing import Sequence

from pinnfail.products.claims import CLAIMS, decide_all
from pinnfail.products.verdicts import Claim, Verdict, summary
from pinnfail.artifacts.files import write_text
from pinnfail.products.records import Variant, group, load, load_costs

INTRO = """\
Which of the paper's claims hold in this project's committed runs: one verdict per claim,
decided by the registry in `src/pinnfail/products/claims.py` from the strongest committed evidence
(compared variants at equal budgets, at least 3 seeds, 2 for Allen-Cahn; the longest budget
committed). Verdicts: *holds*, *does not hold*, *not decided* (with the measured reason), *not
applicable* (the claim's premise is absent). A verdict that more iterations of runs the cap ended
still falling could overturn is *not decided*; one they can only strengthen stands and says so.
Seeds that disagree decide only when the 95 % interval of their fraction lies clear of one half.
Weaker or earlier studies of a claim are listed under it as superseded. The budgets are CPU
budgets (the paper ran 10^6 iterations): a verdict says what holds at the stated budget, not at
the paper's. Run classes, flags, votes and the stop rule: [docs/concepts.md](concepts.md).

Generated; do not edit. Regenerate with

    {command}
"""


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a literal ``|`` would end the cell."""
    return text.replace("|", "\\|")


def _row(claim: Claim, v: Verdict) -> str:
    budget = "; ".join(sorted({u.budget_text() for u in v.used})) or "–"
    seeds = ", ".join(str(len(u.seeds)) for u in v.used) or "–"
    verdict = v.verdict if v.verdict in ("holds", "does not hold") else f"{v.verdict}: {v.reason}"
    evidence = v.reason if v.verdict in ("holds", "does not hold") else v.numbers
    cells = (claim.paper, claim.statement, f"**{verdict}**", budget, seeds, evidence)
    return "| " + " | ".join(_cell(c) if c else c for c in cells) + " |"


def _details(claim: Claim, v: Verdict) -> list[str]:
    lines = [f"### {claim.paper}: {claim.statement} (`{claim.id}`)", "", f"**{v.verdict}**: {v.reason}", ""]
    if v.numbers:
        lines += [f"Evidence: {v.numbers}", ""]
    for u in v.used:
        lines.append(f"- used: {summary(u)}; {u.budget_text()}; seeds {' '.join(map(str, u.seeds))}; "
                     f"committed in {', '.join(f'`docs/results/cpu/{p}`' for p in u.parts)}")
    for u in v.superseded:
        lines.append(f"- superseded: {summary(u)}; {u.budget_text()}; seeds {len(u.seeds)} "
                     f"({', '.join(u.parts)})")
    return lines + [""]


def render(variants: Sequence[Variant], command: str, claims: Sequence[Claim] = CLAIMS) -> str:
    decided = decide_all(variants, claims)
    lines = ["# Which claims of the paper hold", "", INTRO.format(command=command), "## Verdicts", "",
             "| paper | claim | verdict | budget | seeds | evidence |", "|---|---|---|---|---|---|"]
    lines += [_row(c, v) for c, v in decided]
    counts = {}
    for _, v in decided:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    lines += ["", "Totals: " + ", ".join(f"{k} {n}" for k, n in counts.items()) + f" (of {len(decided)}).", "",
              "## Evidence per claim", ""]
    for c, v in decided:
        lines += _details(c, v)
    return "\n".join(lines).rstrip() + "\n"


def committed(folders) -> list[Variant]:
    """The variants of the committed runs under ``folders``, with their parts' measured costs."""
    return group(load(folders), load_costs(folders))


def write(folders, out, command: str) -> str:
    text = render(committed(folders), command)
    write_text(out, text)
    return text

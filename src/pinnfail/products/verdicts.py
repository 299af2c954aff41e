"""How a verdict is reached from committed variants (the rule engine the claims registry uses):
equal budgets, enough seeds, the strongest evidence, still-falling runs, split votes, the
lambda selected by test loss. The registry of claims is ``products.claims``.
"""
from __future__ import annotations



import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence


from pinnfail.products.records import Variant
from pinnfail.products.study import lowest_test_loss, median


HOLDS, FAILS, UNDECIDED, NA = "holds", "does not hold", "not decided", "not applicable"


MIN_SEEDS = {"allen_cahn": 2}


DEFAULT_MIN_SEEDS = 3


class Judgement(NamedTuple):
    """What a judge says of the variants it is given: the verdict, its reason, the evidence
    numbers (shown where the verdict is not holds / does not hold) and the variants whose runs,
    still falling at the cap, can only strengthen the verdict (``conclude``)."""

    verdict: str
    reason: str
    numbers: str = ""
    robust: tuple = ()


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    used: tuple[Variant, ...] = ()
    superseded: tuple[Variant, ...] = ()
    numbers: str = ""  # the evidence behind a verdict that is not holds / does not hold


@dataclass(frozen=True)
class Claim:
    """One claim: ``decide(variants) -> Verdict`` reads only the variants it selects."""

    id: str
    paper: str  # where the paper makes it
    statement: str
    decide: Callable[[Sequence[Variant]], Verdict] = field(repr=False)


def matching(variants: Sequence[Variant], **match) -> list[Variant]:
    """Variants whose config has every ``match`` value (lists compared as lists)."""
    return [v for v in variants if all(_same(v.config.get(k), want) for k, want in match.items())]


def _same(value, want) -> bool:
    if isinstance(want, float) and isinstance(value, (int, float)):
        return math.isclose(value, want, rel_tol=1e-9)
    return list(value) == list(want) if isinstance(want, (list, tuple)) else value == want


def enough_seeds(v: Variant) -> bool:
    return len(v.seeds) >= MIN_SEEDS.get(v["pde"], DEFAULT_MIN_SEEDS)


def strength(v: Variant) -> tuple:
    """The order of evidence: the longest budget, then the most seeds."""
    return (v.budget[0], len(v.seeds))


def _test_loss(v: Variant, seeds: set[int]) -> float:
    """The median test loss over the given seeds (``study.median``, as a study selects its
    lambda); inf if none."""
    m = median(float(r.get("test_loss")) for r in v.records if not seeds or r.seed in seeds)
    return math.inf if math.isnan(m) else m


def selected(candidates: Sequence[Variant]) -> tuple[Variant | None, int]:
    """The lambda with the lowest median test loss over the seeds all candidates share (at one
    budget: the longest that has any), and how many lambdas competed."""
    if not candidates:
        return None, 0
    cap = max(v.budget for v in candidates)
    pool = [v for v in candidates if v.budget == cap]
    shared = set.intersection(*(set(v.seeds) for v in pool))

    def loss(v: Variant) -> float:
        return _test_loss(v, shared)

    return lowest_test_loss(pool, loss, lambda v: v["lambda"]), len(pool)


def selection_text(candidates: Sequence[Variant]) -> str:
    """Which lambda the test loss selected, and every candidate's median test loss over the
    shared seeds."""
    best, n = selected(candidates)
    if n < 2:
        return f"lambda {best['lambda']:g} (the only candidate)"
    pool = [v for v in candidates if v.budget == best.budget]
    shared = set.intersection(*(set(v.seeds) for v in pool))
    losses = ", ".join(f"{v['lambda']:g} {_test_loss(v, shared):.3g}"
                       for v in sorted(pool, key=lambda v: v["lambda"]))
    runner = min((v for v in pool if v is not best), key=lambda v: _test_loss(v, shared))
    margin = _test_loss(runner, shared) / _test_loss(best, shared)
    return (f"lambda {best['lambda']:g} selected by the lowest median test loss among {n} "
            f"(test loss, seeds {' '.join(map(str, sorted(shared)))}: {losses}; margin {margin:.3g}x over "
            f"the runner-up {runner['lambda']:g})")


def equal_budget_sets(groups: Sequence[Sequence[Variant]]) -> tuple[list[tuple[Variant, ...]], list[Variant]]:
    """Every way to take one variant per group at one common budget, strongest first; and all
    variants considered (for the superseded list)."""
    everything = [v for g in groups for v in g]
    budgets = sorted({v.budget for v in everything}, reverse=True)
    sets = []
    for b in budgets:
        per = [[v for v in g if v.budget == b] for g in groups]
        if all(per):
            sets.append(tuple(max(p, key=lambda v: len(v.seeds)) for p in per))
    sets.sort(key=lambda s: (min(strength(v) for v in s)), reverse=True)
    return sets, everything


def compare(groups: Sequence[Sequence[Variant]], judge: Callable[..., tuple[str, str]]) -> Verdict:
    """The equal-budget, enough-seeds set that decides, judged by ``judge(*variants)``."""
    if any(not g for g in groups):
        return Verdict(UNDECIDED, "no committed run of " + ("every compared variant" if len(groups) > 1 else "it"))
    sets, everything = equal_budget_sets(groups)
    if not sets:
        strongest = tuple(max(g, key=strength) for g in groups)
        return Verdict(UNDECIDED, "unequal budgets: " + "; ".join(f"{v.label()}: {v.budget_text()}" for v in strongest),
                       strongest, tuple(v for v in everything if v not in strongest))
    good = [s for s in sets if all(enough_seeds(v) for v in s)]
    used = good[0] if good else sets[0]
    rest = tuple(v for v in everything if v not in used)
    if not good:
        return Verdict(UNDECIDED, "too few seeds: " + ", ".join(f"{v.label()} {len(v.seeds)}" for v in used), used, rest)
    return conclude(Judgement(*judge(*used)), used, rest)


def conclude(j: Judgement, used: Sequence[Variant], rest: Sequence[Variant] = ()) -> Verdict:
    """The verdict of a judgement, unless runs still falling at the cap could overturn it: a
    verdict (other than *not decided*) with a still-falling variant outside ``j.robust`` is *not
    decided: still falling at the cap*; one whose still-falling variants are all robust stands
    and says so."""
    used, rest = tuple(used), tuple(rest)
    if j.verdict == UNDECIDED:
        return Verdict(UNDECIDED, j.reason, used, rest, j.numbers)
    risky = [v for v in used if v.falling() and not any(v is r for r in j.robust)]
    if risky:
        return Verdict(UNDECIDED, "still falling at the cap: " + "; ".join(v.falling_text() for v in risky), used, rest,
                       f"{j.verdict} at this budget: {j.reason}")
    strong = [v for v in used if v.falling()]
    reason = j.reason
    if strong:
        reason += ("; stands: more iterations can only strengthen it ("
                   + "; ".join(v.falling_text() for v in strong) + ")")
    return Verdict(j.verdict, reason, used, rest, j.numbers)


def split(*votes: tuple[Variant, Sequence[str], str]) -> str | None:
    """Why the seeds decide nothing (a vote that is None): each such variant's share of the
    classes asked for, with its 95 % interval; None if every vote is decided."""
    undecided = [f"{what} {v.share_text(*classes)}" for v, classes, what in votes if v.vote(*classes) is None]
    return ("seeds split: " + "; ".join(undecided)) if undecided else None


def summary(v: Variant) -> str:
    lo, hi = v.spread("rmae")
    return (f"{v.label()}: rMAE {v.median('rmae'):.2g} ({lo:.2g}..{hi:.2g}), "
            f"test/train {v.median('max_term_test_train_ratio'):.3g}, {v.classes_text()}; {v.flags_text()}")

"""The paper's claims as a registry: each one small entry that says what it compares and how its
verdict is decided from the committed variants (``records.Variant``).

Rules shared by every entry (``decide``):

* compared variants must have equal budgets (the same iteration cap and stop rule); where no
  equal-budget set exists the verdict is *not decided: unequal budgets*;
* at least ``MIN_SEEDS`` seeds per variant (3; 2 for Allen-Cahn, whose runs cost hours here);
* among the sets that qualify, the longest budget, then the most seeds, decides; every other
  matching variant is listed as *superseded*, never as a second verdict;
* a claim whose premise is absent (a regularizer "removes" an overfitting that never happened)
  is *not applicable*, decided from the premise's own runs before the rest is looked for;
* a verdict that more iterations of runs the cap ended still falling (their flag
  ``still_falling``, apart from their class) could overturn is *not decided: still falling at
  the cap*, naming the runs and their objective change; a verdict that more iterations can only
  strengthen (a lower error where the claim asks for a low error) stands and says so. Each judge
  names the variants whose falling runs cannot overturn its verdict (``Judgement.robust``);
* a class is voted by the seeds (``records.Variant.vote``): unanimous seeds decide; where they
  disagree, the 95 % Wilson interval of the fraction must lie above one half (or below it):
  otherwise the claim is *not decided*, in every judge;
* a regularizer's strength is the lambda with the lowest median test loss over the seeds every
  candidate shares, never the reference error; its margin (the runner-up's test loss) is shown.

Verdicts: ``holds``, ``does not hold``, ``not decided`` (with the measured reason) and
``not applicable`` (the premise is absent).
"""
from __future__ import annotations

import dataclasses

import csv
import io as _io
import math
from importlib import resources
from typing import Sequence

import numpy as np

from pinnfail.products.records import Variant, fraction_vote, share_text
from pinnfail.products.study import median
from pinnfail.numerics import history as H
from pinnfail.products.verdicts import Claim
from pinnfail.products.verdicts import FAILS
from pinnfail.products.verdicts import HOLDS
from pinnfail.products.verdicts import Judgement
from pinnfail.products.verdicts import NA
from pinnfail.products.verdicts import UNDECIDED
from pinnfail.products.verdicts import Verdict
from pinnfail.products.verdicts import compare
from pinnfail.products.verdicts import conclude
from pinnfail.products.verdicts import enough_seeds
from pinnfail.products.verdicts import matching
from pinnfail.products.verdicts import selected
from pinnfail.products.verdicts import selection_text
from pinnfail.products.verdicts import split
from pinnfail.products.verdicts import strength
from pinnfail.products.verdicts import summary

TABLE1 = {  # Table 1's setting per equation (the paper's points; double PINN FP64)
    "convection": {"grid": [20, 20], "n_initial": 200, "n_boundary": 200},
    "reaction": {"grid": [16, 16], "n_initial": 100, "n_boundary": 100},
    "wave": {"grid": [12, 12], "n_initial": 100, "n_boundary": 100},
    "allen_cahn": {"grid": [64, 64], "n_initial": 100, "n_boundary": 100},
}


# -- selecting variants -------------------------------------------------------------------------


def _family(variants, pde, precision, regularizer, form="residual", **setting) -> list[Variant]:
    extra = {"double_form": form} if regularizer == "double" else {}
    return matching(variants, pde=pde, precision=precision, regularizer=regularizer, **extra, **setting)


def _at_selected(variants, pde, precision, regularizer, form="residual", **setting) -> list[Variant]:
    """The selected strength of a regularizer at each budget where it was swept or run."""
    fam = _family(variants, pde, precision, regularizer, form, **setting)
    out = []
    for budget in sorted({v.budget for v in fam}, reverse=True):
        best, _ = selected([v for v in fam if v.budget == budget])
        out.append(best)
    return out


# -- the judges ---------------------------------------------------------------------------------

def _fails_fixed(unreg: Variant, reg: Variant) -> Judgement:
    undecided = split((unreg, ["overfit"], "unregularized overfit"), (reg, ["solved"], "regularized solved"))
    if undecided:
        return Judgement(UNDECIDED, undecided)
    if unreg.vote("overfit") and reg.vote("solved"):
        return Judgement(HOLDS, f"unregularized overfits ({unreg.classes_text()}), regularized solved "
                                f"({reg.classes_text()})", robust=(reg,))
    if not unreg.vote("overfit"):
        return Judgement(FAILS, f"the unregularized network does not overfit here ({unreg.classes_text()})")
    return Judgement(FAILS, f"the regularized network is not solved ({reg.classes_text()})")


def fig1(variants):
    setting = dict(grid=[20, 20], n_initial=200, n_boundary=200)
    return compare([_family(variants, "convection", "fp32", "none", **setting),
                    _at_selected(variants, "convection", "fp32", "double", **setting)], _fails_fixed)


def fig3_sparse(variants):
    setting = TABLE1["wave"]
    return compare([_family(variants, "wave", "fp64", "none", **setting),
                    _at_selected(variants, "wave", "fp64", "double", **setting)], _fails_fixed)


def density(variants):
    nones = _family(variants, "wave", "fp64", "none", n_initial=100, n_boundary=100)
    grids = sorted({tuple(v["grid"]) for v in nones})
    if len(grids) < 2:
        return Verdict(UNDECIDED, "fewer than two grids committed")

    def judge(sparse, *dense):
        text = "; ".join(f"{'x'.join(map(str, d['grid']))}: {d.classes_text()}" for d in (sparse, *dense))
        undecided = split((sparse, ["overfit"], "sparse grid overfit"),
                          *((d, ["solved"], f"{'x'.join(map(str, d['grid']))} solved") for d in dense))
        if undecided:
            return Judgement(UNDECIDED, undecided, text)
        ok = sparse.vote("overfit") and all(d.vote("solved") for d in dense)
        return Judgement(HOLDS if ok else FAILS, text, robust=tuple(dense) if ok else ())

    return compare([[v for v in nones if tuple(v["grid"]) == g] for g in grids], judge)


def fig4_precision(variants):
    """FP32 against FP64 given the same iterations: an FP32 run the paper's rule stopped early is
    compared with FP64 at the same iteration as well, but decides only when given FP64's cap: run
    to it, or stopped before it by the standstill test (its objective frozen to the last bit, so
    more iterations cannot move it). Holds when FP32 stays on the plateau (its seeds' majority
    class) and FP64 does not, with the lower error."""
    setting = TABLE1["allen_cahn"]
    f32 = _family(variants, "allen_cahn", "fp32", "none", **setting)
    f64 = _family(variants, "allen_cahn", "fp64", "none", **setting)
    ran_out = [v for v in f32 if v.median("iterations") >= v.budget[0] or v.budget[1] == "standstill"]

    def same_iterations(a, b):
        return a.budget[0] == b.budget[0]

    pairs = [(a, b) for a in ran_out for b in f64 if same_iterations(a, b) and enough_seeds(a) and enough_seeds(b)]
    if pairs:
        a, b = max(pairs, key=lambda p: (p[0].budget[0], len(p[0].seeds)))
        ratio = a.median("rmae") / b.median("rmae")
        rest = tuple(v for v in f32 + f64 if v not in (a, b))
        rules = ("" if a.budget[1] == b.budget[1] else
                 f"; FP32 under the {a.budget_text().split(',')[0]} and FP64 under the "
                 f"{b.budget_text().split(',')[0]}, compared at the same cap because the standstill test "
                 "ends a run only when its objective can no longer move")
        text = (f"cap {b.budget[0]} each: FP32 {a.classes_text()}, rMAE {a.median('rmae'):.2g} "
                f"after {int(a.median('iterations'))} iterations ({a.budget_text()}); FP64 "
                f"{b.classes_text()}, rMAE {b.median('rmae'):.2g} ({ratio:.3g}x lower){rules}")
        undecided = split((a, ["plateau"], "FP32 on the plateau"), (b, ["plateau"], "FP64 on the plateau"))
        if undecided:
            return conclude(Judgement(UNDECIDED, undecided, text), (a, b), rest)
        stays = a.vote("plateau") and not b.vote("plateau")
        verdict = HOLDS if stays and b.median("rmae") < a.median("rmae") else FAILS
        return conclude(Judgement(verdict, text, robust=(b,) if verdict == HOLDS else ()), (a, b), rest)
    if not f32 or not f64:
        return Verdict(UNDECIDED, "no committed run of both precisions")
    a, b = max(f32, key=strength), max(f64, key=strength)
    k = int(a.median("iterations"))
    at64 = median(r.at_iteration(H.TEST_TOTAL, k) for r in b.records)
    at32 = median(r.at_iteration(H.TEST_TOTAL, k) for r in a.records)
    return Verdict(UNDECIDED, f"unequal budgets: FP32 stopped by the rule at {k} iterations (rMAE "
                   f"{a.median('rmae'):.2g}), FP64 ran {b.budget[0]} (rMAE {b.median('rmae'):.2g}); at {k} "
                   f"iterations the test loss was {at32:.3g} (FP32) and {at64:.3g} (FP64)",
                   (a, b), tuple(v for v in f32 + f64 if v not in (a, b)))


def fig4_late_rise(variants):
    fam = _family(variants, "allen_cahn", "fp64", "none", **TABLE1["allen_cahn"])

    def judge(v):
        rises = []
        for r in v.records:
            test = [float(x) for x in r.history[H.TEST_TOTAL]]
            i = min(range(len(test)), key=test.__getitem__)
            rises.append((test[-1] / test[i], int(r.history[H.ITERATION][i])))
        n = sum(f > 2 for f, _ in rises)
        text = ", ".join(f"seed {r.seed}: final/min test loss {f:.3g} (min at {i})" for r, (f, i) in zip(v.records, rises))
        vote = fraction_vote(n, len(rises))
        if vote is None:
            return Judgement(UNDECIDED, f"seeds split: a rise in {share_text(n, len(rises))}", text)
        return Judgement(HOLDS if vote else FAILS, text)

    return compare([fam], judge)


def fig4d(variants):
    """Double PINN FP64 (at the lambda its test loss selects) against FP32 and FP64 unregularized
    at one budget: holds when it has the lowest median rMAE; not decided while the cap ends its
    runs still falling (it may yet pass or fall behind)."""
    setting = TABLE1["allen_cahn"]
    double = _at_selected(variants, "allen_cahn", "fp64", "double", **setting)
    family = _family(variants, "allen_cahn", "fp64", "double", **setting)
    others = [_family(variants, "allen_cahn", p, "none", **setting) for p in ("fp32", "fp64")]

    def judge(d, a, b):
        best = min((d, a, b), key=lambda v: v.median("rmae"))
        text = (f"{selection_text([v for v in family if v.budget == d.budget])}; "
                + "; ".join(summary(v) for v in (d, a, b)))
        if best is d:  # d's falling runs only lower its error; the others' could pass it
            return Judgement(HOLDS, text, robust=(d,))
        return Judgement(FAILS, text, robust=tuple(v for v in (a, b) if v.median("rmae") < d.median("rmae")))

    return compare([double, *others], judge)


def literature_rows() -> list[dict]:
    text = resources.files("pinnfail").joinpath("data/table1_paper.csv").read_text()
    return list(csv.DictReader(_io.StringIO(text)))


def _paper_rmae(pde: str, source: str) -> list[tuple[str, float]]:
    return [(r["method"], float(r["rmae_mean"])) for r in literature_rows() if r["equation"] == pde and r["source"] == source]


def table1_row(pde):
    def decide(variants):
        cands = _family(variants, pde, "fp64", "double", **TABLE1[pde])
        best, n = selected(cands) if cands else (None, 0)
        paper = _paper_rmae(pde, "paper")

        if best is None:
            return Verdict(UNDECIDED, "no run: needs a GPU or a longer CPU part")

        def judge(v):
            text = (f"{selection_text(cands)}; rMAE {v.median('rmae'):.2g} at this budget, the paper's "
                    f"{paper[0][1]:.2g} at 1e6 iterations; {v.classes_text()}; {v.flags_text()}")
            undecided = split((v, ["solved"], "solved"))
            if undecided:
                return Judgement(UNDECIDED, undecided, text)
            if v.vote("solved"):
                return Judgement(HOLDS, text, robust=(v,))
            return Judgement(FAILS, text)

        return _with_selection(compare([[best]], judge), cands)
    return decide


def _with_selection(v: Verdict, cands: Sequence[Variant]) -> Verdict:
    """An undecided Table 1 verdict says which lambda was selected and how."""
    if v.verdict != UNDECIDED or v.numbers:
        return v
    return dataclasses.replace(v, reason=f"{v.reason}; {selection_text(cands)}")


TENFOLD = 10.0
METRICS = (("rmae", "rMAE"), ("rrmse", "rRMSE"))


def best_literature(pde: str, metric: str) -> tuple[str, float]:
    """The literature row of ``pde`` with the lowest mean ``metric`` (rmae or rrmse)."""
    rows = [(r["method"], float(r[f"{metric}_mean"])) for r in literature_rows()
            if r["equation"] == pde and r["source"] == "literature"]
    return min(rows, key=lambda m: m[1])


def margins(v: Variant, pde: str) -> tuple[dict[str, float], int, str]:
    """How many times better than the best literature row (its mean, in the same metric) the
    variant is, in rMAE and rRMSE, by the mean and by the median over seeds; how many seeds
    clear ``TENFOLD`` in both metrics; and the numbers as text."""
    ratios, parts = {}, []
    seeds_clear = set(v.seeds)
    for metric, name in METRICS:
        method, lit = best_literature(pde, metric)
        values = [float(r.get(metric)) for r in v.records]
        for stat, value in (("mean", float(np.mean(values))), ("median", v.median(metric))):
            ratios[f"{stat} {name}"] = lit / value
        seeds_clear &= {r.seed for r, x in zip(v.records, values) if lit / x >= TENFOLD}
        parts.append(f"{name}: mean {np.mean(values):.2g} ({lit / np.mean(values):.3g}x), median "
                     f"{v.median(metric):.2g} ({lit / v.median(metric):.3g}x) against {method}'s {lit:.2g}")
    text = "; ".join(parts) + f"; seeds clearing {TENFOLD:g}x in both metrics: {len(seeds_clear)}/{len(v.seeds)}"
    return ratios, len(seeds_clear), text


def table1_tenfold(pde):
    """At least ten times better than the best literature row, on every statistic the paper
    reports (rMAE and rRMSE, the mean and the median over seeds): *holds* where all four clear
    10x, *does not hold* where none does (with the runs finished), otherwise *not decided*."""
    def decide(variants):
        cands = _family(variants, pde, "fp64", "double", **TABLE1[pde])
        best, _ = selected(cands) if cands else (None, 0)
        if best is None:
            lit = best_literature(pde, "rmae")
            return Verdict(UNDECIDED, f"no run (best literature row {lit[0]} {lit[1]:.2g})")

        def judge(v):
            ratios, _, text = margins(v, pde)
            text = f"{text}; {selection_text(cands)}"
            clear = [k for k, r in ratios.items() if r >= TENFOLD]
            if len(clear) == len(ratios):
                return Judgement(HOLDS, text, robust=(v,))
            if not clear:
                return Judgement(FAILS, text)
            return Judgement(UNDECIDED, f"{TENFOLD:g}x on {', '.join(clear)} only", text)

        return _with_selection(compare([[best]], judge), cands)
    return decide


REGULARIZERS = (("l2", "residual"), ("l1", "residual"), ("double", "residual"))
FIG6 = dict(grid=[20, 20], n_initial=200, n_boundary=200)


def _fig6_groups(variants, pde="convection", precision="fp32", setting=FIG6):
    return [_family(variants, pde, precision, "none", **setting)] + [
        _at_selected(variants, pde, precision, reg, form, **setting) for reg, form in REGULARIZERS]


def _premise_absent(unreg: Variant) -> str:
    return f"the unregularized network does not overfit ({unreg.classes_text()}): nothing to remove"


def removes(pde, precision, setting):
    """Each regularizer removes the overfitting: first the premise (the unregularized network
    overfits, decided by ``compare``'s rules on its own runs), then the regularized variants at
    its budget."""
    def decide(variants):
        groups = _fig6_groups(variants, pde, precision, setting)
        def overfits(unreg):
            undecided = split((unreg, ["overfit"], "unregularized overfit"))
            if undecided:
                return Judgement(UNDECIDED, undecided)
            return Judgement(HOLDS, "") if unreg.vote("overfit") else Judgement(NA, _premise_absent(unreg))

        premise = compare(groups[:1], overfits)
        if premise.verdict != HOLDS:
            return premise if premise.verdict != NA else Verdict(NA, premise.reason, premise.used, premise.superseded)

        def judge(unreg, *regs):
            if not unreg.vote("overfit"):
                return overfits(unreg)
            text = "; ".join(f"{r.label()}: {r.classes_text()}" for r in regs)
            cleared = [CLASSES_BUT_OVERFIT for _ in regs]
            undecided = split(*((r, c, f"{r.label()} not overfit") for r, c in zip(regs, cleared)))
            if undecided:
                return Judgement(UNDECIDED, undecided, text)
            ok = all(r.vote(*CLASSES_BUT_OVERFIT) for r in regs)
            return Judgement(HOLDS if ok else FAILS, text)
        return compare(groups, judge)
    return decide


CLASSES_BUT_OVERFIT = ("not converged", "plateau", "solved")


def double_lowest(variants):
    def judge(_, *regs):
        best = min(regs, key=lambda r: r.median("rmae"))
        double = next(r for r in regs if r["regularizer"] == "double")
        text = ", ".join(f"{r['regularizer']} {r.median('rmae'):.2g}" for r in regs)
        if best is double:
            return Judgement(HOLDS, text, robust=(double,))
        return Judgement(FAILS, text, robust=tuple(r for r in regs if r.median("rmae") < double.median("rmae")))
    return compare(_fig6_groups(variants), judge)


def double_fastest(unit: int):
    """Double PINN reaches rMAE 1e-2 first, in iterations (``unit`` 0: the runs' own counts) or
    in seconds (1). Seconds are comparable only when measured under equal conditions, which the
    runs' wall times (trained at different loads) are not: they are the median objective
    evaluations to 1e-2 times each setting's cost of one evaluation, measured side by side on
    one idle machine (``records.FEVAL_COST``); without that measurement, not decided."""
    def decide(variants):
        def judge(unreg, *regs):
            what = ("iterations", "seconds")[unit]
            if unit == 0:
                times = {r["regularizer"]: r.to_threshold(1e-2)[0] for r in regs}
                how = ""
            else:
                missing = [r.label() for r in regs if r.feval_seconds is None]
                if missing:
                    return Judgement(UNDECIDED, "timings not comparable: the runs were timed under different "
                                     f"loads and no per-evaluation cost is measured for {'; '.join(missing)}")
                times = {r["regularizer"]: r.fevals_to(1e-2) * r.feval_seconds for r in regs}
                how = (" (median objective evaluations to 1e-2 x seconds per evaluation measured side by side: "
                       + ", ".join(f"{r['regularizer']} {r.fevals_to(1e-2):.4g} x {r.feval_seconds:.3g} s"
                                   for r in regs) + ")")
            fastest = min(times, key=times.get)
            text = ", ".join(f"{k} {v:.4g}" if math.isfinite(v) else f"{k} never (median)" for k, v in times.items())
            verdict = HOLDS if fastest == "double" and math.isfinite(times["double"]) else FAILS
            # a run that reaches 1e-2 after its cap does so later than every run that did within it
            return Judgement(verdict, f"median {what} to rMAE 1e-2: {text}{how}", robust=(unreg, *regs))
        return compare(_fig6_groups(variants), judge)
    return decide


def l1_worst(variants):
    def judge(_, *regs):
        worst = max(regs, key=lambda r: r.median("rmae"))
        l1 = next(r for r in regs if r["regularizer"] == "l1")
        text = ", ".join(f"{r['regularizer']} rMAE {r.median('rmae'):.2g}, "
                         f"{r.seeds_below(1e-2)}/{len(r.seeds)} seeds below 1e-2" for r in regs)
        # the others' falling runs only lower their error (L1 stays the worst); L1's could pass them
        if worst is l1:
            return Judgement(HOLDS, text, robust=tuple(r for r in regs if r is not l1))
        return Judgement(FAILS, text, robust=tuple(r for r in regs if r.median("rmae") <= l1.median("rmae")))
    return compare(_fig6_groups(variants), judge)


def double_forms(variants):
    def judge(res, loss):
        text = f"residual form: {res.classes_text()}; loss form: {loss.classes_text()}"
        undecided = split((res, ["solved"], "residual form solved"), (loss, ["solved"], "loss form solved"))
        if undecided:
            return Judgement(UNDECIDED, undecided, text)
        ok = res.vote("solved") and not loss.vote("solved")
        return Judgement(HOLDS if ok else FAILS, text, robust=(res,) if ok else ())
    return compare([_at_selected(variants, "convection", "fp32", "double", "residual", **FIG6),
                    _at_selected(variants, "convection", "fp32", "double", "loss", **FIG6)], judge)


def fp64_alone(pde):
    def decide(variants):
        def judge(v):
            undecided = split((v, ["overfit"], "overfit"))
            if undecided:
                return Judgement(UNDECIDED, undecided, summary(v))
            return Judgement(HOLDS if v.vote("overfit") else FAILS, summary(v))
        return compare([_family(variants, pde, "fp64", "none", **TABLE1[pde])], judge)
    return decide


def fewer_points(variants):
    sparse = _at_selected(variants, "wave", "fp64", "double", **TABLE1["wave"])
    nones = _family(variants, "wave", "fp64", "none", n_initial=100, n_boundary=100)
    densest = max((tuple(v["grid"]) for v in nones), default=None, key=lambda g: g[0] * g[1])
    dense = [v for v in nones if tuple(v["grid"]) == densest]

    def judge(d, n):
        text = f"{summary(d)}; {summary(n)}"
        undecided = split((d, ["solved"], "sparse double PINN solved"))
        if undecided:
            return Judgement(UNDECIDED, undecided, text)
        ok = d.vote("solved") and d.median("rmae") <= 2 * n.median("rmae")
        # the sparse double PINN's falling runs only lower its error; the dense runs' raise the bar
        return Judgement(HOLDS if ok else FAILS, text, robust=(d,) if ok else (n,))
    return compare([sparse, dense], judge)


SIGNATURE_RATIO = 10.0  # midway / at the training points, root mean square |residual|: one decade


def _midway_ratio(v: Variant, axis: str, stat: str = "rms") -> float:
    """The seeds' median of midway along ``axis`` / at the training points, of the median
    (``stat="median"``) or the RMS |residual| (infinities kept: a residual exactly zero at
    the points and not midway)."""
    kind = "" if stat == "median" else "rms_"

    def one(r):
        mid, at = float(r.get(f"residual_{kind}midway_{axis}")), float(r.get(f"residual_{kind}at_points"))
        return mid / at if at > 0 else math.inf if mid > 0 else math.nan
    values = [one(r) for r in v.records]
    return float(np.median(values)) if values else math.nan


def _signature_text(v: Variant) -> str:
    return (f"{v.label()} ({v.classes_text()}): RMS residual midway between the training points / at them "
            f"{_midway_ratio(v, 'x'):.3g}x along x, {_midway_ratio(v, 't'):.3g}x along t; medians "
            f"{v.median('residual_at_points'):.2g} at the points, {_midway_ratio(v, 'x', 'median'):.3g}x along x, "
            f"{_midway_ratio(v, 't', 'median'):.3g}x along t")


def _measured(family: Sequence[Variant]) -> list[Variant]:
    """The variants whose every seed has the collocation signature in its eval.h5."""
    return [v for v in family if all(math.isfinite(float(r.get("residual_rms_at_points"))) for r in v.records)]


def signature(figure: str, axes: tuple[str, ...], unregularized, controls):
    """Fig. 1(c) / 3(c): where the unregularized network's residual is large, it is small at the
    training points, along the axes the figure's panel shows (Fig. 1(c): a map, x and t; Fig.
    3(c): a time slice, x). The signature is the seeds' median of the RMS |residual| midway
    between neighbouring training points over the RMS at them (the RMS weighs the high-residual
    region the paper points at; the whole-domain medians are given beside it). Holds where the
    unregularized network has at least ``SIGNATURE_RATIO`` along one of ``axes`` and every
    control (the regularized network, a denser grid: ``controls``, at the same budget) stays
    below it there: the signature belongs to the overfit network, not to any PINN's residual."""
    def decide(variants):
        unreg = unregularized(variants)
        groups = [_measured(unreg)] + [_measured(c) for c in controls(variants)]
        if unreg and not groups[0]:
            return Verdict(UNDECIDED, "not measured (eval.h5 without the collocation signature)")

        def judge(v, *ctrl):
            def along(u):
                return [axis for axis in axes if _midway_ratio(u, axis) >= SIGNATURE_RATIO]

            text = "; ".join(_signature_text(u) for u in (v, *ctrl)) + \
                f" ({SIGNATURE_RATIO:g}x needed along {' or '.join(axes)}, the controls below it)"
            if not along(v):
                return Judgement(FAILS, f"no signature along {' or '.join(axes)}: {text}")
            shared = [u.label() for u in ctrl if along(u)]
            if shared:
                return Judgement(FAILS, f"the controls show it too ({'; '.join(shared)}): {text}")
            return Judgement(HOLDS, f"a signature along {' and '.join(along(v))}, none in the controls: {text}")

        found = compare(groups, judge)
        rest = tuple(v for v in unreg if v not in groups[0])
        return dataclasses.replace(found, superseded=found.superseded + rest)
    return decide


def _fig1_unregularized(variants):
    return _family(variants, "convection", "fp32", "none", **FIG6)


def _fig1_controls(variants):
    return [_at_selected(variants, "convection", "fp32", "double", **FIG6)]


def _fig3_unregularized(variants):
    return _family(variants, "wave", "fp64", "none", **TABLE1["wave"])


def _fig3_controls(variants):
    nones = _family(variants, "wave", "fp64", "none", n_initial=100, n_boundary=100)
    densest = max((tuple(v["grid"]) for v in nones), default=None, key=lambda g: g[0] * g[1])
    dense = [v for v in nones if tuple(v["grid"]) == densest and densest != tuple(TABLE1["wave"]["grid"])]
    return [_at_selected(variants, "wave", "fp64", "double", **TABLE1["wave"]), dense]


CLAIMS: tuple[Claim, ...] = (
    Claim("fig1", "Fig. 1", "Convection FP32: the unregularized PINN overfits its collocation points; double PINN "
          "solves the same problem", fig1),
    Claim("fig3_sparse", "Fig. 3", "Wave FP64 on the sparse grid: fails without regularization, solved with double PINN",
          fig3_sparse),
    Claim("density", "Fig. 3", "Wave FP64 unregularized: more collocation points alone avoid the failure mode", density),
    Claim("fig4_precision", "Fig. 4(a, b)", "Allen-Cahn unregularized: FP64 leaves the plateau FP32 stays on, given the "
          "same iterations", fig4_precision),
    Claim("fig4_late_rise", "Fig. 4(b)", "Allen-Cahn FP64 unregularized: good, with a late rise of the test loss",
          fig4_late_rise),
    Claim("fig4d", "Fig. 4(d)", "Allen-Cahn: FP64 and double PINN together give the best solution", fig4d),
    *(Claim(f"table1_{p}", "Table 1", f"{p}: double PINN FP64 solves it (Table 1's row)", table1_row(p)) for p in TABLE1),
    *(Claim(f"table1_tenfold_{p}", "Table 1", f"{p}: double PINN FP64 at least 10x better than the best literature row",
            table1_tenfold(p)) for p in TABLE1),
    Claim("fig6_removes", "Fig. 6", "Convection FP32: L2, L1 and double PINN each remove the overfitting",
          removes("convection", "fp32", FIG6)),
    Claim("removes_reaction", "Sec. 4", "Reaction FP32: each regularizer removes the overfitting",
          removes("reaction", "fp32", dict(n_initial=100, n_boundary=100))),
    Claim("fig6_double_lowest", "Fig. 6", "Convection FP32: double PINN ends with the lowest error", double_lowest),
    Claim("fig6_double_fastest_iterations", "Fig. 6", "Convection FP32: double PINN converges fastest (iterations)",
          double_fastest(0)),
    Claim("fig6_double_fastest_seconds", "Fig. 6", "Convection FP32: double PINN converges fastest (seconds)",
          double_fastest(1)),
    Claim("fig6_l1_worst", "Fig. 6", "Convection FP32: L1 is the worst regularizer", l1_worst),
    Claim("double_forms", "Sec. 3", "Double PINN as the residual's gradient solves where the loss's gradient does not",
          double_forms),
    Claim("fp64_alone_convection", "Sec. 4", "Convection: FP64 alone does not avoid the failure mode",
          fp64_alone("convection")),
    Claim("fp64_alone_wave", "Fig. 3", "Wave: FP64 alone does not avoid the failure mode on the sparse grid",
          fp64_alone("wave")),
    Claim("fewer_points", "Fig. 3", "Double PINN on the sparse grid is as accurate as the unregularized network on the "
          "densest grid", fewer_points),
    Claim("signature_fig1", "Fig. 1(c)", "Convection FP32 unregularized: the residual is small exactly at the "
          "collocation points (the map: along x or t), unlike the double PINN's", signature(
              "Fig. 1", ("x", "t"), _fig1_unregularized, _fig1_controls)),
    Claim("signature_fig3", "Fig. 3(c)", "Wave FP64 unregularized on the sparse grid: the residual along a time "
          "slice has minima exactly at the collocation points, unlike the double PINN's and the densest grid's",
          signature("Fig. 3", ("x",), _fig3_unregularized, _fig3_controls)),
)


def decide_all(variants: Sequence[Variant], claims: Sequence[Claim] = CLAIMS) -> list[tuple[Claim, Verdict]]:
    return [(c, c.decide(variants)) for c in claims]

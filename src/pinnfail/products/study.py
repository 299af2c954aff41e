"""Regularizer study: variants x seeds, aggregated without looking at the reference to choose.

A study is a base run config, a list of variant blocks (list values are
crossed) and seeds. ``expand_study`` names every variant; ``summarize`` turns
their evaluations into a table (median and spread over seeds), and
``select_lambda`` picks, per regularizer/form/precision, the strength with the
lowest median final TEST loss on fresh collocation points, which needs no
reference solution. The reference error is reported next to it, never used to
choose.
"""
from __future__ import annotations

import math

import numpy as np

from pinnfail.numerics.config import run_config
from pinnfail.products.classes import CLASSES
from pinnfail.artifacts.formats import Run, read_metrics
from pinnfail.products.formatting import format_number
from pinnfail.artifacts.files import write_text
from pinnfail.products.tables import CLASS_COUNTS, classification_summary, csv_text
from pinnfail.numerics import history as H

GROUP_KEYS = ("pde", "regularizer", "double_form", "precision")  # a lambda is selected within each group
THRESHOLDS = (1e-1, 1e-2)


def first_crossing(history: dict, key: str, threshold: float) -> tuple[float, float]:
    """(iteration, seconds) at which history[key] first drops below threshold, else NaN."""
    values = np.asarray(history.get(key, []), dtype=float)
    below = np.flatnonzero(values < threshold)
    if below.size == 0:
        return math.nan, math.nan
    i = below[0]
    return float(history[H.ITERATION][i]), float(history[H.WALL_TIME][i])


def threshold_tag(threshold: float) -> str:
    """1e-1 -> '1e-1' (the column suffix of a time-to-threshold)."""
    return f"{threshold:.0e}".replace("-0", "-")


def survival_median(times, never: float = math.nan) -> float:
    """The median time to an event over every seed, a seed that never reached it counting as
    later than all: ``never`` (NaN, or inf where it must sort as slowest) unless more than half
    of the seeds reached it (a median over the seeds that did would flatter a variant that
    reached it once)."""
    t = np.sort(np.where(np.isfinite(np.asarray(list(times), dtype=float)), list(times), np.inf))
    if t.size == 0:
        return never
    mid = float(np.median(t)) if np.isfinite(t[(t.size - 1) // 2]) and np.isfinite(t[t.size // 2]) else math.inf
    return mid if math.isfinite(mid) else never


def _history(run_path) -> dict:
    return Run.read(run_path).history


def _median_spread(values) -> tuple[float, float, float]:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return math.nan, math.nan, math.nan
    return float(np.median(finite)), float(finite.min()), float(finite.max())


def median(values) -> float:
    """The median of the finite values (None and NaN left out; NaN if none): how seeds are
    summarized everywhere, the test loss that selects a lambda included (the mean of the middle
    two for an even count)."""
    return _median_spread(values)[0]


def lowest_test_loss(candidates, test_loss, lam):
    """The candidate a lambda selection takes: the lowest median test loss (``test_loss`` of a
    candidate), ties to the smaller lambda (``lam``). Studies select with it (``select_lambda``)
    and so do the claims (``verdicts.selected``): one rule, never the reference error."""
    return min(candidates, key=lambda c: (test_loss(c), lam(c)))


def summarize(runs: dict[str, list[tuple[str, str]]], variants: dict[str, dict]) -> list[dict]:
    """One row per variant from its [(run.h5, eval.h5), ...] over seeds."""
    rows = []
    for name, pairs in runs.items():
        settings = run_config(variants[name])
        metrics = [read_metrics(e) for _, e in pairs]
        histories = [_history(r) for r, _ in pairs]
        row = {
            "variant": name,
            **{k: settings.get(k, "") for k in GROUP_KEYS},
            "grid": "x".join(str(n) for n in settings["grid"]),
            "lambda": settings.get("lambda", 0.0),
            "n_seeds": len(pairs),
        }
        for key in ("rmae", "test_train_ratio", "test_loss", "train_loss", "iterations", "wall_time_s"):
            med, lo, hi = _median_spread([m[key] for m in metrics])
            row[f"{key}_median"], row[f"{key}_min"], row[f"{key}_max"] = med, lo, hi
        for thr in THRESHOLDS:
            crossings = [first_crossing(h, H.TEST_RMAE, thr) for h in histories]
            tag = threshold_tag(thr)
            row[f"iters_to_{tag}"] = survival_median([c[0] for c in crossings])
            row[f"seconds_to_{tag}"] = survival_median([c[1] for c in crossings])
            row[f"seeds_below_{tag}"] = sum(math.isfinite(c[0]) for c in crossings)
        row["seeds"] = " ".join(str(m["seed"]) for m in metrics)
        capped = [str(m["seed"]) for m in metrics if m["stop_reason"] == "max_iters"]
        row["n_cap"], row["cap_seeds"] = len(capped), " ".join(capped)
        classes = [m["classification"] for m in metrics]
        row.update(zip(CLASS_COUNTS, (classes.count(c) for c in CLASSES)))
        row["classification"] = classification_summary({c: classes.count(c) for c in CLASSES})
        if row["regularizer"] != "double":
            row["double_form"] = ""
        rows.append(row)
    return rows


def select_lambda(rows: list[dict]) -> list[dict]:
    """Per (pde, regularizer, form, precision): the lambda with the lowest median test loss."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["regularizer"] != "none":
            groups.setdefault(tuple(row[k] for k in GROUP_KEYS), []).append(row)
    selected = []
    for key, members in sorted(groups.items()):
        best = lowest_test_loss(members, lambda r: r["test_loss_median"], lambda r: r["lambda"])
        selected.append({**dict(zip(GROUP_KEYS, key)), "lambda": best["lambda"], "variant": best["variant"],
                         "test_loss_median": best["test_loss_median"], "rmae_median": best["rmae_median"],
                         "candidates": len(members)})
    return selected


def study_plan(rows: list[dict], selected: list[dict], classes: dict[str, dict[int, str]],
               confirm_seeds=(), continue_runs: int = 0) -> dict:
    """What a study runs after its sweep (the workflow's checkpoint), decided without the reference
    for the strengths: ``confirm`` adds ``confirm_seeds`` to each selected variant and to every
    variant without a strength to choose (no regularizer); ``continue`` names, per regularizer
    (and form, precision, equation), up to ``continue_runs`` sweep runs that the stop rule ended on
    a plateau (their ``classes``: variant -> {seed: classification}), to be continued past the
    rule: those of the selected strength first, then of the strengths nearest to it (in decades),
    lowest seeds first."""
    chosen = [s["variant"] for s in selected]
    unswept = [r["variant"] for r in rows if r["regularizer"] == "none"]
    continued = []
    for s in selected:
        group = [r for r in rows if all(r[k] == s[k] for k in GROUP_KEYS)]
        group.sort(key=lambda r: (abs(math.log10(r["lambda"]) - math.log10(s["lambda"])), r["lambda"]))
        plateaus = [[r["variant"], seed] for r in group
                    for seed in sorted(k for k, c in classes.get(r["variant"], {}).items() if c == "plateau")]
        continued += plateaus[:continue_runs]
    return {
        "selected": [{k: s[k] for k in ("variant", *GROUP_KEYS, "lambda", "test_loss_median", "candidates")}
                     for s in selected],
        "confirm": {v: list(confirm_seeds) for v in unswept + chosen},
        "continue": continued,
    }


def continuation_rows(pairs: list[tuple[str, int, str, str, str, str]], solved_rmae: float) -> list[dict]:
    """Plateau stops continued past the stop rule, from (variant, seed, run, eval, continued run,
    continued eval): where the rule stopped, whether the continued run has the same history up to
    there, and whether (and when) it escaped, i.e. reached the solved threshold on the test points
    after the stop."""
    out = []
    for variant, seed, run_path, eval_path, cont_path, cont_eval in pairs:
        original, continued = Run.read(run_path), Run.read(cont_path)
        before, after = read_metrics(eval_path), read_metrics(cont_eval)
        stop = int(original.attrs["iterations"])
        h, c = original.history, continued.history
        n = len(h[H.ITERATION])
        same = (len(c[H.ITERATION]) >= n and np.array_equal(np.asarray(c[H.OBJECTIVE][:n]),
                                                            np.asarray(h[H.OBJECTIVE])))
        later = np.asarray(c[H.ITERATION]) > stop
        escape, _ = first_crossing({k: np.asarray(v)[later] for k, v in c.items()}, H.TEST_RMAE, solved_rmae)
        out.append({
            "variant": variant, "seed": seed, "stopped_at": stop, "rmae_at_stop": before["rmae"],
            "test_loss_at_stop": before["test_loss"], "continued_to": int(continued.attrs["iterations"]),
            "ended_by": {"converged": "standstill", "max_iters": "cap"}.get(continued.attrs["stop_reason"],
                                                                           continued.attrs["stop_reason"]),
            "params_unchanged": bool(np.array_equal(original.params, continued.params)),
            "rmae_end": after["rmae"], "test_loss_end": after["test_loss"],
            "classification_end": after["classification"], "same_history_to_stop": same,
            "escaped": math.isfinite(escape), "escaped_at": escape,
        })
    return out


def continuation_markdown(rows: list[dict], solved_rmae: float) -> str:
    if not rows:
        return ""
    lines = ["", "### Plateau stops continued past the stop rule", "",
             "Runs that the stop rule ended on a plateau, trained again (same seed and settings) with the "
             "paper's rule replaced by a standstill test (the objective unchanged to the last bit over the "
             "window: L-BFGS whose line search finds no decrease keeps its parameters and its state, so it "
             "never moves again) and the study's cap; *escaped*: test rMAE below "
             f"{solved_rmae:g} after the point where the rule had stopped.", "",
             "| variant | seed | stopped at | rMAE there | continued to | ended by | parameters as at the stop | "
             "rMAE at the end | class at the end | escaped at | same history to the stop |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['seed']} | {r['stopped_at']} | {_fmt(r['rmae_at_stop'])} | "
                     f"{r['continued_to']} | {r['ended_by']} | {'yes' if r['params_unchanged'] else 'no'} | "
                     f"{_fmt(r['rmae_end'])} | {r['classification_end']} | "
                     f"{_fmt(r['escaped_at']) if r['escaped'] else 'no'} | {'yes' if r['same_history_to_stop'] else 'no'} |")
    per: dict[str, list[dict]] = {}
    for r in rows:
        per.setdefault(r["variant"], []).append(r)
    lines += ["", "Escaped, per regularizer: " + "; ".join(
        f"{v} {sum(r['escaped'] for r in rs)}/{len(rs)}" for v, rs in per.items()) + "."]
    return "\n".join(lines) + "\n"


def _majority_of(classes: list[str]) -> str | None:
    """The class of more than half of ``classes``, or None (a split)."""
    top = max(CLASSES, key=classes.count)
    return top if classes.count(top) * 2 > len(classes) else None


def confirmation_markdown(rows: list[dict], classes: dict[str, dict[int, str]], sweep_seeds) -> str:
    """Do the seeds added after the selection give the sweep seeds' majority class? And the
    variant's majority over all of its seeds. Without sweep seeds (a study that is not staged)
    no seed was added after a selection: nothing to compare."""
    if not sweep_seeds:
        return ""
    lines = []
    for r in rows:
        seeds = classes.get(r["variant"], {})
        new = {k: c for k, c in seeds.items() if k not in sweep_seeds}
        if not new:
            continue
        old = [c for k, c in seeds.items() if k in sweep_seeds]
        before, after, overall = _majority_of(old), _majority_of(list(new.values())), _majority_of(list(seeds.values()))
        same = "yes" if after == before else ("split" if after is None else "no")
        lines.append(f"| {r['variant']} | {before or 'split'} ({', '.join(f'{c} {old.count(c)}' for c in CLASSES if old.count(c))}) | "
                     + ", ".join(f"{k}: {c}" for k, c in sorted(new.items())) + f" | {same} | "
                     f"{overall or 'split'} ({r['classification']}) |")
    if not lines:
        return ""
    return "\n".join(["", "### Seeds added after the selection", "",
                      "The majority class (more than half) of the sweep's seeds against that of the seeds run only "
                      "after the strength was chosen, and over all seeds:", "",
                      "| variant | sweep seeds | new seeds | same majority | all seeds |",
                      "|---|---|---|---|---|", *lines]) + "\n"


def capped_markdown(rows: list[dict]) -> str:
    capped = [f"{r['variant']} seed(s) {r['cap_seeds']}" for r in rows if r.get("n_cap")]
    total = sum(int(r.get("n_cap") or 0) for r in rows)
    runs = sum(int(r["n_seeds"]) for r in rows)
    return (f"\nRuns that reached the iteration cap instead of the stop rule: {total} of {runs}"
            + (": " + "; ".join(capped) if capped else "") + ".\n")


def median_seed(pairs: list[tuple[str, str]]) -> int:
    """Index of the run with the median rMAE (the lower middle one): a representative seed."""
    rmae = [read_metrics(e)["rmae"] for _, e in pairs]
    return int(np.argsort(rmae, kind="stable")[(len(rmae) - 1) // 2])


def figure_choice(rows: list[dict], selected: list[dict]) -> dict[str, dict[str, str]]:
    """The variants drawn in a study's Fig. 1 and Fig. 6: the unregularized variant and, per
    regularizer, its selection (double PINN: the form with the lower test loss); Fig. 1's
    regularized panel is the regularizer that solves the most seeds (then the lowest median rMAE)."""
    chosen = {r["regularizer"]: r for r in best_per_regularizer(rows, selected)}
    none = [r for r in rows if r["regularizer"] == "none"]
    out: dict[str, dict[str, str]] = {}
    if none and chosen:
        top = max(chosen.values(), key=lambda r: (_count(r, "solved"), -r["rmae_median"]))
        out["fig1"] = {"failure": none[0]["variant"], "regularized": top["variant"]}
    if none and {"l2", "l1", "double"} <= set(chosen):
        out["fig6"] = {"none": none[0]["variant"], **{k: chosen[k]["variant"] for k in ("l2", "l1", "double")}}
    return out


def _fmt(value) -> str:
    return format_number(value, nan="–")


def markdown(rows: list[dict], selected: list[dict], title: str) -> str:
    cols = [("variant", "variant"), ("n_seeds", "seeds"), ("rmae_median", "rMAE median"),
            ("rmae_min", "min"), ("rmae_max", "max"), ("test_train_ratio_median", "test/train"),
            ("iters_to_1e-1", "iters to 1e-1"), ("seconds_to_1e-1", "s to 1e-1"),
            ("iters_to_1e-2", "iters to 1e-2"), ("seconds_to_1e-2", "s to 1e-2"),
            ("seeds_below_1e-2", "seeds < 1e-2"), ("classification", "classification"),
            ("iterations_median", "iterations"), ("n_cap", "at cap"), ("wall_time_s_median", "seconds")]
    lines = [f"## {title}", "", "| " + " | ".join(c[1] for c in cols) + " |",
             "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c[0], math.nan)) for c in cols) + " |")
    lines += ["", "Times to an rMAE threshold are medians over all seeds, a seed that never got there counting "
              "as slowest ('–': more than half never did)."]
    if selected:  # a study without regularized variants has nothing to select
        lines += ["", "Selected strength per regularizer (lowest median test loss on fresh collocation "
                  "points, over the seeds of the sweep; the reference error is shown, not used):", "",
                  "| pde | regularizer | form | precision | lambda | test loss | rMAE | candidates |",
                  "|---|---|---|---|---|---|---|---|"]
    for s in selected:
        lines.append(f"| {s['pde']} | {s['regularizer']} | {s['double_form'] or '–'} | {s['precision']} | "
                     f"{s['lambda']:.0e} | {_fmt(s['test_loss_median'])} | {_fmt(s['rmae_median'])} | "
                     f"{s['candidates']} |")
    return "\n".join(lines) + "\n"


def write_study_csv(path, rows: list[dict]) -> None:
    write_text(path, csv_text(rows, rows[0]))


def best_per_regularizer(rows: list[dict], selected: list[dict]) -> list[dict]:
    """One row per (pde, regularizer, precision): the selected strength, and for double PINN the
    form, with the lowest median test loss (no reference solution involved)."""
    by_name = {r["variant"]: r for r in rows}
    best: dict[tuple, dict] = {}
    for s in selected:
        r = by_name[s["variant"]]
        key = (r["pde"], r["regularizer"], r["precision"])
        if key not in best or r["test_loss_median"] < best[key]["test_loss_median"]:
            best[key] = r
    return list(best.values())


def _count(row, cls: str) -> int:
    return int(row[f"n_{cls.replace(' ', '_')}"])

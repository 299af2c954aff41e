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

import itertools
import math

import numpy as np

from .config import ConfigError, run_config
from .classes import CLASSES
from .io import Run, format_number, read_metrics, write_text
from .tables import CLASS_COUNTS, classification_summary, csv_text

THRESHOLDS = (1e-1, 1e-2)
GROUP_KEYS = ("pde", "regularizer", "double_form", "precision")


def variant_name(settings: dict) -> str:
    settings = run_config(settings)  # the run schema's defaults filled in
    parts = [settings["pde"], settings["regularizer"]]
    if settings["regularizer"] == "double":
        parts.append(settings["double_form"])
    if settings["regularizer"] != "none":
        parts.append(f"{float(settings['lambda']):.0e}".replace("+", ""))
    parts.append(settings["precision"])
    return "_".join(parts).replace(".", "p").replace("-", "m")


def _choices(key: str, value) -> list:
    """A block value as a list of choices; a grid [nx, nt] is one choice, [[..], [..]] several."""
    if not isinstance(value, list):
        return [value]
    if key == "grid" and not any(isinstance(v, list) for v in value):
        return [value]
    return value


def expand_study(study: dict, defaults: dict | None = None) -> dict[str, dict]:
    """{variant name: run settings} for every combination in the study's blocks (named with
    ``defaults``, the workflow's run_defaults, filled in)."""
    combos = []
    for block in study["variants"]:
        keys = sorted(block)
        values = [_choices(k, block[k]) for k in keys]
        for combo in itertools.product(*values):
            settings = {**study["base"], **dict(zip(keys, combo))}
            combos.append((variant_name({**(defaults or {}), **settings}), settings))
    # variants that differ only in their grid are named with it: wave_none_fp64_12x12
    names = [name for name, _ in combos]
    variants = {}
    for name, settings in combos:
        if names.count(name) > 1:
            grid = settings.get("grid", (defaults or {}).get("grid", [20, 20]))
            name = f"{name}_{grid[0]}x{grid[1]}"
        if name in variants:
            raise ConfigError(f"variants: {name!r} is defined twice")
        variants[name] = settings
    return variants


def first_crossing(history: dict, key: str, threshold: float) -> tuple[float, float]:
    """(iteration, seconds) at which history[key] first drops below threshold, else NaN."""
    values = np.asarray(history.get(key, []), dtype=float)
    below = np.flatnonzero(values < threshold)
    if below.size == 0:
        return math.nan, math.nan
    i = below[0]
    return float(history["iteration"][i]), float(history["wall_time"][i])


def threshold_tag(threshold: float) -> str:
    """1e-1 -> '1e-1' (the column suffix of a time-to-threshold)."""
    return f"{threshold:.0e}".replace("-0", "-")


def survival_median(times) -> float:
    """The median time to an event over every seed, a seed that never reached it counting as
    later than all: NaN unless more than half of the seeds reached it (a median over the
    seeds that did would flatter a variant that reached it once)."""
    t = np.sort(np.where(np.isfinite(np.asarray(times, dtype=float)), times, np.inf))
    if t.size == 0:
        return math.nan
    mid = float(np.median(t)) if np.isfinite(t[(t.size - 1) // 2]) and np.isfinite(t[t.size // 2]) else math.inf
    return mid if math.isfinite(mid) else math.nan


def _history(run_path) -> dict:
    return Run.read(run_path).history


def _median_spread(values) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return math.nan, math.nan, math.nan
    return float(np.median(finite)), float(finite.min()), float(finite.max())


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
            crossings = [first_crossing(h, "test_rmae", thr) for h in histories]
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
        best = min(members, key=lambda r: (r["test_loss_median"], r["lambda"]))
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
        n = len(h["iteration"])
        same = (len(c["iteration"]) >= n and np.array_equal(np.asarray(c["objective"][:n]),
                                                            np.asarray(h["objective"])))
        later = np.asarray(c["iteration"]) > stop
        escape, _ = first_crossing({k: np.asarray(v)[later] for k, v in c.items()}, "test_rmae", solved_rmae)
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


def write_csv(path, rows: list[dict]) -> None:
    write_text(path, csv_text(rows, rows[0]))


def _find(rows, **match):
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def _majority(row, cls: str) -> bool:
    """More than half of the variant's seeds are classified ``cls``."""
    return row[f"n_{cls.replace(' ', '_')}"] * 2 > row["n_seeds"]


def _success(row) -> bool:
    return _majority(row, "solved")


def _fails(row) -> bool:
    """A majority of the variant's seeds overfit: the paper's failure mode."""
    return _majority(row, "overfit")


def _outcome(row) -> str:
    if _success(row):
        return "succeeds"
    if _fails(row):
        return "is a failure mode (overfit)"
    return f"neither solves nor overfits in most seeds ({row['classification']})"


def _fix_verdict(unregularized: dict, regularized: list[dict]) -> str:
    """Does the unregularized variant fail and a regularized one succeed?"""
    if not _fails(unregularized):
        return f"does not hold here: the unregularized PINN is not a failure mode ({unregularized['classification']})"
    if any(_success(r) for r in regularized):
        return "holds"
    if any(not _fails(r) for r in regularized):
        return ("partly: the unregularized PINN overfits; regularized, no failure mode, but no regularizer "
                "solves most of its seeds (" + "; ".join(f"{_label(r)}: {r['classification']}" for r in regularized)
                + ")")
    return "does not hold here: the regularized runs overfit too"


def _points(row) -> int:
    """The variant's domain collocation points, from its grid "NXxNT" (0 for a row without one)."""
    nx, _, nt = str(row.get("grid", "")).partition("x")
    return int(nx) * int(nt) if nx.isdigit() and nt.isdigit() else 0


def _density_verdict(sparse: dict, denser: list[dict]) -> str:
    """Do more collocation points alone avoid the failure mode (Fig. 3: 12x12 fails, 101x101
    succeeds)? The fewest-point unregularized variant must fail; a denser one must succeed."""
    if not _fails(sparse):
        return (f"not decided: the sparse grid {sparse['grid']} is not a failure mode here "
                f"({sparse['classification']})")
    outcomes = "; ".join(f"{r['grid']}: {r['classification']}, rMAE {_fmt(r['rmae_median'])}" for r in denser)
    head = f"{sparse['grid']} overfits ({_seeds(sparse, 'overfit')}), "
    if any(_success(r) for r in denser):
        return f"holds: {head}denser solved in most seeds ({outcomes})"
    if any(not _fails(r) for r in denser):
        return f"partly: {head}no failure mode on a denser grid, but none solves most of its seeds ({outcomes})"
    return f"does not hold here: {head}the denser grids overfit too ({outcomes})"


def _precision_verdict(r32: dict, r64: dict, factor: float = 10.0) -> str:
    """Observed when the FP32 and FP64 median rMAEs differ by more than ``factor``.

    Not decided when the budgets differ: one precision's runs were cut by their iteration cap
    while the other's ran past that cap (e.g. a stop-rule study against a capped quick one).
    """
    for cut, other, name, other_name in ((r32, r64, "FP32", "FP64"), (r64, r32, "FP64", "FP32")):
        cap = cut.get("iterations_max", math.nan)
        if cut.get("n_cap") and other.get("iterations_max", math.nan) > cap:
            return (f"not decided: unequal budgets, {name} cut at its {cap:.0f}-iteration cap in "
                    f"{cut['n_cap']}/{cut['n_seeds']} seeds while {other_name} ran up to "
                    f"{other['iterations_max']:.0f} iterations (median {other['iterations_median']:.0f})")
    a, b = r32["rmae_median"], r64["rmae_median"]
    if not (math.isfinite(a) and math.isfinite(b)) or min(a, b) <= 0:
        return "not decided: a median rMAE is missing"
    ratio = max(a, b) / min(a, b)
    lower = "FP64" if b < a else "FP32"
    if ratio > factor:
        return f"observed: median rMAE differs {ratio:.3g}x ({lower} lower)"
    return f"not observed: median rMAE within {factor:.3g}x ({ratio:.3g}x)"


# The paper's figure behind each claim, for the equation it shows (PAPER.md); another
# equation's evidence is ours only.
PAPER_FIGURE = {"fix_fp32": ("convection", "Fig. 1"), "fix_fp64": ("wave", "Fig. 3"),
                "density": ("wave", "Fig. 3"), "regularizers": ("convection", "Fig. 6")}


def _cite(claim: str, pde: str) -> str:
    shown, figure = PAPER_FIGURE[claim]
    return f" ({figure})" if pde == shown else f" (the paper shows this for {shown}, {figure})"


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


def _seeds(row, cls: str) -> str:
    return f"{_count(row, cls)}/{row['n_seeds']}"


def _label(row) -> str:
    """A regularizer at its strength (and form): 'double (residual) 1e-04'."""
    form = f" ({row['double_form']})" if row.get("double_form") else ""
    return f"{row['regularizer'].upper() if row['regularizer'] in ('l1', 'l2') else row['regularizer']}{form}" + (
        f" {row['lambda']:.0e}" if row["regularizer"] != "none" else "")


def _winners(rows: list[dict], key, lower: bool = True) -> list[dict]:
    """The rows with the best finite value of key(row) (ties kept), or [] if none is finite."""
    values = [(key(r), r) for r in rows if math.isfinite(key(r))]
    if not values:
        return []
    best = (min if lower else max)(v for v, _ in values)
    return [r for v, r in values if v == best]


def _names(rows) -> str:
    return " and ".join(_label(r) for r in rows)


def regularizer_claims(pde: str, reg: list[dict], cite: str) -> list[tuple[str, str, str]]:
    """Fig. 6's claims among three or more regularizers, each at its selection: which solves the
    most seeds, which ends lowest (median rMAE and median test loss), which converges fastest
    (median iterations and seconds to rMAE 1e-1 and 1e-2, seeds that never got there counting as
    slowest), and whether L1 is the worst. A verdict is 'not decided' only with its reason."""
    out = []
    solved = {_label(r): _seeds(r, "solved") for r in reg}
    most = _winners(reg, lambda r: _count(r, "solved"), lower=False)
    counts = "; ".join(f"{k} solved {v}" for k, v in solved.items())
    if not any(_count(r, "solved") for r in reg):
        verdict = "none: no regularizer solves a seed"
    elif len(most) > 1:
        verdict = f"not decided: a tie, {_names(most)} solve {_seeds(most[0], 'solved')} each"
    else:
        verdict = f"{_label(most[0])} ({_seeds(most[0], 'solved')})"
    out.append((f"{pde}: which regularizer solves the most seeds{cite}", verdict, counts))

    by_rmae = _winners(reg, lambda r: r["rmae_median"])
    by_loss = _winners(reg, lambda r: r["test_loss_median"])
    lowest = (f"{_names(by_rmae)} (median rMAE {_fmt(by_rmae[0]['rmae_median'])})" if by_rmae else "–")
    if by_rmae and by_loss and by_rmae[0] is not by_loss[0]:
        lowest += f"; by median test loss {_names(by_loss)} ({_fmt(by_loss[0]['test_loss_median'])})"
    elif by_loss:
        lowest += f" and median test loss {_fmt(by_loss[0]['test_loss_median'])}"
    out.append((f"{pde}: which regularizer ends lowest{cite}", lowest,
                "; ".join(f"{_label(r)}: rMAE {_fmt(r['rmae_median'])} ({_fmt(r['rmae_min'])}.."
                          f"{_fmt(r['rmae_max'])}), test loss {_fmt(r['test_loss_median'])}" for r in reg)))

    fastest, tag = [], None
    for thr in reversed(THRESHOLDS):  # 1e-2 first, then 1e-1
        tag = threshold_tag(thr)
        fastest = _winners(reg, lambda r: r[f"iters_to_{tag}"])
        if fastest:
            break
    if fastest:
        f = fastest[0]
        verdict = (f"in iterations {_names(fastest)}: median {_fmt(f[f'iters_to_{tag}'])} iterations, "
                   f"{_fmt(f[f'seconds_to_{tag}'])} s to rMAE {tag}")
        by_time = _winners(reg, lambda r: r[f"seconds_to_{tag}"])
        if by_time and by_time[0] is not f:  # an iteration of one regularizer costs more than another's
            verdict += (f"; in seconds {_names(by_time)}: {_fmt(by_time[0][f'seconds_to_{tag}'])} s "
                        f"({_fmt(by_time[0][f'iters_to_{tag}'])} iterations)")
    else:
        verdict = "not decided: no regularizer reached rMAE 1e-1 in more than half of its seeds"
    out.append((f"{pde}: which regularizer converges fastest{cite}", verdict, "; ".join(
        f"{_label(r)}: " + ", ".join(
            f"to {threshold_tag(t)} {_fmt(r[f'iters_to_{threshold_tag(t)}'])} it / "
            f"{_fmt(r[f'seconds_to_{threshold_tag(t)}'])} s ({r[f'seeds_below_{threshold_tag(t)}']}/{r['n_seeds']} seeds)"
            for t in THRESHOLDS) for r in reg)))

    double_fast = bool(fastest) and len(fastest) == 1 and fastest[0]["regularizer"] == "double"
    double_low = len(by_rmae) == 1 and by_rmae[0]["regularizer"] == "double"
    if double_fast and double_low:
        verdict = "holds (iterations to the rMAE threshold, as the paper's Fig. 6 plots them)"
    elif double_fast or double_low:
        verdict = ("partly: double PINN is " + ("fastest" if double_fast else "lowest") +
                   ", not " + ("lowest" if double_fast else "fastest"))
    elif not fastest:
        verdict = "not decided: no regularizer reached rMAE 1e-1 in more than half of its seeds"
    else:
        verdict = (f"does not hold here: fastest {_names(fastest)}, lowest {_names(by_rmae) or '–'}")
    out.append((f"{pde}: double PINN converges fastest and lowest{cite}", verdict,
                f"fastest: {_names(fastest) or 'none'}; lowest median rMAE: {_names(by_rmae) or 'none'}"))

    def badness(r):  # fewest solved, then most overfit, then highest median rMAE
        return (-_count(r, "solved"), _count(r, "overfit"), r["rmae_median"])

    ranked = sorted(reg, key=badness, reverse=True)
    worst = [r for r in ranked if badness(r) == badness(ranked[0])]
    if len(worst) > 1:
        verdict = f"not decided: {_names(worst)} tie (solved, overfit and median rMAE equal)"
    else:
        verdict = "holds" if worst[0]["regularizer"] == "l1" else f"does not hold here: the worst is {_label(worst[0])}"
    out.append((f"{pde}: L1 is the worst regularizer{cite}", verdict,
                "ranked by seeds solved, then overfit, then median rMAE: " + "; ".join(
                    f"{_label(r)} solved {_seeds(r, 'solved')}, overfit {_seeds(r, 'overfit')}, "
                    f"rMAE {_fmt(r['rmae_median'])}" for r in reversed(ranked))))
    return out


def _form_verdict(a: dict, b: dict) -> str:
    """Form a (residual) against form b (loss): seeds solved, then overfit, then median rMAE."""
    def key(r):
        return (_count(r, "solved"), -_count(r, "overfit"), -r["rmae_median"])
    if key(a) == key(b):
        return f"not decided: equal (solved {_seeds(a, 'solved')}, overfit {_seeds(a, 'overfit')})"
    better, worse, name = (a, b, "form a") if key(a) > key(b) else (b, a, "form b")
    return (f"{name} is better: solved {_seeds(better, 'solved')} vs {_seeds(worse, 'solved')}, overfit "
            f"{_seeds(better, 'overfit')} vs {_seeds(worse, 'overfit')}, median rMAE "
            f"{_fmt(better['rmae_median'])} vs {_fmt(worse['rmae_median'])}")


def claims(rows: list[dict], selected: list[dict]) -> list[tuple[str, str, str]]:
    """The paper's claims checked against the study: (claim, verdict, evidence)."""
    out = []
    chosen = best_per_regularizer(rows, selected)

    def describe(r):
        cap = f", {r['n_cap']} at the iteration cap" if r.get("n_cap") else ""
        return (f"{r['variant']}: rMAE {_fmt(r['rmae_median'])} (median of {r['n_seeds']}), "
                f"test/train {_fmt(r['test_train_ratio_median'])}, {r['classification']}{cap}")

    for pde in sorted({r["pde"] for r in rows}):
        none32 = _find(rows, pde=pde, regularizer="none", precision="fp32")
        reg32 = [r for r in chosen if r["pde"] == pde and r["precision"] == "fp32"]
        if none32 and reg32:
            verdict = _fix_verdict(none32[0], reg32)
            evidence = "; ".join([describe(none32[0])] + [describe(r) for r in reg32])
            out.append((f"{pde}: the unregularized FP32 PINN is a failure mode and regularization removes "
                        f"it in FP32{_cite('fix_fp32', pde)}", verdict, evidence))
            n = none32[0]
            out.append((f"{pde}: (i) the unregularized FP32 PINN overfits{_cite('fix_fp32', pde)}",
                        "holds" if _fails(n) else f"does not hold here ({n['classification']})",
                        f"overfit {_seeds(n, 'overfit')}, median test/train {_fmt(n['test_train_ratio_median'])}"))
            every = [r for r in rows if r["pde"] == pde and r["precision"] == "fp32" and r["regularizer"] != "none"
                     and any(r["variant"] == s["variant"] for s in selected)]
            still = [r for r in every if _count(r, "overfit")]
            if not still:
                verdict = "holds: no seed overfits with any regularizer at its selected strength"
            elif all(not _fails(r) for r in every):
                verdict = "holds in most seeds: " + ", ".join(f"{_label(r)} overfit {_seeds(r, 'overfit')}"
                                                              for r in still)
            else:
                verdict = "does not hold for " + ", ".join(_label(r) for r in every if _fails(r))
            out.append((f"{pde}: (ii) each regularizer removes the overfitting (test/train){_cite('fix_fp32', pde)}",
                        verdict, "; ".join(f"{_label(r)}: overfit {_seeds(r, 'overfit')}, median test/train "
                                           f"{_fmt(r['test_train_ratio_median'])}" for r in every)))
        # unregularized FP64 on several grids: the fewest points are Fig. 3's sparse case
        none64 = sorted(_find(rows, pde=pde, regularizer="none", precision="fp64"), key=_points)
        reg64 = [r for r in chosen if r["pde"] == pde and r["precision"] == "fp64"]
        if none64 and reg64:
            same = [r for r in reg64 if r.get("grid") == none64[0].get("grid")] or reg64
            out.append((f"{pde}: FP64 with few points fails without regularization and succeeds with it"
                        f"{_cite('fix_fp64', pde)}",
                        _fix_verdict(none64[0], same),
                        "; ".join([describe(none64[0])] + [describe(r) for r in same])))
        if len({_points(r) for r in none64}) > 1:
            denser = [r for r in none64 if _points(r) > _points(none64[0])]
            out.append((f"{pde}: more collocation points alone avoid the failure mode, FP64 unregularized "
                        f"({none64[0]['grid']} vs {', '.join(r['grid'] for r in denser)}){_cite('density', pde)}",
                        _density_verdict(none64[0], denser), "; ".join(describe(r) for r in none64)))
        for r32 in reg32:
            twin = _find(rows, pde=pde, regularizer=r32["regularizer"], double_form=r32["double_form"],
                         precision="fp64", **{"lambda": r32["lambda"]})
            if twin:
                r64 = twin[0]
                verdict = _precision_verdict(r32, r64)
                out.append((f"{pde}: precision changes which solution L-BFGS finds ({r32['regularizer']} "
                            f"lambda {r32['lambda']:.0e}, FP32 vs FP64)", verdict, f"{describe(r32)}; {describe(r64)}"))
        if len({r["regularizer"] for r in reg32}) >= 3:
            out += regularizer_claims(pde, reg32, _cite("regularizers", pde))
        sel_forms = {s["double_form"]: s["variant"] for s in selected
                     if s["pde"] == pde and s["regularizer"] == "double" and s["precision"] == "fp32"}
        by_name = {r["variant"]: r for r in rows}
        if {"residual", "loss"} <= set(sel_forms):
            a, b = by_name[sel_forms["residual"]], by_name[sel_forms["loss"]]
            out.append((f"{pde}: (v) double PINN form a (gradient of each residual) vs form b (of its square), "
                        "each at its selected strength, FP32", _form_verdict(a, b), f"{describe(a)}; {describe(b)}"))
        forms = {r["double_form"]: r for r in rows if r["pde"] == pde and r["regularizer"] == "double"
                 and r["precision"] == "fp32" and r["lambda"] == 1e-4}
        if {"residual", "loss"} <= set(forms):
            out.append((f"{pde}: double PINN as the gradient of each residual (form a) vs of its square (form b), "
                        "lambda 1e-4, FP32",
                        f"form a {_outcome(forms['residual'])}; form b {_outcome(forms['loss'])}",
                        f"{describe(forms['residual'])}; {describe(forms['loss'])}"))
    if not any(r["precision"] == "fp64" for r in rows):
        out.append(("FP64 with few points fails without regularization; precision changes which "
                    "solution L-BFGS finds", "not tested by this study",
                    "no FP64 variants here; the full study (`regularizers` in config.yaml) has them"))
    return out


def document(rows: list[dict], selected: list[dict], title: str, command: str) -> str:
    """docs/regularizers.md: every number below comes from the study's runs."""
    lines = [
        "# Regularizers: which claims of the paper hold",
        "",
        "Generated by the regularizer study (do not edit by hand); regenerate with",
        "",
        f"    {command}",
        "",
        "Double PINN is offered in two forms (PAPER.md): (a) `residual`, lambda * mean |grad r|^2, the",
        "gradient of each point's residual with respect to the inputs; (b) `loss`, lambda * mean",
        "|grad r^2|^2. Boundary and initial residuals are differentiated along their own line.",
        "|grad r^2|^2 = 4 r^2 |grad r|^2 vanishes wherever r = 0, i.e. exactly at the collocation points",
        "an overfit network fits, so form (b) cannot forbid the failure mode; form (a) can. The",
        "strength lambda is selected without the reference solution: the lowest median test loss on",
        "fresh collocation points. Each seed is classified (src/pinnfail/evaluate.py, thresholds under",
        "`evaluation:` in config.yaml): *solved* (rMAE below the threshold), *overfit* (some loss term's",
        "test/train ratio above the threshold: the paper's failure mode, the only one), *plateau*",
        "(stopped by the stop rule at a higher rMAE) or *not converged* (the iteration budget ran out",
        "with the loss still falling). A variant succeeds or is a failure mode when most of its seeds are",
        "solved or overfit; a comparison between variants that are neither is not decided. Precision",
        "changes the solution (observed) when the FP32 and FP64 median rMAEs differ by more than 10x.",
        "The paper's figure is cited for the equation it shows. Each study's budget is in its title: a",
        "run ends by the paper's stop rule (relative objective change over 100 iterations at most",
        "sqrt(eps)) or at the study's iteration cap; how many reached the cap is counted below the",
        "tables (a capped run may still be on the plateau that every run crosses first, rMAE near 0.5",
        "and test = train). Times to an rMAE threshold count a seed that never got there as slowest.",
        "",
        "## Claims",
        "",
        "| claim | verdict | evidence |",
        "|---|---|---|",
    ]
    for claim, verdict, evidence in claims(rows, selected):
        lines.append(f"| {claim} | {verdict} | {evidence} |")
    lines += ["", markdown(rows, selected, title)]
    return "\n".join(lines)

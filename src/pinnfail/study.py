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

from .config import run_config
from .evaluate import CLASSES
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


def expand_study(study: dict) -> dict[str, dict]:
    """{variant name: run settings} for every combination in the study's blocks."""
    variants = {}
    for block in study["variants"]:
        keys = sorted(block)
        values = [_choices(k, block[k]) for k in keys]
        for combo in itertools.product(*values):
            settings = {**study["base"], **dict(zip(keys, combo))}
            variants[variant_name(settings)] = settings
    return variants


def first_crossing(history: dict, key: str, threshold: float) -> tuple[float, float]:
    """(iteration, seconds) at which history[key] first drops below threshold, else NaN."""
    values = np.asarray(history.get(key, []), dtype=float)
    below = np.flatnonzero(values < threshold)
    if below.size == 0:
        return math.nan, math.nan
    i = below[0]
    return float(history["iteration"][i]), float(history["wall_time"][i])


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
            "lambda": settings.get("lambda", 0.0),
            "n_seeds": len(pairs),
        }
        for key in ("rmae", "test_train_ratio", "test_loss", "iterations", "wall_time_s"):
            med, lo, hi = _median_spread([m[key] for m in metrics])
            row[f"{key}_median"], row[f"{key}_min"], row[f"{key}_max"] = med, lo, hi
        for thr in THRESHOLDS:
            crossings = [first_crossing(h, "test_rmae", thr) for h in histories]
            tag = f"{thr:.0e}".replace("-0", "-")
            row[f"iters_to_{tag}"] = _median_spread([c[0] for c in crossings])[0]
            row[f"seconds_to_{tag}"] = _median_spread([c[1] for c in crossings])[0]
            row[f"seeds_below_{tag}"] = sum(math.isfinite(c[0]) for c in crossings)
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


def _fmt(value) -> str:
    return format_number(value, nan="–")


def markdown(rows: list[dict], selected: list[dict], title: str) -> str:
    cols = [("variant", "variant"), ("n_seeds", "seeds"), ("rmae_median", "rMAE median"),
            ("rmae_min", "min"), ("rmae_max", "max"), ("test_train_ratio_median", "test/train"),
            ("iters_to_1e-1", "iters to 1e-1"), ("seconds_to_1e-1", "s to 1e-1"),
            ("iters_to_1e-2", "iters to 1e-2"), ("seconds_to_1e-2", "s to 1e-2"),
            ("seeds_below_1e-2", "seeds < 1e-2"), ("classification", "classification"),
            ("iterations_median", "iterations"), ("wall_time_s_median", "seconds")]
    lines = [f"## {title}", "", "| " + " | ".join(c[1] for c in cols) + " |",
             "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c[0], math.nan)) for c in cols) + " |")
    lines += ["", "Selected strength per regularizer (lowest median test loss on fresh collocation "
              "points; the reference error is shown, not used):", "",
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
    return f"is not decided at this budget ({row['classification']})"


def _fix_verdict(unregularized: dict, regularized: list[dict]) -> str:
    """Does the unregularized variant fail and a regularized one succeed?"""
    if not _fails(unregularized):
        return f"does not hold here: the unregularized PINN is not a failure mode ({unregularized['classification']})"
    if any(_success(r) for r in regularized):
        return "holds"
    if any(not _fails(r) for r in regularized):
        return ("partly: the unregularized PINN overfits; regularized, no failure mode, but not solved at the "
                "iteration budget")
    return "does not hold here: the regularized runs overfit too"


def _precision_verdict(r32: dict, r64: dict, factor: float = 10.0) -> str:
    """Observed when the FP32 and FP64 median rMAEs differ by more than ``factor``."""
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
                "regularizers": ("convection", "Fig. 6")}


def _cite(claim: str, pde: str) -> str:
    shown, figure = PAPER_FIGURE[claim]
    return f" ({figure})" if pde == shown else f" (the paper shows this for {shown}, {figure})"


def claims(rows: list[dict], selected: list[dict]) -> list[tuple[str, str, str]]:
    """The paper's claims checked against the study: (claim, verdict, evidence)."""
    out = []
    by_name = {r["variant"]: r for r in rows}
    # One variant per (pde, regularizer, precision): the selected strength, and for double PINN
    # the form, with the lowest median test loss (no reference solution involved).
    best: dict[tuple, dict] = {}
    for s in selected:
        r = by_name[s["variant"]]
        key = (r["pde"], r["regularizer"], r["precision"])
        if key not in best or r["test_loss_median"] < best[key]["test_loss_median"]:
            best[key] = r
    chosen = list(best.values())

    def describe(r):
        return (f"{r['variant']}: rMAE {_fmt(r['rmae_median'])} (median of {r['n_seeds']}), "
                f"test/train {_fmt(r['test_train_ratio_median'])}, {r['classification']}")

    for pde in sorted({r["pde"] for r in rows}):
        none32 = _find(rows, pde=pde, regularizer="none", precision="fp32")
        reg32 = [r for r in chosen if r["pde"] == pde and r["precision"] == "fp32"]
        if none32 and reg32:
            verdict = _fix_verdict(none32[0], reg32)
            evidence = "; ".join([describe(none32[0])] + [describe(r) for r in reg32])
            out.append((f"{pde}: the unregularized FP32 PINN is a failure mode and regularization removes "
                        f"it in FP32{_cite('fix_fp32', pde)}", verdict, evidence))
        none64 = _find(rows, pde=pde, regularizer="none", precision="fp64")
        reg64 = [r for r in chosen if r["pde"] == pde and r["precision"] == "fp64"]
        if none64 and reg64:
            out.append((f"{pde}: FP64 with few points fails without regularization and succeeds with it"
                        f"{_cite('fix_fp64', pde)}",
                        _fix_verdict(none64[0], reg64),
                        "; ".join([describe(none64[0])] + [describe(r) for r in reg64])))
        for r32 in reg32:
            twin = _find(rows, pde=pde, regularizer=r32["regularizer"], double_form=r32["double_form"],
                         precision="fp64", **{"lambda": r32["lambda"]})
            if twin:
                r64 = twin[0]
                verdict = _precision_verdict(r32, r64)
                out.append((f"{pde}: precision changes which solution L-BFGS finds ({r32['regularizer']} "
                            f"lambda {r32['lambda']:.0e}, FP32 vs FP64)", verdict, f"{describe(r32)}; {describe(r64)}"))
        if len({r["regularizer"] for r in reg32}) >= 3:
            cite = _cite("regularizers", pde)
            open_ = [r["variant"] for r in reg32 if not (_success(r) or _fails(r))]
            undecided = (f"not decided at this budget: {', '.join(open_)} neither solved nor overfit"
                         if open_ else "")

            def speed(r):
                return r["iters_to_1e-2"] if _success(r) and math.isfinite(r["iters_to_1e-2"]) else math.inf

            fastest = min(reg32, key=speed)
            lowest = min(reg32, key=lambda r: (not _success(r), r["rmae_median"]))
            worst = max(reg32, key=lambda r: (_fails(r), r["rmae_median"]))  # each at its selection
            any_reached = speed(fastest) < math.inf
            reached = (f"{fastest['variant']} ({_fmt(fastest['iters_to_1e-2'])} iterations)"
                       if any_reached else "none")
            if undecided:
                verdict = undecided
            elif not any_reached:
                verdict = "not decided at this budget: no regularizer reached rMAE 1e-2"
            elif fastest["regularizer"] == lowest["regularizer"] == "double":
                verdict = "holds"
            else:
                verdict = "does not hold here"
            out.append((f"{pde}: double PINN converges fastest and lowest{cite}", verdict,
                        f"fastest to rMAE 1e-2: {reached}; "
                        f"lowest rMAE: {describe(lowest)}"))
            out.append((f"{pde}: L1 is the worst regularizer{cite}",
                        undecided or ("holds" if worst["regularizer"] == "l1" else "does not hold here"),
                        f"worst among the regularizers at their selected strength/form: {describe(worst)}"))
        forms = {r["double_form"]: r for r in rows if r["pde"] == pde and r["regularizer"] == "double"
                 and r["precision"] == "fp32" and r["lambda"] == 1e-4}
        if {"residual", "loss"} <= set(forms):
            out.append((f"{pde}: double PINN as the gradient of each residual (form a) vs of its square "
                        "(form b), lambda 1e-4, FP32",
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
        "The paper's figure is cited for the equation it shows. The quick variants stop after a few",
        "thousand iterations (CPU-sized), where any run may still be on the plateau that every run",
        "crosses first (rMAE near 0.5, test = train; when a seed leaves it varies from seed to seed);",
        "the full variant (`regularizers` in config.yaml, up to 1e5 iterations) is sized for GPUs.",
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

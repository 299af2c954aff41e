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

import csv
import itertools
import math
import os
from pathlib import Path

import h5py
import numpy as np

from .evaluate import read_metrics

THRESHOLDS = (1e-1, 1e-2)
GROUP_KEYS = ("pde", "regularizer", "double_form", "precision")


def variant_name(settings: dict) -> str:
    parts = [settings["pde"], settings.get("regularizer", "none")]
    if settings.get("regularizer") == "double":
        parts.append(settings.get("double_form", "residual"))
    if settings.get("regularizer", "none") != "none":
        parts.append(f"{float(settings['lambda']):.0e}".replace("+", ""))
    parts.append(settings.get("precision", "fp32"))
    return "_".join(parts).replace(".", "p").replace("-", "m")


def expand_study(study: dict) -> dict[str, dict]:
    """{variant name: run settings} for every combination in the study's blocks."""
    variants = {}
    for block in study["variants"]:
        keys = sorted(block)
        values = [block[k] if isinstance(block[k], list) else [block[k]] for k in keys]
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
    with h5py.File(run_path, "r") as f:
        return {k: f["history"][k][()] for k in f["history"]}


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
        settings = variants[name]
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
        row["failure_modes"] = sum(bool(m["failure_mode"]) for m in metrics)
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
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.3g}" if 1e-3 <= abs(value) < 1e5 or value == 0 else f"{value:.2e}"
    return str(value)


def markdown(rows: list[dict], selected: list[dict], title: str) -> str:
    cols = [("variant", "variant"), ("n_seeds", "seeds"), ("rmae_median", "rMAE median"),
            ("rmae_min", "min"), ("rmae_max", "max"), ("test_train_ratio_median", "test/train"),
            ("iters_to_1e-1", "iters to 1e-1"), ("seconds_to_1e-1", "s to 1e-1"),
            ("iters_to_1e-2", "iters to 1e-2"), ("seconds_to_1e-2", "s to 1e-2"),
            ("seeds_below_1e-2", "seeds < 1e-2"), ("failure_modes", "failure modes"),
            ("iterations_median", "iterations"), ("wall_time_s_median", "seconds")]
    lines = [f"## {title}", "", "| " + " | ".join(c[1] for c in cols) + " |",
             "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r[c[0]]) for c in cols) + " |")
    lines += ["", "Selected strength per regularizer (lowest median test loss on fresh collocation "
              "points; the reference error is shown, not used):", "",
              "| pde | regularizer | form | precision | lambda | test loss | rMAE | candidates |",
              "|---|---|---|---|---|---|---|---|"]
    for s in selected:
        lines.append(f"| {s['pde']} | {s['regularizer']} | {s['double_form'] or '–'} | {s['precision']} | "
                     f"{s['lambda']:.0e} | {_fmt(s['test_loss_median'])} | {_fmt(s['rmae_median'])} | "
                     f"{s['candidates']} |")
    return "\n".join(lines) + "\n"


def _write(path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_csv(path, rows: list[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def add_study_parser(sub) -> None:
    p = sub.add_parser("study", help="aggregate a regularizer study (CSV + Markdown)")
    p.add_argument("--variant", action="append", required=True, metavar="NAME=RUN:EVAL[,RUN:EVAL...]",
                   help="a variant and its seeds' run.h5:eval.h5 pairs")
    p.add_argument("--settings", required=True, help="JSON {variant: run settings}")
    p.add_argument("--title", default="Regularizer study")
    p.add_argument("--csv", required=True, type=Path)
    p.add_argument("--md", required=True, type=Path)
    p.set_defaults(func=_cmd_study)


def _cmd_study(args) -> None:
    import json

    variants = json.loads(Path(args.settings).read_text()) if Path(args.settings).exists() else json.loads(args.settings)
    runs = {}
    for item in args.variant:
        name, sep, pairs = item.partition("=")
        if not sep or name not in variants:
            raise ValueError(f"study --variant: expected a known NAME=RUN:EVAL[,...], got {item!r}")
        runs[name] = [tuple(p.split(":", 1)) for p in pairs.split(",")]
    rows = summarize(runs, variants)
    selected = select_lambda(rows)
    write_csv(args.csv, rows)
    _write(args.md, markdown(rows, selected, args.title))
    print(markdown(rows, selected, args.title))

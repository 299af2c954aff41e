"""Evidence of a set of runs: one CSV line per run, and test rMAE against iterations per equation.

Both read only artifacts (run.h5 history and attributes, eval.h5 metrics). The convergence
figure plots, per equation, the test-point rMAE that training logs (equations with an exact
solution) and each run's final rMAE against the reference (eval.h5, every equation), above
the test loss, which needs no solution.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any, Mapping

from pinnfail.products.classes import flags_of
from pinnfail.artifacts.formats import Run, read_metrics
from pinnfail.artifacts.files import write_text
from pinnfail.products.tables import csv_text
from pinnfail.numerics import history as H

RUN_COLUMNS = ("experiment", "pde", "method", "precision", "regularizer", "form", "lambda", "seed", "iterations",
           "max_iters", "stop_reason", "wall_time_s", "rmae", "rrmse", "train_loss", "test_loss",
           "test_train_ratio", "classification", "still_falling", "objective_change", "stop_tolerance",
           "worst_term", "max_term_test_train_ratio", "above_overfit_ratio", "continued_from_iteration", "device",
           "git_revision")


def run_row(experiment: str, method: str, run_path, eval_path) -> dict:
    """One line of runs.csv: the run's settings and provenance (run.h5), its metrics (eval.h5)."""
    run = Run.read(run_path)
    metrics = read_metrics(eval_path)
    return {"experiment": experiment, "method": method, "seed": run.config["seed"],
            "form": run.config["double_form"] if run.config["regularizer"] == "double" else "",
            **{key: run.config[key] for key in ("pde", "precision", "regularizer", "lambda", "max_iters")},
            **{key: run.attrs.get(key, "") for key in ("iterations", "wall_time_s", "stop_reason", "device",
                                                        "git_revision")},
            **{key: metrics.get(key, "") for key in ("rmae", "rrmse", "train_loss", "test_loss", "test_train_ratio",
                                                     "classification")},
            **flags_of(metrics),
            "continued_from_iteration": run.attrs.get("continued_from_iteration", 0)}


def write_runs_csv(path, rows: list[dict]) -> None:
    write_text(path, csv_text(rows, RUN_COLUMNS))


def decade_limits(lo: float, hi: float) -> tuple[float, float]:
    """Log-axis limits spanning at least one decade: (lo, hi) if it does, else the decades
    around it, 10**floor(log10 lo) .. 10**ceil(log10 hi) (end-of-run dots alone, e.g. two rMAEs
    of 0.302 and 0.308, would otherwise get an axis of 1 % with crowded labels)."""
    if not (0 < lo <= hi) or hi / lo >= 10:
        return lo, hi
    low, high = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return 10.0 ** low, 10.0 ** max(high, low + 1)


def convergence_figure(runs: list[tuple[str, str, str]], png, pdf, style: Mapping[str, Any] | None = None,
                       by: str = "pde") -> dict:
    """``runs``: (label, run.h5, eval.h5); one column per equation (``by="pde"``), a colour per
    label and a line style per seed; or one column per label (``by="label"``), a colour per seed.
    Drawn in the figure style (``figures.style``: width, fonts, dpi), as the paper's figures are."""
    from pinnfail.products.figures import panels

    if by not in ("pde", "label"):
        raise ValueError(f"convergence: by must be 'pde' or 'label', got {by!r}")
    by_pde: dict[str, list] = {}
    for label, run_path, eval_path in runs:
        run = Run.read(run_path)
        column = run.config["pde"] if by == "pde" else label
        by_pde.setdefault(column, []).append((label, run.config["seed"], run.history, read_metrics(eval_path)))

    def draw(style):
        # the style's width, wider where many columns would crowd it (2.4 inches a column at least)
        width = max(style["width"], 2.4 * len(by_pde))
        fig = panels.new_figure({**style, "width": width}, 5.0 * 7.0 / width)  # 5 inches high
        axes = fig.subplots(2, len(by_pde), squeeze=False, sharex="col")
        for col, (pde, members) in enumerate(by_pde.items()):
            top, bottom = axes[0, col], axes[1, col]
            labels = sorted({label for label, *_ in members})
            colors = {label: f"C{i}" for i, label in enumerate(labels)}
            for label, seed, history, metrics in members:
                if by == "pde":
                    line = {"color": colors[label], "lw": 0.9, "alpha": 0.8, "ls": ("-", "--", ":", "-.")[seed % 4]}
                else:
                    line = {"color": f"C{seed % 10}", "lw": 0.9, "alpha": 0.8}
                    colors[label] = line["color"]
                name = f"{label} seed {seed}" if len(labels) > 1 else f"seed {seed}"
                if H.TEST_RMAE in history:
                    top.semilogy(history[H.ITERATION], history[H.TEST_RMAE], label=name, **line)
                top.semilogy([metrics["iterations"]], [metrics["rmae"]], "o", ms=4, color=colors[label],
                             label=None if H.TEST_RMAE in history else name)
                bottom.semilogy(history[H.ITERATION], history[H.TEST_TOTAL], **line)
            top.set_ylim(*decade_limits(*top.get_ylim()))
            top.set_title(textwrap.fill(pde.replace("_", " "), 24))
            bottom.set_xlabel("iteration")
            top.legend(fontsize="small")
        axes[0, 0].set_ylabel("rMAE (line: test points,\ndot: reference at the end)")
        axes[1, 0].set_ylabel("test loss")
        return fig

    return panels.render("convergence", png, pdf, style, draw)


def continuation_figure(runs: list[tuple[str, int, str, str, int]], png, pdf, solved_rmae: float,
                        style: Mapping[str, Any] | None = None) -> dict:
    """Plateau stops continued past the stop rule: ``runs`` holds (label, seed, original run.h5,
    continued run.h5, iteration where the rule stopped); per run the test rMAE and the objective
    of the continued run against iterations, the original's stop marked, the solved threshold
    dashed. No runs: a figure saying so. Drawn in the figure style."""
    from pinnfail.products.figures import panels

    def draw(style):
        fig = panels.new_figure(style, 5.0)
        top, bottom = fig.subplots(2, 1, sharex=True)
        for i, (label, seed, _, continued, stop) in enumerate(runs):
            h = Run.read(continued).history
            line = {"color": f"C{i % 10}", "lw": 0.9}
            if H.TEST_RMAE in h:
                top.semilogy(h[H.ITERATION], h[H.TEST_RMAE], label=f"{label} seed {seed}", **line)
            bottom.semilogy(h[H.ITERATION], h[H.OBJECTIVE], **line)
            for ax in (top, bottom):
                ax.axvline(stop, color=line["color"], ls=":", lw=0.8)
        top.axhline(solved_rmae, color="k", ls="--", lw=0.7, label=f"solved ({solved_rmae:g})")
        if not runs:
            top.text(0.5, 0.5, "no run was stopped on a plateau", transform=top.transAxes, ha="center")
        top.set_ylabel("test rMAE")
        bottom.set_ylabel("objective")
        bottom.set_xlabel("iteration (dotted: where the stop rule had stopped the run)")
        top.set_title("plateau stops continued past the stop rule (to a standstill or the cap)")
        top.legend(fontsize="small")
        return fig

    return panels.render("plateaus", png, pdf, style, draw)


def archive(prefixes, source, to) -> tuple[int, int, list[str]]:
    """Copy the finished runs (run.h5 and eval.h5, never checkpoints) of the experiments under
    SOURCE (laid out like results/runs) whose names start with one of PREFIXES into TO, the
    same layout: a folder ``archive:`` reads instead of training. Returns (runs copied, bytes,
    skipped seeds with the reason)."""
    from pinnfail.artifacts.hdf5 import copy_artifact

    source = Path(source)
    experiments = sorted(d for d in source.iterdir() if d.is_dir() and d.name.startswith(tuple(prefixes))) \
        if source.is_dir() else []
    if not experiments:
        raise ValueError(f"archive: no experiment under {source} starts with {' or '.join(prefixes)}")
    copied, size, skipped = 0, 0, []
    for experiment in experiments:
        for seed in sorted(experiment.glob("seed*")):
            run, evaluation = seed / "run.h5", seed / "eval.h5"
            if not (run.is_file() and evaluation.is_file()):
                skipped.append(f"{seed} (no run.h5 and eval.h5 pair)")
                continue
            if Run.read(run).attrs.get("stop_reason") == "interrupted":
                skipped.append(f"{seed} (an interrupted run)")
                continue
            read_metrics(evaluation)
            for path in (run, evaluation):
                target = Path(to) / experiment.name / seed.name / path.name
                copy_artifact(path, target)
                size += target.stat().st_size
            copied += 1
    return copied, size, skipped


def write_runs(manifest, csv) -> None:
    """runs.csv of a ``manifest.Runs``: one line per run."""
    write_runs_csv(csv, [run_row(r.experiment, r.method, r.run, r.eval) for r in manifest.runs])

"""Report captions (reStructuredText) written from the artifacts they describe.

A caption states what its table or figure shows (layout), then the numbers of the
runs behind it, their classification and budget, read from eval.h5; a sentence
comparing the runs with the paper's reading is derived from those classes, never
assumed. The workflow points ``report(..., caption=...)`` at these files.
"""
from __future__ import annotations

from pinnfail.products.formatting import format_number as _fmt
from pinnfail.numerics.pdes import PDES

# What each figure draws (figures/), and the paper's reading of it as the classes its runs
# should have (docs/paper.md).
FIGURES = {
    "fig1": ("Fig. 1: exact solution, predictions, PDE residual maps with the collocation points, and train "
             "vs test loss, without and with a regularizer.",
             {"failure": {"overfit"}, "regularized": {"solved"}}),
    "fig3": ("Fig. 3: predictions, errors, and the PDE residual along a time slice with the collocation x "
             "positions marked and against t (median over x) with the collocation times marked, for the "
             "few-point and dense-grid runs and the regularized run.",
             {"sparse": {"overfit"}, "dense": {"solved"}, "regularized": {"solved"}}),
    "fig4": ("Fig. 4: reference, predictions and train vs test losses of the runs below.",
             {"fp32": {"plateau", "not converged"}, "fp64": {"solved"}, "double": {"solved"}}),
    "fig5": ("Fig. 5: prediction and absolute error of each equation's run.",
             {role: {"solved"} for role in PDES}),
    "fig6": ("Fig. 6: train (solid) and test (dashed) loss and test rMAE against iteration, and the PDE "
             "residual maps, one column per regularizer.",
             {"none": {"overfit"}, "double": {"solved"}}),
}


def describe_setting(config: dict) -> str:
    """'convection, double PINN (residual) lambda 1e-04, fp64, 20x20 + 200 + 200 points, seed 0'."""
    reg = config["regularizer"]
    if reg == "none":
        method = "no regularizer"
    else:
        name = {"double": f"double PINN ({config['double_form']})", "l2": "L2", "l1": "L1"}[reg]
        method = f"{name} lambda {float(config['lambda']):.0e}"
    nx, nt = config["grid"]
    return (f"{config['pde']}, {method}, {config['precision']}, {nx}x{nt} + {config['n_initial']} + "
            f"{config['n_boundary']} points, seed {config['seed']}")


def run_line(role: str, m: dict) -> str:
    """One run's numbers, class and budget as an rst bullet."""
    return (f"- **{role}** ({describe_setting(m['config'])}): *{m['classification']}* "
            f"({m['classification_reason']}); rMAE {_fmt(float(m['rmae']))} after {m['iterations']} of "
            f"{m['config']['max_iters']} iterations (stop: {m['stop_reason']}), test/train loss "
            f"{_fmt(float(m['test_train_ratio']))}.")


def figure_caption(figure: str, runs: dict[str, dict]) -> str:
    """Caption of one figure from its runs' evaluations {role: metrics}."""
    layout, expected = FIGURES.get(figure, (f"{figure}.", {}))
    lines = [layout, "", *[run_line(role, m) for role, m in sorted(runs.items())], ""]
    differ = [f"{role} is {runs[role]['classification']} (paper: {' or '.join(sorted(want))})"
              for role, want in sorted(expected.items()) if role in runs and runs[role]["classification"] not in want]
    if differ:
        lines.append("These runs do not show the paper's reading: " + "; ".join(differ) + ".")
    elif expected:
        lines.append("These runs show the paper's reading: "
                     + "; ".join(f"{role} {runs[role]['classification']}" for role in sorted(expected)
                                 if role in runs) + ".")
    return "\n".join(lines) + "\n"


def table1_caption(rows: list[dict], note: str = "") -> str:
    """Caption of Table 1 from its rows: each pipeline row's rMAE, class and budget."""
    ours = [r for r in rows if r["source"] == "pipeline"]
    lines = ["Table 1: rows rerun by this pipeline (mean ± sample std over seeds) next to the paper's "
             "cited rows (literature / paper, not rerun). Loss includes the regularization penalty.", ""]
    for r in ours:
        lines.append(
            f"- **{r['equation']}, {r['method']}** ({r['precision']}, N = {r['N']}): rMAE "
            f"{_fmt(r['rmae_mean'])} ± {_fmt(r['rmae_std'])} over {r['n_seeds']} seed(s), "
            f"*{r['classification']}*; {_fmt(r['iterations_mean'])} iterations on average of "
            f"max_iters {r['max_iters']} (stop: {r['stop_reasons']}).")
    failing = [f"{r['equation']} {r['method']} ({r['failure_mode']} seeds)" for r in ours if r["n_overfit"]]
    lines += ["", "Failure modes (overfit seeds, the only failure mode): "
              + ("; ".join(failing) if failing else "none") + "."]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def study_caption(rows: list[dict], title: str) -> str:
    """Caption of a regularizer study's table: each variant's median rMAE and classes."""
    lines = [f"{title}: {len(rows)} variants; median (min..max) over seeds; strength selected by the lowest "
             "median test loss on fresh collocation points (no reference solution used to choose). "
             f"Iterations per variant (median): {_fmt(min(r['iterations_median'] for r in rows))} to "
             f"{_fmt(max(r['iterations_median'] for r in rows))}.", ""]
    for r in rows:
        lines.append(f"- **{r['variant']}**: rMAE {_fmt(r['rmae_median'])} ({_fmt(r['rmae_min'])}.."
                     f"{_fmt(r['rmae_max'])}) over {r['n_seeds']} seed(s), *{r['classification']}*.")
    return "\n".join(lines) + "\n"

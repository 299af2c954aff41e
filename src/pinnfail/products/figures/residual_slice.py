"""Fig. 3: wave (FP64) with few collocation points, and its residual along a time slice."""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from pinnfail.numerics.pdes import get_pde
from pinnfail.products.figures import panels as pn
from pinnfail.products.figures.inputs import Case, figure, load
from pinnfail.products.figures.labels import inline, labels, pde_title


def time_slice(style: dict, sparse: Case) -> tuple[float, str]:
    """The slice's time and a note for the title: ``style["time_slice"]``, moved to the
    sparse run's nearest training time if ``snap_time_slice``."""
    pde = get_pde(sparse.pde)
    t_s = style["time_slice"]
    if not pde.t0 <= t_s <= pde.t1:
        raise ValueError(f"style.time_slice: t = {t_s} is outside [{pde.t0}, {pde.t1}]")
    note = ""
    if style["snap_time_slice"]:
        times = np.unique(np.asarray(sparse.run.points["domain"][:, 1], dtype=np.float64))
        snapped = float(times[np.argmin(np.abs(times - t_s))])
        if not math.isclose(snapped, t_s, rel_tol=0, abs_tol=1e-12):
            note = f" (training time nearest {t_s:g})"
        t_s = snapped
    return t_s, note


def slice_at(case: Case, t: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(time, x, |residual|) of the evaluation's slice nearest ``t``: evaluate writes
    slices at the run's training times and at regular times."""
    f = case.fields
    i = int(np.argmin(np.abs(f["slice_t"] - t)))
    return float(f["slice_t"][i]), f["slice_x"], np.abs(f["slice_residual"][i])


def time_profile(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """(t, median over x of |residual|) from the evaluation's residual map
    ``residual[i_t, j_x]``: a network that fits its residual only on the training
    times shows dips there."""
    f = case.fields
    return f["residual_t"], np.median(np.abs(f["residual"]), axis=1)


@figure("fig3")
def fig3(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 3: wave (FP64) with few collocation points.

    Roles ``sparse`` (no regularizer, few points), ``dense`` (no regularizer,
    many points) and ``regularized`` (double PINN, few points). Top: exact
    solution and the three predictions (shared scale), their |error| (shared log
    scale) and a metrics panel. Bottom: |PDE residual| along the time slice
    ``style["time_slice"]`` (by default moved to the sparse run's nearest
    training time, ``snap_time_slice``, so that the slice passes through its
    collocation points) on the evaluation's fine x line, for the three runs, with
    the sparse run's collocation x positions as vertical lines (a run whose
    evaluation has no slice at that time is drawn at its nearest one, and its
    legend entry says which); beside it the median over x of |PDE residual|
    against t (the evaluation's residual map) with the sparse run's training
    times as vertical lines: where an overfit network fits its residual only on
    the lines of its grid, this is where it shows.
    """
    cases, ref = load("fig3", runs, reference)
    sparse = cases[0]

    def draw(style):
        t_s, note = time_slice(style, sparse)
        pde = get_pde(ref.pde)
        lab, col = labels(cases, grid=True), pn.colors(cases)
        fig = pn.new_figure(style, 5.6)
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.1, 1.7], hspace=0.04)
        axes = pn.solutions_block(top, cases, ref, lab, col, style, pred_title="$u$, $\\hat u$")
        for ax in axes[0, 1:]:
            ax.axhline(t_s, color="k", lw=0.6, ls=":")
        ax, ax_t = bottom.subplots(1, 2, sharey=True)
        coll = np.asarray(sparse.run.points["domain"], dtype=np.float64)
        for a, positions, what in ((ax, coll[:, 0], "$x$"), (ax_t, coll[:, 1], "$t$")):
            for i, pos in enumerate(np.unique(positions)):
                a.axvline(pos, color="0.6", lw=0.6, ls=":", zorder=0,
                          label=f"collocation {what} of the {sparse.role} run" if i == 0 else None)
        for case in cases:
            t, x, r = slice_at(case, t_s)
            at = "" if math.isclose(t, t_s, rel_tol=0, abs_tol=1e-9) else f" (at $t = {t:.4g}$)"
            ax.semilogy(x, pn.positive(r), color=col[case.role], label=inline(lab[case.role]) + at)
            ax_t.semilogy(*time_profile(case), color=col[case.role])
        ax.set_xlim(pde.x0, pde.x1)
        ax_t.set_xlim(pde.t0, pde.t1)
        pn.style_x_axis(ax, ref.pde)
        ax.set_xlabel("$x$")
        ax_t.set_xlabel("$t$")
        ax.set_ylabel("|residual|")
        ax.set_title(f"|PDE residual| along $x$ at $t = {t_s:.4g}${note}", loc="right")
        ax_t.set_title("|PDE residual| against $t$ (median over $x$)")
        ax.legend(frameon=False, loc="best", labelspacing=0.25)
        ax_t.legend(frameon=False, loc="best")
        for a in (ax, ax_t):
            a.grid(True, which="major", axis="y", alpha=0.3, lw=0.5)
        pn.log_ticks(ax)
        fig.suptitle(f"{pde_title(ref.pde, ref.params)}, {sparse.config['precision'].upper()}: "
                     "few collocation points, many points, regularized")
        return fig

    return pn.render("fig3", png, pdf, style, draw)

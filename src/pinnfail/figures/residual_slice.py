"""Fig. 3: wave (FP64) with few collocation points, and its residual along a time slice."""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ..pdes import get_pde
from . import panels as pn
from .inputs import Case, figure, load
from .labels import inline, labels, pde_title


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


@figure("fig3", roles=("sparse", "dense", "regularized"))
def fig3(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 3: wave (FP64) with few collocation points.

    Roles ``sparse`` (no regularizer, few points), ``dense`` (no regularizer,
    many points) and ``regularized`` (double PINN, few points). Top: exact
    solution and the three predictions (shared scale), their |error| (shared log
    scale) and a metrics panel. Bottom: |PDE residual| along the time slice
    ``style["time_slice"]`` (by default moved to the sparse run's nearest
    training time, ``snap_time_slice``, so that the slice passes through its
    collocation points) on the evaluation's fine x line, for the three runs, with
    the sparse run's collocation x positions as vertical lines. A run whose
    evaluation has no slice at that time is drawn at its nearest one, and its
    legend entry says which.
    """
    cases, ref = load("fig3", runs, reference)
    sparse = cases[0]

    def draw(style):
        t_s, note = time_slice(style, sparse)
        pde = get_pde(ref.pde)
        lab, col = labels(cases, grid=True), pn.colors(cases)
        fig = pn.new_figure(style, 5.2)
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.1, 1.5], hspace=0.02)
        axes = pn.solutions_block(top, cases, ref, lab, col, style, pred_title="$u$, $\\hat u$")
        for ax in axes[0, 1:]:
            ax.axhline(t_s, color="k", lw=0.6, ls=":")
        ax = bottom.subplots()
        x_coll = np.unique(np.asarray(sparse.run.points["domain"][:, 0], dtype=np.float64))
        for i, xc in enumerate(x_coll):
            ax.axvline(xc, color="0.6", lw=0.6, ls=":", zorder=0,
                       label=f"collocation $x$ of the {sparse.role} run" if i == 0 else None)
        for case in cases:
            t, x, r = slice_at(case, t_s)
            at = "" if math.isclose(t, t_s, rel_tol=0, abs_tol=1e-9) else f" (at $t = {t:.4g}$)"
            ax.semilogy(x, pn.positive(r), color=col[case.role], label=inline(lab[case.role]) + at)
        ax.set_xlim(pde.x0, pde.x1)
        pn.style_x_axis(ax, ref.pde)
        ax.set_xlabel("$x$")
        ax.set_ylabel("|residual|")
        ax.set_title(f"|PDE residual| at $t = {t_s:.4g}${note}")
        ax.legend(frameon=False, ncols=2, loc="best", labelspacing=0.25)
        ax.grid(True, which="major", axis="y", alpha=0.3, lw=0.5)
        pn.log_ticks(ax)
        fig.suptitle(f"{pde_title(ref.pde, ref.params)}, {sparse.config['precision'].upper()}: "
                     "few collocation points, many points, regularized")
        return fig

    return pn.render("fig3", png, pdf, style, draw)

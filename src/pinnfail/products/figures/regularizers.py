"""Fig. 6: regularizers compared on convection."""
from __future__ import annotations

from typing import Any, Mapping

from pinnfail.products.figures import panels as pn
from pinnfail.products.figures.inputs import figure, load
from pinnfail.products.figures.labels import inline, labels, pde_title, title
from pinnfail.numerics import history as H


@figure("fig6")
def fig6(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 6: regularizers compared on convection.

    Roles ``none``, ``l2``, ``l1`` and ``double``. Top: train (solid) and test
    (dashed) loss against iteration for the four, and the test rMAE (the
    history's ``test_rmae``, on the test domain points; the PDE needs an exact
    solution) against iteration. Bottom: |residual| maps of the four with a
    shared log colour scale.
    """
    cases, ref = load("fig6", runs, reference)
    for case in cases:
        if H.TEST_RMAE not in case.run.history:
            raise ValueError(f"fig6: role {case.role!r}: the run history has no test_rmae "
                             f"(the {case.pde!r} equation has no exact solution)")

    def draw(style):
        lab, col = labels(cases, lam=True), pn.colors(cases)
        fig = pn.new_figure(style, 4.4)
        top, bottom = fig.subfigures(2, 1, height_ratios=[2.3, 1.7], hspace=0.02)
        ax_loss, ax_err = top.subplots(1, 2)
        pn.loss_panel(ax_loss, cases, lab, col, "train (solid) and test (dashed) loss")
        for case in cases:
            h = case.run.history
            ax_err.semilogy(h[H.ITERATION], pn.positive(h[H.TEST_RMAE]), color=col[case.role],
                            label=inline(lab[case.role]))
        ax_err.set_xlabel("iteration")
        ax_err.set_ylabel("test rMAE")
        ax_err.set_title("relative mean absolute error (test points)")
        ax_err.grid(True, which="major", alpha=0.3, lw=0.5)
        ax_err.legend(frameon=False, labelspacing=0.25)
        pn.tidy_iterations(ax_err)
        pn.log_ticks(ax_err)
        axes = bottom.subplots(1, len(cases))
        norm, extend = pn.log_norm([c.fields["residual"] for c in cases], style["log_range"])
        for j, (ax, case) in enumerate(zip(axes, cases)):
            f = case.fields
            im = pn.field_map(ax, pn.floored(f["residual"], norm), f["residual_x"], f["residual_t"],
                              case.pde, cmap=style["residual_cmap"], norm=norm,
                              title=title(lab[case.role]), tlabel=j == 0)
            ax.title.set_color(col[case.role])
        bottom.colorbar(im, ax=list(axes), extend=extend, label="|residual|", pad=0.01, aspect=12)
        cfg = cases[0].config
        fig.suptitle(f"{pde_title(ref.pde, ref.params)}, {cfg['precision'].upper()}, "
                     f"{cfg['grid'][0]}$\\times${cfg['grid'][1]} grid: regularizers")
        return fig

    return pn.render("fig6", png, pdf, style, draw)

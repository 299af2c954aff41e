"""Fig. 1: a failure mode is overfitting (convection, FP32)."""
from __future__ import annotations

from typing import Any, Mapping

from pinnfail.products.figures import panels as pn
from pinnfail.products.figures.inputs import Case, figure, load
from pinnfail.products.figures.labels import labels, pde_title, title, variant


def describe(case: Case) -> str:
    """A run in a title: its variant and classification, called a failure mode only if
    it overfits."""
    text = variant(case.config)
    if case.classification is not None:
        text += f": {case.classification}"
    return f"{text}, a failure mode" if case.overfit else text


@figure("fig1")
def fig1(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 1: a failure mode is overfitting (convection, FP32).

    Roles ``failure`` (no regularizer) and ``regularized``. A 2x4 grid: top row
    exact solution, failure prediction, failure |residual| with the training
    collocation points as rings (the residual under each stays visible), failure train/test loss; bottom row a metrics panel,
    regularized prediction, |residual| and train/test loss. Predictions share the
    exact solution's colour scale; the two |residual| maps share a log scale; the
    two loss panels share their y axis. The title calls the top run a failure mode
    only if it overfits.
    """
    cases, ref = load("fig1", runs, reference)

    def draw(style):
        failure, regularized = cases
        lab, col = labels(cases), pn.colors(cases)
        fig = pn.new_figure(style, 3.7)
        axes = fig.subplots(2, 4, gridspec_kw={"width_ratios": [1, 1.2, 1.2, 1.1]})
        axes[1, 3].sharey(axes[0, 3])
        pde = ref.pde
        vnorm, extend = pn.value_norm(ref.u, [c.fields["u_pred"] for c in cases])
        rnorm, res_extend = pn.log_norm([c.fields["residual"] for c in cases], style["log_range"])
        pn.field_map(axes[0, 0], ref.u, ref.x, ref.t, pde, cmap=style["cmap"], norm=vnorm,
                     title="exact $u$")
        for row, case in ((0, failure), (1, regularized)):
            f = case.fields
            im = pn.field_map(axes[row, 1], f["u_pred"], f["x"], f["t"], pde, cmap=style["cmap"],
                              norm=vnorm, title=title(lab[case.role], "$\\hat u$"), tlabel=row == 1)
            rim = pn.field_map(axes[row, 2], pn.floored(f["residual"], rnorm), f["residual_x"],
                               f["residual_t"], pde, cmap=style["residual_cmap"], norm=rnorm,
                               title=title(lab[case.role], "|residual|"), tlabel=False)
            for ax in axes[row, 1:3]:
                ax.title.set_color(col[case.role])
            pn.loss_panel(axes[row, 3], [case], lab, col, title(lab[case.role], "loss"))
            axes[row, 3].title.set_color(col[case.role])
            fig.colorbar(im, ax=axes[row, 1], extend=extend, aspect=15, pad=0.02)
            fig.colorbar(rim, ax=axes[row, 2], extend=res_extend, aspect=15, pad=0.02)
        pts = failure.run.points["domain"]
        # rings, not dots: the residual at each collocation point shows through the ring's centre
        axes[0, 2].scatter(pts[:, 0], pts[:, 1], s=style["point_size"], marker="o", facecolors="none",
                           edgecolors=style["point_color"], linewidths=0.35, alpha=0.8, zorder=3)
        pn.log_ticks(axes[0, 3])
        pn.metrics_panel(axes[1, 0], cases, lab, col)
        fig.suptitle(f"{pde_title(pde, ref.params)}, {failure.config['precision'].upper()}\n"
                     f"{describe(failure)} (top, {style['point_color']} rings: collocation points); "
                     f"{describe(regularized)} (bottom)")
        return fig

    return pn.render("fig1", png, pdf, style, draw)

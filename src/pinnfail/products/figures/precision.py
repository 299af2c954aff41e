"""Fig. 4: Allen-Cahn, FP32 vs FP64 vs FP64 double PINN."""
from __future__ import annotations

from typing import Any, Mapping

from pinnfail.products.figures import panels as pn
from pinnfail.products.figures.inputs import figure, load
from pinnfail.products.figures.labels import labels, pde_title


@figure("fig4")
def fig4(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 4: Allen-Cahn, FP32 vs FP64 vs FP64 double PINN.

    Roles ``fp32``, ``fp64`` and ``double``, or any non-empty subset of them (a
    preset may leave out the costly double PINN FP64 run), drawn in that
    order. Top: reference and the predictions (shared scale), their |error|
    (shared log scale) and a metrics panel. Bottom: train (solid) and test
    (dashed) loss of each.
    """
    cases, ref = load("fig4", runs, reference)

    def draw(style):
        lab, col = labels(cases, precision=True), pn.colors(cases)
        fig = pn.new_figure(style, 5.2)
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.1, 1.5], hspace=0.02)
        pn.solutions_block(top, cases, ref, lab, col, style, pred_title="$u$, $\\hat u$")
        ax = bottom.subplots()
        pn.loss_panel(ax, cases, lab, col, "train (solid) and test (dashed) loss")
        roles = {case.role for case in cases}
        compared = ["precision"] if roles & {"fp32", "fp64"} else []
        compared += ["regularization"] if "double" in roles else []
        fig.suptitle(f"{pde_title(ref.pde, ref.params)}: {' and '.join(compared)}")
        return fig

    return pn.render("fig4", png, pdf, style, draw)

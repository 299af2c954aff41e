"""Fig. 5: the Table 1 solutions (double PINN, FP64), one column per equation."""
from __future__ import annotations

from typing import Any, Mapping

from pinnfail.products.figures import panels as pn
from pinnfail.products.figures.inputs import check_against_reference, check_roles, figure, given_roles, read_case, read_figure_reference
from pinnfail.products.figures.labels import pde_title, sci, variant


@figure("fig5")
def fig5(runs: Mapping[str, Any], references: Mapping[str, Any], png, pdf,
         style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 5: the Table 1 solutions (double PINN, FP64) of the equations.

    Roles are equation names of the PDE registry, any non-empty subset of them (e.g.
    without an equation whose run a preset leaves out); ``references`` maps each equation
    given to its reference file. One column per equation, in registry order: prediction (on the
    reference's colour scale) and |error| on a log scale of its own, with the
    run's classification (where its evaluation has one) and rMAE in the titles.
    """
    check_roles("fig5", runs)
    roles = given_roles("fig5", runs)
    if not isinstance(references, Mapping):
        raise ValueError("fig5: references must map pde -> reference file, "
                         f"got {type(references).__name__}")
    unknown = [k for k in references if k not in roles]
    missing = [k for k in roles if k not in references]
    if unknown or missing:
        raise ValueError(f"fig5: references must be given for exactly the runs' equations {list(roles)}"
                         + (f"; unknown {unknown}" if unknown else "")
                         + (f"; missing {missing}" if missing else ""))
    refs = {name: read_figure_reference("fig5", f"reference {name!r}", references[name]) for name in roles}
    cases = [read_case("fig5", name, runs[name]) for name in roles]
    for case in cases:
        check_against_reference("fig5", case, refs[case.role])

    def draw(style):
        fig = pn.new_figure(style, 3.5)
        axes = fig.subplots(2, len(cases), squeeze=False)
        for j, case in enumerate(cases):
            ref, f = refs[case.role], case.fields
            norm, extend = pn.value_norm(ref.u, [f["u_pred"]])
            enorm, eextend = pn.log_norm([f["error"]], style["log_range"])
            im = pn.field_map(axes[0, j], f["u_pred"], f["x"], f["t"], case.pde, cmap=style["cmap"],
                              norm=norm, title=f"{pde_title(case.pde, ref.params, sep=chr(10))}\n"
                              f"{variant(case.config, precision=True, lam=True)}", tlabel=j == 0)
            fig.colorbar(im, ax=axes[0, j], extend=extend, pad=0.02, aspect=15)
            verdict = f"\n({case.classification})" if case.classification is not None else ""
            eim = pn.field_map(axes[1, j], pn.floored(f["error"], enorm), f["x"], f["t"], case.pde,
                               cmap=style["error_cmap"], norm=enorm,
                               title=f"|error|, rMAE {sci(case.metrics.get('rmae'))}{verdict}",
                               tlabel=j == 0)
            fig.colorbar(eim, ax=axes[1, j], extend=eextend, pad=0.02, aspect=15)
        fig.suptitle("Predictions $\\hat u$ (top) and $|\\hat u - u|$ (bottom)")
        return fig

    return pn.render("fig5", png, pdf, style, draw)

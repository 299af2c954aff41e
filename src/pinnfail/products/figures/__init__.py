"""The paper's figures (1, 3, 4, 5, 6) drawn from run, evaluation and reference files.

The figures only read artifacts (``pinnfail.artifacts.formats``): nothing here builds a network;
what a figure needs from one (Fig. 3's residual along a time slice) is computed
by ``pinnfail evaluate`` and stored in eval.h5.

Every figure function takes

* ``runs``: a mapping role -> (run_h5, eval_h5); the roles of each figure are
  declared in ``products.figure_roles`` and all of them are required, except for the
  figures in its ``SUBSET`` (fig4, fig5: any non-empty subset): a missing or unknown
  role is a ValueError naming the allowed ones;
* ``reference`` (``fig5``: ``references``, a mapping pde -> path): the
  reference solution file(s) the evaluations were computed against;
* ``png`` and ``pdf``: output paths. Both are written by ``io.atomic_paths``
  (temporary files in the target folders, then renamed); parent folders are
  created. On any error nothing is written and no temporary file or new folder
  is left;
* ``style``: optional overrides of ``DEFAULT_STYLE`` (unknown keys are errors).

Panels that are compared share their colour scale: the exact/reference
solution and the predictions share vmin/vmax (symmetric about 0 when the
solution changes sign; a prediction outside that range shows as an extended
colour-bar end), and |residual| and |error| maps of different methods share a
logarithmic scale (``LogNorm``; values below its floor are drawn at the floor).
Loss curves: train (solid) and test (dashed) total loss (the sum of the PINN
loss terms, without any regularization penalty) against L-BFGS iteration, one
colour per variant.

Labels of variants are derived from each run's configuration (regularizer,
lambda, precision, grid) and, where the evaluation has one, its classification
("overfit", "not converged", "plateau", "solved"), so a figure says what was
actually run and what came of it; the role name is added, in brackets, where two
variants would otherwise read the same. Only an overfitting run is called a
failure mode. Equation titles come from the PDE registry (title, parameters).

Every run of a figure must be of the reference's PDE and equation parameters
(fig5: run ``pde`` of role ``pde``), and each evaluation file must belong to its
run (same configuration) and to the reference (same grid).

Fig. 3's residual slice: by default (``snap_time_slice``) the requested time
``time_slice`` (0.5) is moved to the sparse run's nearest training time, since
the overfitting signature (residual minima exactly at the collocation x) can
only show on a line through collocation points; a 12x12 grid has no t = 0.5.
The title says which t was used; ``snap_time_slice=false`` keeps t as given.
evaluate stores each run's slices at its own training times and at regular
times; a run without a slice at the chosen t is drawn at its nearest one, and
its legend entry says so.

Figures are ``matplotlib.figure.Figure`` objects (Agg, no pyplot state); the
PNG is exactly ``width`` x ``height`` inches at ``dpi`` (no tight bounding box).
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Mapping

from pinnfail.products.figures.inputs import FIGURES, Case, read_figure_reference
from pinnfail.products.figures.style import DEFAULT_STYLE, resolve_style

for _module in pkgutil.iter_modules(__path__):  # every figure module registers its figures
    importlib.import_module(f"{__name__}.{_module.name}")
for _name in sorted(FIGURES):  # in name order
    FIGURES[_name] = FIGURES.pop(_name)
globals().update(FIGURES)

__all__ = ["DEFAULT_STYLE", "FIGURES", "Case", "make_figure", "resolve_style", *FIGURES]


def make_figure(name: str, runs: Mapping[str, Any], references, png, pdf,
                style: Mapping[str, Any] | None = None) -> dict:
    """Dispatch by figure name. ``references``: a path, or a mapping pde -> path
    (required for fig5; for the others a one-entry mapping is accepted)."""
    if name not in FIGURES:
        raise ValueError(f"figure: unknown figure {name!r}; allowed: {sorted(FIGURES)}")
    if name == "fig5":
        if not isinstance(references, Mapping):
            raise ValueError("fig5: give one reference per equation, as PDE=REF_H5")
        return FIGURES[name](runs, references, png, pdf, style)
    if isinstance(references, Mapping):
        if len(references) != 1:
            raise ValueError(f"{name}: expected one reference file, got {len(references)}")
        (pde, path), = references.items()
        if pde is not None:
            ref_pde = read_figure_reference(name, "reference", path).pde
            if ref_pde != pde:
                raise ValueError(f"{name}: reference {str(path)!r} is for {ref_pde!r}, not {pde!r}")
        references = path
    return FIGURES[name](runs, references, png, pdf, style)


def draw(manifest, png, pdf, caption=None) -> dict:
    """The figure of a ``manifest.Figure`` (PNG and PDF), and its report caption (rst) from its
    runs' evaluations if CAPTION is given."""
    from pinnfail.products.captions import figure_caption
    from pinnfail.artifacts.formats import read_metrics
    from pinnfail.artifacts.files import write_text

    runs = {role: tuple(pair) for role, pair in manifest.runs.items()}
    if not manifest.references:
        raise ValueError(f"{manifest.name}: the manifest names no reference")
    result = make_figure(manifest.name, runs, dict(manifest.references), png, pdf, manifest.style)
    if caption:
        write_text(caption, figure_caption(manifest.name, {role: read_metrics(e) for role, (_, e) in runs.items()}))
    return result

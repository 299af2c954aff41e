"""The paper's figures (1, 3, 4, 5, 6) drawn from run and evaluation files.

Every figure function takes

* ``runs``: a mapping role -> (run_h5, eval_h5); the roles of each figure are
  fixed (``ROLES``) and all of them are required: a missing or unknown role is
  a ValueError naming the allowed ones;
* ``reference`` (``fig5``: ``references``, a mapping pde -> path): the
  reference solution file(s) the evaluations were computed against;
* ``png`` and ``pdf``: output paths. Both are written, atomically (a temporary
  file in the target folder, then ``os.replace``); parent folders are created.
  On any error nothing is written and no temporary file or new folder is left;
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
lambda, precision, grid), so a figure says what was actually run; the role
name is added, in brackets, where two variants would otherwise read the same.

Every run of a figure must be of the reference's PDE and equation parameters
(fig5: run ``pde`` of role ``pde``), and each evaluation file must belong to its
run (same configuration) and to the reference (same grid).

Fig. 3's residual slice: by default (``snap_time_slice``) the requested time
``time_slice`` (0.5) is moved to the sparse run's nearest training time, since
the overfitting signature (residual minima exactly at the collocation x) can
only show on a line through collocation points; a 12x12 grid has no t = 0.5.
The title says which t was used; ``snap_time_slice=false`` keeps t as given.

Figures are ``matplotlib.figure.Figure`` objects (Agg, no pyplot state); the
PNG is exactly ``width`` x ``height`` inches at ``dpi`` (no tight bounding box).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from .pdes import PDES, get_pde  # noqa: E402

DEFAULT_STYLE: dict[str, Any] = {
    "dpi": 150,  # PNG resolution (and that of the PDF's raster maps)
    "width": 7.0,  # figure width in inches
    "height": None,  # figure height in inches; None: a per-figure default
    "cmap": "RdBu_r",  # solution and prediction maps
    "residual_cmap": "viridis",  # |residual| maps (log scale)
    "error_cmap": "magma",  # |error| maps (log scale)
    "font_size": 8,
    "time_slice": 0.5,  # fig3: the time t of the residual slice
    "snap_time_slice": True,  # fig3: move the slice to the sparse run's nearest training time
    "slice_points": 2001,  # fig3: points on the x line of the slice
    "log_range": 1e8,  # largest vmax / vmin of a logarithmic colour scale
    "point_size": 1.5,  # fig1: marker area (pt^2) of the collocation points
    "point_color": "red",  # fig1: colour of the collocation points
}

ROLES: dict[str, tuple[str, ...]] = {
    "fig1": ("failure", "regularized"),
    "fig3": ("sparse", "dense", "regularized"),
    "fig4": ("fp32", "fp64", "double"),
    "fig5": ("convection", "reaction", "wave", "allen_cahn"),
    "fig6": ("none", "l2", "l1", "double"),
}

_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
_REGULARIZER_LABELS = {"none": "PINN", "l2": "L2", "l1": "L1", "double": "double PINN"}
_EVAL_DATASETS = ("x", "t", "u_pred", "error", "residual_x", "residual_t", "residual")


# --- inputs ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Case:
    """One role of a figure: the run, its evaluation fields and metrics."""

    role: str
    run: Any  # evaluate.Run
    fields: dict
    metrics: dict

    @property
    def config(self) -> dict:
        return self.run.config

    @property
    def pde(self) -> str:
        return self.run.config["pde"]


def _existing_file(figure: str, what: str, path) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"{figure}: {what}: expected a file path, got {path!r}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{figure}: {what}: file {str(path)!r} does not exist")
    return path


def _read_eval(figure: str, role: str, path: Path) -> tuple[dict, dict]:
    from .evaluate import read_metrics

    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in _EVAL_DATASETS if k not in f]
            if missing:
                raise ValueError(
                    f"{figure}: role {role!r}: {str(path)!r} is not an evaluation file "
                    f"(missing datasets {missing})"
                )
            fields = {k: np.asarray(f[k][()], dtype=np.float64) for k in _EVAL_DATASETS}
    except OSError as err:
        raise ValueError(f"{figure}: role {role!r}: cannot read {str(path)!r} as HDF5: {err}") from None
    return fields, read_metrics(path)


def _read_case(figure: str, role: str, pair) -> Case:
    from .evaluate import Run

    if isinstance(pair, (str, os.PathLike)) or not hasattr(pair, "__len__") or len(pair) != 2:
        raise ValueError(f"{figure}: role {role!r}: expected a pair (run_h5, eval_h5), got {pair!r}")
    run_path = _existing_file(figure, f"role {role!r} run", pair[0])
    eval_path = _existing_file(figure, f"role {role!r} evaluation", pair[1])
    try:
        run = Run.read(run_path)
    except (OSError, KeyError) as err:
        raise ValueError(f"{figure}: role {role!r}: {str(run_path)!r} is not a run file: {err}") from None
    fields, metrics = _read_eval(figure, role, eval_path)
    eval_config = metrics.get("config")
    # keys known to only one side are skipped: the run schema may gain settings
    differ = sorted(k for k in set(eval_config) & set(run.config)
                    if eval_config[k] != run.config[k]) if isinstance(eval_config, dict) else []
    if differ:
        raise ValueError(
            f"{figure}: role {role!r}: evaluation {str(eval_path)!r} was made from another run "
            f"than {str(run_path)!r} (config differs in {differ})"
        )
    nt, nx = fields["t"].size, fields["x"].size
    for key in ("u_pred", "error"):
        if fields[key].shape != (nt, nx):
            raise ValueError(f"{figure}: role {role!r}: {key} has shape {fields[key].shape}, "
                             f"expected (len(t), len(x)) = ({nt}, {nx})")
    shape = (fields["residual_t"].size, fields["residual_x"].size)
    if fields["residual"].shape != shape:
        raise ValueError(f"{figure}: role {role!r}: residual has shape {fields['residual'].shape}, "
                         f"expected {shape}")
    return Case(role, run, fields, metrics)


def _read_reference(figure: str, what: str, path):
    from .reference import read_reference

    path = _existing_file(figure, what, path)
    try:
        return read_reference(path)
    except (OSError, KeyError) as err:
        raise ValueError(f"{figure}: {what}: {str(path)!r} is not a reference file: {err}") from None


def _check_roles(figure: str, runs) -> None:
    if not isinstance(runs, Mapping):
        raise ValueError(f"{figure}: runs must map role -> (run_h5, eval_h5), got {type(runs).__name__}")
    allowed = ROLES[figure]
    unknown = [r for r in runs if r not in allowed]
    if unknown:
        raise ValueError(f"{figure}: unknown role(s) {unknown}; allowed: {list(allowed)}")
    missing = [r for r in allowed if r not in runs]
    if missing:
        raise ValueError(f"{figure}: missing role(s) {missing}; {figure} needs all of {list(allowed)}")


def _check_against_reference(figure: str, case: Case, ref) -> None:
    if case.pde != ref.pde:
        raise ValueError(f"{figure}: role {case.role!r} is a {case.pde!r} run, "
                         f"but the reference is for {ref.pde!r}")
    run_params = get_pde(case.pde).params(case.config.get("pde_params"))
    ref_params = dict(ref.params or {})
    differ = sorted(k for k in run_params if k in ref_params
                    and not math.isclose(run_params[k], float(ref_params[k]), rel_tol=1e-12))
    if differ:
        raise ValueError(f"{figure}: role {case.role!r}: the run's equation parameters differ from "
                         f"the reference's in {differ}")
    x, t = case.fields["x"], case.fields["t"]
    if x.shape != ref.x.shape or t.shape != ref.t.shape or not (
        np.allclose(x, ref.x) and np.allclose(t, ref.t)
    ):
        raise ValueError(
            f"{figure}: role {case.role!r}: its evaluation grid ({x.size} x, {t.size} t) is not the "
            f"reference's ({ref.x.size} x, {ref.t.size} t); evaluate the run against this reference"
        )


def _load(figure: str, runs, reference) -> tuple[list[Case], Any]:
    """Cases in the figure's role order and the reference, all checked."""
    _check_roles(figure, runs)
    ref = _read_reference(figure, "reference", reference)
    cases = [_read_case(figure, role, runs[role]) for role in ROLES[figure]]
    for case in cases:
        _check_against_reference(figure, case, ref)
    return cases, ref


# --- style -----------------------------------------------------------------------------


def _as_bool(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
        return False
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise ValueError(f"style.{key}: expected true or false, got {value!r}")


def _as_number(key: str, value, *, positive: bool = True, integer: bool = False) -> float | int:
    if isinstance(value, bool):
        raise ValueError(f"style.{key}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"style.{key}: expected a number, got {value!r}") from None
    if not math.isfinite(number) or (positive and number <= 0):
        raise ValueError(f"style.{key}: expected a finite{' positive' if positive else ''} number, "
                         f"got {value!r}")
    if integer:
        if number != int(number):
            raise ValueError(f"style.{key}: expected an integer, got {value!r}")
        return int(number)
    return number


def _as_cmap(key: str, value) -> str:
    if not isinstance(value, str) or value not in matplotlib.colormaps:
        raise ValueError(f"style.{key}: unknown matplotlib colormap {value!r}")
    return value


def _as_color(key: str, value) -> str:
    if not isinstance(value, str) or not matplotlib.colors.is_color_like(value):
        raise ValueError(f"style.{key}: not a matplotlib colour: {value!r}")
    return value


_STYLE_CHECKS: dict[str, Callable] = {
    "dpi": lambda v: _as_number("dpi", v),
    "width": lambda v: _as_number("width", v),
    "height": lambda v: None if v is None or (isinstance(v, str) and v.lower() in ("none", "auto"))
    else _as_number("height", v),
    "cmap": lambda v: _as_cmap("cmap", v),
    "residual_cmap": lambda v: _as_cmap("residual_cmap", v),
    "error_cmap": lambda v: _as_cmap("error_cmap", v),
    "font_size": lambda v: _as_number("font_size", v),
    "time_slice": lambda v: _as_number("time_slice", v, positive=False),
    "snap_time_slice": lambda v: _as_bool("snap_time_slice", v),
    "slice_points": lambda v: _as_number("slice_points", v, integer=True),
    "log_range": lambda v: _as_number("log_range", v),
    "point_size": lambda v: _as_number("point_size", v),
    "point_color": lambda v: _as_color("point_color", v),
}


def resolve_style(style: Mapping[str, Any] | None = None) -> dict:
    """``DEFAULT_STYLE`` with ``style`` applied and checked; unknown keys are errors."""
    style = dict(style or {})
    unknown = sorted(set(style) - set(DEFAULT_STYLE))
    if unknown:
        raise ValueError(f"style: unknown key(s) {unknown}; allowed: {sorted(DEFAULT_STYLE)}")
    merged = {**DEFAULT_STYLE, **style}
    merged = {key: _STYLE_CHECKS[key](value) for key, value in merged.items()}
    if merged["slice_points"] < 2:
        raise ValueError(f"style.slice_points: must be >= 2, got {merged['slice_points']}")
    if merged["log_range"] <= 1:
        raise ValueError(f"style.log_range: must be > 1, got {merged['log_range']}")
    return merged


def _rc(style: dict) -> dict:
    fs = style["font_size"]
    return {
        "font.size": fs,
        "axes.titlesize": fs,
        "axes.labelsize": fs,
        "xtick.labelsize": fs - 1,
        "ytick.labelsize": fs - 1,
        "legend.fontsize": fs - 1,
        "figure.titlesize": fs + 1,
        "axes.titlepad": 3,
        "xtick.major.pad": 2,
        "ytick.major.pad": 2,
        "axes.labelpad": 1.5,
        "lines.linewidth": 1.0,
        "pdf.fonttype": 42,
        "savefig.dpi": style["dpi"],
    }


# --- output ----------------------------------------------------------------------------


def _check_outputs(figure: str, png, pdf) -> tuple[Path, Path]:
    out = []
    for what, path in (("png", png), ("pdf", pdf)):
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ValueError(f"{figure}: {what}: expected an output path, got {path!r}")
        path = Path(path)
        if path.suffix.lower() != f".{what}":
            raise ValueError(f"{figure}: {what}: output {str(path)!r} must end in .{what}")
        if path.is_dir():
            raise ValueError(f"{figure}: {what}: output {str(path)!r} is a directory")
        out.append(path)
    return out[0], out[1]


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; the ones created, outermost first."""
    missing = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        missing.append(parent)
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_atomic(fig, png: Path, pdf: Path, dpi: float) -> None:
    """Write ``fig`` as PNG and PDF; both appear (os.replace) only once both rendered."""
    created: list[Path] = []
    temps: list[tuple[str, Path]] = []
    try:
        for path, fmt in ((png, "png"), (pdf, "pdf")):
            created += _make_dirs(path.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            temps.append((tmp, path))
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would survive os.replace
            metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _render(figure: str, png, pdf, style, draw: Callable[[dict], Any]) -> dict:
    """Check outputs and style, draw with the style's rc settings, save atomically."""
    png, pdf = _check_outputs(figure, png, pdf)
    style = resolve_style(style)
    with matplotlib.rc_context(_rc(style)):
        fig = draw(style)  # a pyplot-free Figure: nothing to close, nothing global
        save_atomic(fig, png, pdf, style["dpi"])
    return {"figure": figure, "png": str(png), "pdf": str(pdf)}


def _new_figure(style: dict, height: float):
    width = style["width"]
    height = style["height"] or height * width / 7.0
    fig = Figure(figsize=(width, height), layout="constrained", dpi=style["dpi"])
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.03, hspace=0.03)
    return fig


# --- labels ----------------------------------------------------------------------------


def _lambda_text(value: float) -> str:
    mantissa, exponent = f"{value:.0e}".split("e")
    if float(mantissa) == 1:
        return f"$\\lambda=10^{{{int(exponent)}}}$"
    return f"$\\lambda={float(mantissa):g}\\times10^{{{int(exponent)}}}$"


def _variant(config: dict, *, precision: bool = False, grid: bool = False, lam: bool = False) -> str:
    text = _REGULARIZER_LABELS.get(config["regularizer"], config["regularizer"])
    if lam and config["regularizer"] != "none" and config["lambda"] > 0:
        text += f" ({_lambda_text(config['lambda'])})"
    if precision:
        text += " " + config["precision"].upper()
    if grid:
        nx, nt = config["grid"]
        text += f", {nx}$\\times${nt}"
    return text


def _labels(cases: list[Case], **how) -> dict[str, str]:
    """Variant labels from the configs; where labels collide the role is added, on a
    second line (``_title`` and ``_inline`` place it)."""
    labels = {c.role: _variant(c.config, **how) for c in cases}
    counts = {v: list(labels.values()).count(v) for v in labels.values()}
    return {role: f"{text}\n[{role}]" if counts[text] > 1 else text for role, text in labels.items()}


def _title(label: str, what: str = "") -> str:
    """A panel title: 'label: what', with a role line (if any) below."""
    head, _, role = label.partition("\n")
    text = f"{head}: {what}" if what else head
    return f"{text}\n{role}" if role else text


def _inline(label: str) -> str:
    return label.replace("\n", " ")


def _pde_title(pde_name: str, params: Mapping[str, float] | None = None) -> str:
    pde = get_pde(pde_name)
    p = pde.params({k: v for k, v in (params or {}).items() if k in pde.defaults})
    if pde_name == "convection":
        return f"{pde.title} ($\\beta={p['beta']:g}$)"
    if pde_name == "reaction":
        return f"{pde.title} ($\\rho={p['rho']:g}$)"
    if pde_name == "wave":
        return f"{pde.title} ($c={p['c']:g}$, $\\beta={p['beta']:g}$)"
    return pde.title


def _sci(value: float) -> str:
    if value is None or not np.isfinite(value):
        return str(value)
    return f"{value:.1e}"


# --- panels ----------------------------------------------------------------------------


def _edges(v: np.ndarray) -> tuple[float, float]:
    if v.size < 2:
        return float(v[0]) - 0.5, float(v[0]) + 0.5
    return float(v[0] - (v[1] - v[0]) / 2), float(v[-1] + (v[-1] - v[-2]) / 2)


def _style_x_axis(ax, pde_name: str) -> None:
    pde = get_pde(pde_name)
    if abs((pde.x1 - pde.x0) - 2 * math.pi) < 1e-9 and abs(pde.x0) < 1e-12:
        ax.set_xticks([0, math.pi, 2 * math.pi], ["0", "$\\pi$", "$2\\pi$"])


def _map(ax, data: np.ndarray, x: np.ndarray, t: np.ndarray, pde_name: str, *, cmap, norm,
         title: str, xlabel: bool = True, tlabel: bool = True):
    """A field u[i_t, j_x] drawn over the (x, t) domain, x horizontal."""
    pde = get_pde(pde_name)
    (x_lo, x_hi), (t_lo, t_hi) = _edges(x), _edges(t)
    image = ax.imshow(np.asarray(data), origin="lower", extent=(x_lo, x_hi, t_lo, t_hi),
                      aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_xlim(pde.x0, pde.x1)
    ax.set_ylim(pde.t0, pde.t1)
    _style_x_axis(ax, pde_name)
    ax.set_title(title)
    if xlabel:
        ax.set_xlabel("$x$")
    if tlabel:
        ax.set_ylabel("$t$")
    return image


def _value_norm(u_ref: np.ndarray, others: list[np.ndarray]) -> tuple[Normalize, str]:
    """Shared scale of a solution and its predictions: the reference's range (symmetric
    about 0 when it changes sign); ``extend`` says whether predictions leave it."""
    lo, hi = float(np.min(u_ref)), float(np.max(u_ref))
    if lo < 0 < hi:
        hi = max(-lo, hi)
        lo = -hi
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    below = any(np.nanmin(o) < lo - 1e-9 * (hi - lo) for o in others)
    above = any(np.nanmax(o) > hi + 1e-9 * (hi - lo) for o in others)
    extend = {(False, False): "neither", (True, False): "min", (False, True): "max",
              (True, True): "both"}[(below, above)]
    return Normalize(lo, hi), extend


def _log_norm(arrays: list[np.ndarray], log_range: float) -> tuple[LogNorm, str]:
    """A LogNorm shared by |arrays|: vmax the largest value, vmin the smallest (0.5th
    percentile of positive values) but no more than ``log_range`` below vmax."""
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    finite = [a for a in finite if a.size]
    vmax = max((float(a.max()) for a in finite), default=1.0)
    positive = [a[a > 0] for a in finite]
    positive = [a for a in positive if a.size]
    if vmax <= 0 or not positive:
        return LogNorm(1e-16, 1.0), "min"
    vmin = min(float(np.percentile(a, 0.5)) for a in positive)
    vmin = max(vmin, vmax / log_range)
    if vmin >= vmax:
        vmin = vmax / 10
    clipped = any(float(a.min()) < vmin for a in finite)
    return LogNorm(vmin, vmax), "min" if clipped else "neither"


def _floored(a: np.ndarray, norm: LogNorm) -> np.ndarray:
    a = np.abs(np.asarray(a, dtype=np.float64))
    return np.where(np.isfinite(a), np.maximum(a, norm.vmin), np.nan)


def _positive(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _loss_panel(ax, cases: list[Case], labels: dict[str, str], colors: dict[str, str], title: str):
    """Train (solid) and test (dashed) total loss against iteration, semilogy."""
    handles = []
    for case in cases:
        h = case.run.history
        color = colors[case.role]
        ax.semilogy(h["iteration"], _positive(h["train_total"]), color=color, ls="-")
        ax.semilogy(h["iteration"], _positive(h["test_total"]), color=color, ls="--")
        handles.append(Line2D([], [], color=color, ls="-", label=_inline(labels[case.role])))
    if len(cases) == 1:
        color = colors[cases[0].role]
        handles = [Line2D([], [], color=color, ls="-", label="train"),
                   Line2D([], [], color=color, ls="--", label="test")]
    else:
        handles += [Line2D([], [], color="0.3", ls="-", label="train"),
                    Line2D([], [], color="0.3", ls="--", label="test")]
    ax.legend(handles=handles, frameon=False, handlelength=2.0, labelspacing=0.25,
              borderaxespad=0.2)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3, lw=0.5)
    _tidy_iterations(ax)
    _log_ticks(ax)


def _tidy_iterations(ax) -> None:
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4), useMathText=True)
    ax.set_xlim(left=0)


def _metrics_panel(ax, cases: list[Case], labels: dict[str, str], colors: dict[str, str], *,
                   rmae: bool = True) -> None:
    """A text panel per variant: its label, settings, iterations, (rMAE) and final
    train / test loss."""
    from matplotlib.offsetbox import AnchoredOffsetbox, TextArea, VPacker

    ax.axis("off")
    size = matplotlib.rcParams["font.size"] - 1.5
    blocks = []
    for case in cases:
        m = case.metrics
        counts = f"{int(m.get('iterations', 0))} it" + (f", rMAE {_sci(m.get('rmae'))}" if rmae else "")
        lines = [_details(case.config), counts]  # short lines: the panel must not reach the next axes
        lines.append(f"loss {_sci(m.get('train_loss'))} / {_sci(m.get('test_loss'))}")
        head = TextArea(labels[case.role], textprops={"color": colors[case.role], "size": size + 0.5,
                                                       "weight": "bold", "linespacing": 1.1})
        body = TextArea("\n".join(lines), textprops={"size": size, "linespacing": 1.2})
        blocks.append(VPacker(children=[head, body], pad=0, sep=1, align="left"))
    blocks.append(TextArea("loss: final train / test", textprops={"size": size, "color": "0.35",
                                                                   "style": "italic"}))
    box = AnchoredOffsetbox(loc="upper left", child=VPacker(children=blocks, pad=0, sep=4,
                                                            align="left"),
                            pad=0, borderpad=0, frameon=False, bbox_to_anchor=(0, 1),
                            bbox_transform=ax.transAxes)
    box.set_in_layout(False)
    ax.add_artist(box)


def _details(config: dict) -> str:
    nx, nt = config["grid"]
    text = f"{config['precision'].upper()}, {nx}$\\times${nt}"
    if config["regularizer"] != "none":
        text += f", {_lambda_text(config['lambda'])}"
    return text


def _log_ticks(ax, axis: str = "y") -> None:
    """Log-axis tick labels: decades only when the axis spans two or more of them;
    between one and two decades also 2 and 5 times a power of ten (matplotlib's own
    choice crowds there)."""
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullFormatter

    which = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if not (lo > 0 and hi / lo >= 10):  # under a decade matplotlib's own labels do well
        return
    if hi / lo >= 100:
        which.set_minor_formatter(NullFormatter())
    else:
        which.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        which.set_minor_formatter(LogFormatterSciNotation(labelOnlyBase=False,
                                                          minor_thresholds=(math.inf, math.inf)))


def _colors(cases: list[Case]) -> dict[str, str]:
    return {c.role: _COLORS[i % len(_COLORS)] for i, c in enumerate(cases)}


# --- figures ---------------------------------------------------------------------------


def fig1(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 1: a failure mode is overfitting (convection, FP32).

    Roles ``failure`` (no regularizer) and ``regularized``. A 2x4 grid: top row
    exact solution, failure prediction, failure |residual| with the training
    collocation points, failure train/test loss; bottom row a metrics panel,
    regularized prediction, |residual| and train/test loss. Predictions share the
    exact solution's colour scale; the two |residual| maps share a log scale; the
    two loss panels share their y axis.
    """
    cases, ref = _load("fig1", runs, reference)

    def draw(style):
        failure, regularized = cases
        labels, colors = _labels(cases), _colors(cases)
        fig = _new_figure(style, 3.7)
        axes = fig.subplots(2, 4, gridspec_kw={"width_ratios": [1, 1.2, 1.2, 1.1]})
        axes[1, 3].sharey(axes[0, 3])
        pde = ref.pde
        value_norm, extend = _value_norm(ref.u, [c.fields["u_pred"] for c in cases])
        res_norm, res_extend = _log_norm([c.fields["residual"] for c in cases], style["log_range"])
        _map(axes[0, 0], ref.u, ref.x, ref.t, pde, cmap=style["cmap"], norm=value_norm,
             title="exact $u$")
        for row, case in ((0, failure), (1, regularized)):
            f = case.fields
            im = _map(axes[row, 1], f["u_pred"], f["x"], f["t"], pde, cmap=style["cmap"],
                      norm=value_norm, title=_title(labels[case.role], "$\\hat u$"), tlabel=row == 1)
            rim = _map(axes[row, 2], _floored(f["residual"], res_norm), f["residual_x"],
                       f["residual_t"], pde, cmap=style["residual_cmap"], norm=res_norm,
                       title=_title(labels[case.role], "|residual|"), tlabel=False)
            for ax in axes[row, 1:3]:
                ax.title.set_color(colors[case.role])
            _loss_panel(axes[row, 3], [case], labels, colors, _title(labels[case.role], "loss"))
            axes[row, 3].title.set_color(colors[case.role])
            fig.colorbar(im, ax=axes[row, 1], extend=extend, aspect=15, pad=0.02)
            fig.colorbar(rim, ax=axes[row, 2], extend=res_extend, aspect=15, pad=0.02)
        pts = failure.run.points["domain"]
        axes[0, 2].scatter(pts[:, 0], pts[:, 1], s=style["point_size"], c=style["point_color"],
                           linewidths=0, zorder=3)
        _log_ticks(axes[0, 3])
        _metrics_panel(axes[1, 0], cases, labels, colors)
        fig.suptitle(f"{_pde_title(pde, ref.params)}, {failure.config['precision'].upper()}: "
                     f"failure mode (top, {style['point_color']} dots: collocation points) "
                     "and regularized (bottom)")
        return fig

    return _render("fig1", png, pdf, style, draw)


def _time_slice(style: dict, sparse: Case) -> tuple[float, str]:
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


def _residual_line(case: Case, x: np.ndarray, t: float) -> np.ndarray:
    import jax.numpy as jnp

    from .evaluate import field_functions

    _, residual = field_functions(case.config, case.run.params)
    r = residual(jnp.asarray(x), jnp.full(x.shape, t, dtype=jnp.asarray(x).dtype))
    return np.abs(np.asarray(r, dtype=np.float64))


def _solutions_block(fig, cases: list[Case], ref, labels, colors, style, *, pred_title: str):
    """Reference and predictions (shared linear scale) over |error| maps (shared log
    scale) with a metrics panel under the reference; returns the axes grid."""
    n = len(cases)
    axes = fig.subplots(2, n + 1)
    pde = ref.pde
    value_norm, extend = _value_norm(ref.u, [c.fields["u_pred"] for c in cases])
    err_norm, err_extend = _log_norm([c.fields["error"] for c in cases], style["log_range"])
    _map(axes[0, 0], ref.u, ref.x, ref.t, pde, cmap=style["cmap"], norm=value_norm,
         title="exact $u$" if get_pde(pde).exact is not None else "reference $u$")
    for j, case in enumerate(cases, start=1):
        f = case.fields
        im = _map(axes[0, j], f["u_pred"], f["x"], f["t"], pde, cmap=style["cmap"], norm=value_norm,
                  title=_title(labels[case.role]), tlabel=False)
        eim = _map(axes[1, j], _floored(f["error"], err_norm), f["x"], f["t"], pde,
                   cmap=style["error_cmap"], norm=err_norm,
                   title=f"rMAE {_sci(case.metrics.get('rmae'))}", tlabel=j == 1)
        axes[0, j].title.set_color(colors[case.role])
    _metrics_panel(axes[1, 0], cases, labels, colors, rmae=False)
    fig.colorbar(im, ax=list(axes[0, :]), extend=extend, label=f"{pred_title}", pad=0.01,
                 aspect=12)
    fig.colorbar(eim, ax=list(axes[1, 1:]), extend=err_extend, label="|error| $|\\hat u - u|$", pad=0.01,
                 aspect=12)
    return axes


def fig3(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 3: wave (FP64) with few collocation points.

    Roles ``sparse`` (no regularizer, few points), ``dense`` (no regularizer,
    many points) and ``regularized`` (double PINN, few points). Top: exact
    solution and the three predictions (shared scale), their |error| (shared log
    scale) and a metrics panel. Bottom: |PDE residual| along the time slice
    ``style["time_slice"]`` (by default moved to the sparse run's nearest
    training time, ``snap_time_slice``, so that the slice passes through its
    collocation points) on a fine x line, for the three runs, with the sparse
    run's collocation x positions as vertical lines.
    """
    cases, ref = _load("fig3", runs, reference)
    sparse = cases[0]

    def draw(style):
        t_s, note = _time_slice(style, sparse)
        pde = get_pde(ref.pde)
        x_line = np.linspace(pde.x0, pde.x1, style["slice_points"])
        lines = {c.role: _residual_line(c, x_line, t_s) for c in cases}
        labels, colors = _labels(cases, grid=True), _colors(cases)
        fig = _new_figure(style, 5.2)
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.1, 1.5], hspace=0.02)
        axes = _solutions_block(top, cases, ref, labels, colors, style, pred_title="$u$, $\\hat u$")
        for ax in axes[0, 1:]:
            ax.axhline(t_s, color="k", lw=0.6, ls=":")
        ax = bottom.subplots()
        x_coll = np.unique(np.asarray(sparse.run.points["domain"][:, 0], dtype=np.float64))
        for i, xc in enumerate(x_coll):
            ax.axvline(xc, color="0.6", lw=0.6, ls=":", zorder=0,
                       label=f"collocation $x$ of the {sparse.role} run" if i == 0 else None)
        for case in cases:
            ax.semilogy(x_line, _positive(lines[case.role]), color=colors[case.role],
                        label=_inline(labels[case.role]))
        ax.set_xlim(pde.x0, pde.x1)
        _style_x_axis(ax, ref.pde)
        ax.set_xlabel("$x$")
        ax.set_ylabel("|residual|")
        ax.set_title(f"|PDE residual| at $t = {t_s:.4g}${note}")
        ax.legend(frameon=False, ncols=2, loc="best", labelspacing=0.25)
        ax.grid(True, which="major", axis="y", alpha=0.3, lw=0.5)
        _log_ticks(ax)
        fig.suptitle(f"{_pde_title(ref.pde, ref.params)}, {sparse.config['precision'].upper()}: "
                     "few collocation points, many points, regularized")
        return fig

    return _render("fig3", png, pdf, style, draw)


def fig4(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 4: Allen-Cahn, FP32 vs FP64 vs FP64 double PINN.

    Roles ``fp32``, ``fp64`` and ``double``. Top: reference and the three
    predictions (shared scale), their |error| (shared log scale) and a metrics
    panel. Bottom: train (solid) and test (dashed) loss of the three.
    """
    cases, ref = _load("fig4", runs, reference)

    def draw(style):
        labels, colors = _labels(cases, precision=True), _colors(cases)
        fig = _new_figure(style, 5.2)
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.1, 1.5], hspace=0.02)
        _solutions_block(top, cases, ref, labels, colors, style, pred_title="$u$, $\\hat u$")
        ax = bottom.subplots()
        _loss_panel(ax, cases, labels, colors, "train (solid) and test (dashed) loss")
        fig.suptitle(f"{_pde_title(ref.pde, ref.params)}: precision and regularization")
        return fig

    return _render("fig4", png, pdf, style, draw)


def fig5(runs: Mapping[str, Any], references: Mapping[str, Any], png, pdf,
         style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 5: the Table 1 solutions (double PINN, FP64) of the four equations.

    Roles are the equation names (``convection``, ``reaction``, ``wave``,
    ``allen_cahn``); ``references`` maps each of them to its reference file.
    One column per equation: prediction (on the reference's colour scale) and
    |error| on a log scale of its own, with the rMAE in the title.
    """
    _check_roles("fig5", runs)
    if not isinstance(references, Mapping):
        raise ValueError("fig5: references must map pde -> reference file, "
                         f"got {type(references).__name__}")
    unknown = [k for k in references if k not in ROLES["fig5"]]
    missing = [k for k in ROLES["fig5"] if k not in references]
    if unknown or missing:
        raise ValueError(f"fig5: references must be given for exactly {list(ROLES['fig5'])}"
                         + (f"; unknown {unknown}" if unknown else "")
                         + (f"; missing {missing}" if missing else ""))
    refs = {name: _read_reference("fig5", f"reference {name!r}", references[name])
            for name in ROLES["fig5"]}
    cases = [_read_case("fig5", name, runs[name]) for name in ROLES["fig5"]]
    for case in cases:
        _check_against_reference("fig5", case, refs[case.role])

    def draw(style):
        fig = _new_figure(style, 3.5)
        axes = fig.subplots(2, len(cases))
        for j, case in enumerate(cases):
            ref, f = refs[case.role], case.fields
            norm, extend = _value_norm(ref.u, [f["u_pred"]])
            enorm, eextend = _log_norm([f["error"]], style["log_range"])
            im = _map(axes[0, j], f["u_pred"], f["x"], f["t"], case.pde, cmap=style["cmap"],
                      norm=norm, title=f"{_pde_title(case.pde, ref.params)}\n"
                      f"{_variant(case.config, precision=True, lam=True)}", tlabel=j == 0)
            fig.colorbar(im, ax=axes[0, j], extend=extend, pad=0.02, aspect=15)
            eim = _map(axes[1, j], _floored(f["error"], enorm), f["x"], f["t"], case.pde,
                       cmap=style["error_cmap"], norm=enorm,
                       title=f"|error|, rMAE {_sci(case.metrics.get('rmae'))}", tlabel=j == 0)
            fig.colorbar(eim, ax=axes[1, j], extend=eextend, pad=0.02, aspect=15)
        fig.suptitle("Predictions $\\hat u$ (top) and $|\\hat u - u|$ (bottom)")
        return fig

    return _render("fig5", png, pdf, style, draw)


def fig6(runs: Mapping[str, Any], reference, png, pdf, style: Mapping[str, Any] | None = None) -> dict:
    """Fig. 6: regularizers compared on convection.

    Roles ``none``, ``l2``, ``l1`` and ``double``. Top: train (solid) and test
    (dashed) loss against iteration for the four, and the test rMAE (the
    history's ``test_rmae``, on the test domain points; the PDE needs an exact
    solution) against iteration. Bottom: |residual| maps of the four with a
    shared log colour scale.
    """
    cases, ref = _load("fig6", runs, reference)
    for case in cases:
        if "test_rmae" not in case.run.history:
            raise ValueError(f"fig6: role {case.role!r}: the run history has no test_rmae "
                             f"(the {case.pde!r} equation has no exact solution)")

    def draw(style):
        labels, colors = _labels(cases, lam=True), _colors(cases)
        fig = _new_figure(style, 4.4)
        top, bottom = fig.subfigures(2, 1, height_ratios=[2.3, 1.7], hspace=0.02)
        ax_loss, ax_err = top.subplots(1, 2)
        _loss_panel(ax_loss, cases, labels, colors, "train (solid) and test (dashed) loss")
        for case in cases:
            h = case.run.history
            ax_err.semilogy(h["iteration"], _positive(h["test_rmae"]), color=colors[case.role],
                            label=_inline(labels[case.role]))
        ax_err.set_xlabel("iteration")
        ax_err.set_ylabel("test rMAE")
        ax_err.set_title("relative mean absolute error (test points)")
        ax_err.grid(True, which="major", alpha=0.3, lw=0.5)
        ax_err.legend(frameon=False, labelspacing=0.25)
        _tidy_iterations(ax_err)
        _log_ticks(ax_err)
        axes = bottom.subplots(1, len(cases))
        norm, extend = _log_norm([c.fields["residual"] for c in cases], style["log_range"])
        for j, (ax, case) in enumerate(zip(axes, cases)):
            f = case.fields
            im = _map(ax, _floored(f["residual"], norm), f["residual_x"], f["residual_t"], case.pde,
                      cmap=style["residual_cmap"], norm=norm, title=_title(labels[case.role]),
                      tlabel=j == 0)
            ax.title.set_color(colors[case.role])
        bottom.colorbar(im, ax=list(axes), extend=extend, label="|residual|", pad=0.01, aspect=12)
        cfg = cases[0].config
        fig.suptitle(f"{_pde_title(ref.pde, ref.params)}, {cfg['precision'].upper()}, "
                     f"{cfg['grid'][0]}$\\times${cfg['grid'][1]} grid: regularizers")
        return fig

    return _render("fig6", png, pdf, style, draw)


FIGURES: dict[str, Callable] = {"fig1": fig1, "fig3": fig3, "fig4": fig4, "fig5": fig5, "fig6": fig6}


def make_figure(name: str, runs: Mapping[str, Any], references, png, pdf,
                style: Mapping[str, Any] | None = None) -> dict:
    """Dispatch by figure name. ``references``: a path, or a mapping pde -> path
    (required for fig5; for the others a one-entry mapping is accepted)."""
    if name not in FIGURES:
        raise ValueError(f"figure: unknown figure {name!r}; allowed: {sorted(FIGURES)}")
    if name == "fig5":
        if not isinstance(references, Mapping):
            raise ValueError("fig5: give one reference per equation, as PDE=REF_H5")
        return fig5(runs, references, png, pdf, style)
    if isinstance(references, Mapping):
        if len(references) != 1:
            raise ValueError(f"{name}: expected one reference file, got {len(references)}")
        (pde, path), = references.items()
        if pde is not None:
            ref_pde = _read_reference(name, "reference", path).pde
            if ref_pde != pde:
                raise ValueError(f"{name}: reference {str(path)!r} is for {ref_pde!r}, not {pde!r}")
        references = path
    return FIGURES[name](runs, references, png, pdf, style)


# --- command line ----------------------------------------------------------------------


def _split_run(item: str) -> tuple[str, tuple[str, str]]:
    """ROLE=RUN_H5:EVAL_H5; a path containing ':' is resolved by which files exist."""
    role, sep, rest = item.partition("=")
    if not sep or not role or not rest:
        raise ValueError(f"figure --run: expected ROLE=RUN_H5:EVAL_H5, got {item!r}")
    cuts = [i for i, ch in enumerate(rest) if ch == ":" and 0 < i < len(rest) - 1]
    if not cuts:
        raise ValueError(f"figure --run {role}: expected RUN_H5:EVAL_H5 after '=', got {rest!r}")
    if len(cuts) > 1:
        existing = [i for i in cuts if Path(rest[:i]).is_file() and Path(rest[i + 1:]).is_file()]
        if len(existing) != 1:
            raise ValueError(f"figure --run {role}: cannot split {rest!r} into RUN_H5:EVAL_H5 "
                             "unambiguously (paths contain ':')")
        cuts = existing
    i = cuts[0]
    return role, (rest[:i], rest[i + 1:])


def parse_runs(items) -> dict[str, tuple[str, str]]:
    runs: dict[str, tuple[str, str]] = {}
    for item in items or []:
        role, pair = _split_run(item)
        if role in runs:
            raise ValueError(f"figure --run: role {role!r} given twice")
        runs[role] = pair
    return runs


def parse_references(items) -> dict:
    """[PDE=]REF_H5 items -> {pde or None: path}; a prefix counts as a PDE only if it names one."""
    refs: dict = {}
    for item in items or []:
        pde, sep, path = item.partition("=")
        if sep and pde in PDES and path:
            key = pde
        elif sep and pde not in PDES and not Path(item).exists():
            raise ValueError(f"figure --reference: unknown equation {pde!r} in {item!r}; "
                             f"allowed: {sorted(PDES)}")
        else:
            key, path = None, item
        if key in refs:
            raise ValueError(f"figure --reference: {'unnamed reference' if key is None else key!r} "
                             "given twice")
        refs[key] = path
    return refs


def parse_style(items) -> dict:
    """KEY=VALUE items -> a style dict (values checked and converted by ``resolve_style``)."""
    style = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"figure --style: expected KEY=VALUE, got {item!r}")
        if key not in DEFAULT_STYLE:
            raise ValueError(f"figure --style: unknown key {key!r}; allowed: {sorted(DEFAULT_STYLE)}")
        style[key] = value
    resolve_style(style)
    return style


def cmd_figure(args) -> None:
    if args.name not in FIGURES:
        raise ValueError(f"unknown figure {args.name!r}; allowed: {sorted(FIGURES)}")
    runs = parse_runs(args.run)
    refs = parse_references(args.reference)
    if not refs:
        raise ValueError("give --reference [PDE=]REF_H5")
    if args.name == "fig5":
        if None in refs:
            raise ValueError("fig5: name each reference as PDE=REF_H5")
        references = refs
    else:
        references = refs if len(refs) != 1 or None not in refs else refs[None]
    result = make_figure(args.name, runs, references, args.png, args.pdf, parse_style(args.style))
    print(json.dumps(result))


def add_figure_parser(subparsers) -> argparse.ArgumentParser:
    """The ``figure`` subcommand: ``figure NAME --run ROLE=RUN_H5:EVAL_H5 ... --reference
    [PDE=]REF_H5 ... --png OUT.png --pdf OUT.pdf [--style KEY=VALUE ...]``."""
    roles = "; ".join(f"{name}: {', '.join(r)}" for name, r in ROLES.items())
    p = subparsers.add_parser(
        "figure", help="draw a paper figure (PNG and PDF) from runs and their evaluations",
        description=f"Draw one of the paper's figures. Roles: {roles}.",
    )
    p.add_argument("name", metavar="NAME", help=f"the figure: {', '.join(FIGURES)}")
    p.add_argument("--run", action="append", required=True, metavar="ROLE=RUN_H5:EVAL_H5",
                   help="a run file and its evaluation file for one role (repeat for every role)")
    p.add_argument("--reference", action="append", required=True, metavar="[PDE=]REF_H5",
                   help="reference solution file; fig5 needs one per equation as PDE=REF_H5")
    p.add_argument("--png", required=True, type=Path, help="PNG to write")
    p.add_argument("--pdf", required=True, type=Path, help="PDF to write")
    p.add_argument("--style", action="append", metavar="KEY=VALUE",
                   help=f"style override, one of {', '.join(DEFAULT_STYLE)}")
    p.set_defaults(func=cmd_figure)
    return p

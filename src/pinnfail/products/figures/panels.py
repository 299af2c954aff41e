"""Panels shared by the figures: maps, colour scales, loss and metrics panels, and the
figure life cycle (a pyplot-free ``Figure``, drawn under the style's rc settings, saved
as PNG and PDF through ``files.atomic_paths``)."""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from pinnfail.artifacts import files
from pinnfail.numerics.pdes import get_pde  # noqa: E402
from pinnfail.products.figures.inputs import Case  # noqa: E402
from pinnfail.products.figures.labels import details, inline, sci, title  # noqa: E402
from pinnfail.products.figures.style import resolve_style, rc_params  # noqa: E402
from pinnfail.numerics import history as H

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


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


def render(figure: str, png, pdf, style, draw: Callable[[dict], Any]) -> dict:
    """Check outputs and style, draw with the style's rc settings, and write PNG and PDF
    atomically: both appear only once both rendered."""
    png, pdf = _check_outputs(figure, png, pdf)
    style = resolve_style(style)
    with matplotlib.rc_context(rc_params(style)):
        fig = draw(style)  # a pyplot-free Figure: nothing to close, nothing global
        with files.atomic_paths(png, pdf) as (tmp_png, tmp_pdf):
            fig.savefig(tmp_png, format="png", dpi=style["dpi"], metadata={"Software": None})
            fig.savefig(tmp_pdf, format="pdf", dpi=style["dpi"], metadata={"CreationDate": None})
    return {"figure": figure, "png": str(png), "pdf": str(pdf)}


def new_figure(style: dict, height: float) -> Figure:
    width = style["width"]
    height = style["height"] or height * width / 7.0
    fig = Figure(figsize=(width, height), layout="constrained", dpi=style["dpi"])
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.03, hspace=0.03)
    return fig


def colors(cases: list[Case]) -> dict[str, str]:
    return {c.role: COLORS[i % len(COLORS)] for i, c in enumerate(cases)}


def _edges(v: np.ndarray) -> tuple[float, float]:
    if v.size < 2:
        return float(v[0]) - 0.5, float(v[0]) + 0.5
    return float(v[0] - (v[1] - v[0]) / 2), float(v[-1] + (v[-1] - v[-2]) / 2)


def style_x_axis(ax, pde_name: str) -> None:
    pde = get_pde(pde_name)
    if abs((pde.x1 - pde.x0) - 2 * math.pi) < 1e-9 and abs(pde.x0) < 1e-12:
        ax.set_xticks([0, math.pi, 2 * math.pi], ["0", "$\\pi$", "$2\\pi$"])


def field_map(ax, data: np.ndarray, x: np.ndarray, t: np.ndarray, pde_name: str, *, cmap, norm,
              title: str, xlabel: bool = True, tlabel: bool = True):
    """A field u[i_t, j_x] drawn over the (x, t) domain, x horizontal."""
    pde = get_pde(pde_name)
    (x_lo, x_hi), (t_lo, t_hi) = _edges(x), _edges(t)
    image = ax.imshow(np.asarray(data), origin="lower", extent=(x_lo, x_hi, t_lo, t_hi),
                      aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_xlim(pde.x0, pde.x1)
    ax.set_ylim(pde.t0, pde.t1)
    style_x_axis(ax, pde_name)
    ax.set_title(title)
    if xlabel:
        ax.set_xlabel("$x$")
    if tlabel:
        ax.set_ylabel("$t$")
    return image


def value_norm(u_ref: np.ndarray, others: list[np.ndarray]) -> tuple[Normalize, str]:
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


def log_norm(arrays: list[np.ndarray], log_range: float) -> tuple[LogNorm, str]:
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


def floored(a: np.ndarray, norm: LogNorm) -> np.ndarray:
    a = np.abs(np.asarray(a, dtype=np.float64))
    return np.where(np.isfinite(a), np.maximum(a, norm.vmin), np.nan)


def positive(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def loss_panel(ax, cases: list[Case], labels: dict[str, str], colors: dict[str, str], title: str):
    """Train (solid) and test (dashed) total loss against iteration, semilogy. The first case is
    drawn on top and each run's last point is marked, so a curve that ends early or runs under
    another is still seen."""
    handles = []
    for rank, case in enumerate(cases):
        h = case.run.history
        color, z = colors[case.role], 2 + len(cases) - rank
        ax.semilogy(h[H.ITERATION], positive(h[H.TRAIN_TOTAL]), color=color, ls="-", zorder=z)
        ax.semilogy(h[H.ITERATION], positive(h[H.TEST_TOTAL]), color=color, ls="--", zorder=z)
        ax.semilogy(h[H.ITERATION][-1:], positive(h[H.TEST_TOTAL][-1:]), color=color, marker="o", ms=2.5,
                    ls="none", zorder=z)
        handles.append(Line2D([], [], color=color, ls="-", label=inline(labels[case.role])))
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
    tidy_iterations(ax)
    log_ticks(ax)


def tidy_iterations(ax) -> None:
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4), useMathText=True)
    ax.set_xlim(left=0)


def metrics_panel(ax, cases: list[Case], labels: dict[str, str], colors: dict[str, str], *,
                   rmae: bool = True) -> None:
    """A text panel per variant: its label, settings, iterations, (rMAE) and final
    train / test loss."""
    from matplotlib.offsetbox import AnchoredOffsetbox, TextArea, VPacker

    ax.axis("off")
    size = matplotlib.rcParams["font.size"] - 1.5
    blocks = []
    for case in cases:
        m = case.metrics
        loss = f"loss {sci(m.get('train_loss'))} / {sci(m.get('test_loss'))}"
        iterations = f"{int(m.get('iterations', 0))} it"
        # short and few lines: the panel must not reach the next axes
        lines = [details(case.config), *([f"{iterations}, rMAE {sci(m.get('rmae'))}", loss] if rmae
                                         else [f"{iterations}, {loss}"])]
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


def log_ticks(ax, axis: str = "y") -> None:
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


def solutions_block(fig, cases: list[Case], ref, labels, colors, style, *, pred_title: str):
    """Reference and predictions (shared linear scale) over |error| maps (shared log
    scale) with a metrics panel under the reference; returns the axes grid."""
    n = len(cases)
    axes = fig.subplots(2, n + 1)
    pde = ref.pde
    vnorm, extend = value_norm(ref.u, [c.fields["u_pred"] for c in cases])
    enorm, err_extend = log_norm([c.fields["error"] for c in cases], style["log_range"])
    field_map(axes[0, 0], ref.u, ref.x, ref.t, pde, cmap=style["cmap"], norm=vnorm,
              title="exact $u$" if get_pde(pde).exact is not None else "reference $u$")
    for j, case in enumerate(cases, start=1):
        f = case.fields
        im = field_map(axes[0, j], f["u_pred"], f["x"], f["t"], pde, cmap=style["cmap"], norm=vnorm,
                       title=title(labels[case.role]), tlabel=False)
        eim = field_map(axes[1, j], floored(f["error"], enorm), f["x"], f["t"], pde,
                        cmap=style["error_cmap"], norm=enorm,
                        title=f"rMAE {sci(case.metrics.get('rmae'))}", tlabel=j == 1)
        axes[0, j].title.set_color(colors[case.role])
    metrics_panel(axes[1, 0], cases, labels, colors, rmae=False)
    fig.colorbar(im, ax=list(axes[0, :]), extend=extend, label=f"{pred_title}", pad=0.01,
                 aspect=12)
    fig.colorbar(eim, ax=list(axes[1, 1:]), extend=err_extend, label="|error| $|\\hat u - u|$",
                 pad=0.01, aspect=12)
    return axes

"""Figure style: ``DEFAULT_STYLE``, its checks, and matplotlib rc settings from it."""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import matplotlib
import matplotlib.colors
import numpy as np

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
    "log_range": 1e8,  # largest vmax / vmin of a logarithmic colour scale
    "point_size": 6.0,  # fig1: marker area (pt^2) of the rings drawn at the collocation points
    "point_color": "red",  # fig1: colour of the collocation points
}


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


def _as_number(key: str, value, *, positive: bool = True) -> float:
    if isinstance(value, bool):
        raise ValueError(f"style.{key}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"style.{key}: expected a number, got {value!r}") from None
    if not math.isfinite(number) or (positive and number <= 0):
        raise ValueError(f"style.{key}: expected a finite{' positive' if positive else ''} number, "
                         f"got {value!r}")
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
    if merged["log_range"] <= 1:
        raise ValueError(f"style.log_range: must be > 1, got {merged['log_range']}")
    return merged


def rc_params(style: dict) -> dict:
    """matplotlib rc settings of a resolved style."""
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

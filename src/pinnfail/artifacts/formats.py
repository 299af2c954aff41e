"""Artifacts: typed readers and writers of the HDF5 files, the one atomic writer.

Three artifacts: a ``Reference`` (reference.h5: the solution on a grid), a
``Run`` (run.h5: trained parameters, history, training points) and an
``Evaluation`` (eval.h5: metrics and fields of a run against a reference).
Each is read by ``<Artifact>.read(path)``; a missing, truncated or foreign file
is an ``ArtifactError`` naming the file and what is wrong. Every file, HDF5,
text or figure, is written by ``atomic_paths``: temporary files in the target
folder, fsynced, given the umask's permissions, renamed over the targets. A
write that fails (a full disk, a read-only folder, any ``OSError``) leaves no
temporary file behind, leaves the targets as they were and is a ``WriteError``
naming them in one line.
"""
from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import h5py
import numpy as np
from pinnfail.artifacts.hdf5 import ArtifactError
from pinnfail.artifacts.hdf5 import attr_value, reading
from pinnfail.artifacts.hdf5 import atomic_h5
from pinnfail.artifacts.files import atomic_paths
from pinnfail.artifacts.provenance import provenance
from pinnfail.numerics.solution import Reference, checked
from pinnfail.artifacts.hdf5 import read_group
from pinnfail.artifacts.hdf5 import read_json_attr
from pinnfail.artifacts.hdf5 import set_attrs
from pinnfail.artifacts.hdf5 import write_group


# --- typed artifacts ---------------------------------------------------------------------


def read_reference(path) -> Reference:
    """reference.h5 read back (``write_reference``); an ArtifactError naming a bad file."""
    with reading(path, "reference", ("x", "t", "u"), ("pde", "params", "settings")) as f:
        return Reference(
            pde=str(f.attrs["pde"]),
            x=f["x"][()],
            t=f["t"][()],
            u=f["u"][()],
            params=read_json_attr(f, "params"),
            settings=read_json_attr(f, "settings"),
            wall_time=float(f.attrs["wall_time_s"]) if "wall_time_s" in f.attrs else None,
        )


def write_reference(path, ref: Reference) -> None:
    """reference.h5: datasets x, t, u; attributes pde, params, settings (checked and completed,
    ``solution.checked``), the solver's method and provenance. Invalid settings or a u not of
    shape (len(t), len(x)) raise ValueError and write nothing."""
    ref, method = checked(ref)
    x, t, u = (np.asarray(a, np.float64) for a in (ref.x, ref.t, ref.u))
    if x.ndim != 1 or t.ndim != 1 or u.shape != (t.size, x.size):
        raise ValueError(
            f"reference.u: must have shape (len(t), len(x)) = ({t.size}, {x.size}) "
            f"with 1-D x and t, got {u.shape}"
        )
    config = {"pde": ref.pde, "params": dict(ref.params), "settings": dict(ref.settings)}
    with atomic_h5(path) as f:
        for name, data in (("x", x), ("t", t), ("u", u)):
            f.create_dataset(name, data=data)
        set_attrs(f, {**config, "method": method})
        set_attrs(f, provenance(config=config, wall_time=ref.wall_time))


RUN_ATTRS = ("config", "term_names", "iterations", "fevals", "stop_reason", "n_points", "wall_time_s")


@dataclass(frozen=True, eq=False)
class Run:
    """A run.h5 read back: config, parameters, history, training points and attributes."""

    path: Path
    config: dict
    params: np.ndarray
    history: dict
    points: dict
    attrs: dict

    @classmethod
    def read(cls, path) -> "Run":
        from pinnfail.numerics.config import ConfigError, run_config

        with reading(path, "run", ("params", "history", "points"), RUN_ATTRS) as f:
            attrs = {k: v.item() if hasattr(v, "item") else v for k, v in f.attrs.items()}
            try:
                config = run_config(json.loads(attrs["config"]))
            except ConfigError as err:
                raise ArtifactError(f"{path}: stored config is not a valid run config: {err}") from None
            return cls(
                path=Path(path),
                config=config,
                params=f["params"][()],
                history=read_group(f["history"]),
                points=read_group(f["points"]),
                attrs=attrs,
            )

    @property
    def term_names(self) -> list[str]:
        return json.loads(self.attrs["term_names"])


def read_run_attrs(path) -> dict:
    """The attributes of a run.h5 (``Run.attrs``) without reading its datasets."""
    with reading(path, "run", ("params", "history", "points"), RUN_ATTRS) as f:
        return {k: v.item() if hasattr(v, "item") else v for k, v in f.attrs.items()}


def write_run(path, attrs: Mapping[str, Any], params, history: Mapping, points: Mapping) -> None:
    """run.h5: ``attrs`` (``RUN_ATTRS`` and provenance), datasets params, groups history
    and points."""
    missing = [k for k in RUN_ATTRS if k not in attrs]
    if missing:
        raise ValueError(f"run: attributes {missing} are missing")
    with atomic_h5(path) as f:
        set_attrs(f, attrs)
        f.create_dataset("params", data=np.asarray(params))
        write_group(f.create_group("history"), history)
        write_group(f.create_group("points"), {k: np.asarray(v) for k, v in points.items()})


EVALUATION_FIELDS = ("x", "t", "u_pred", "error", "residual_x", "residual_t", "residual",
                     "slice_x", "slice_t", "slice_residual")


@dataclass(frozen=True, eq=False)
class Evaluation:
    """An eval.h5 read back: ``metrics`` are its attributes (metrics, thresholds, the run's
    config, provenance; JSON decoded), ``fields`` its datasets (``EVALUATION_FIELDS``):
    u_pred and error on the reference grid (t, x), the residual on (residual_t,
    residual_x), and on (slice_t, slice_x) a fine x line at the run's training times
    and at regular times."""

    path: Path
    metrics: dict
    fields: dict

    @property
    def config(self) -> dict:
        return self.metrics["config"]

    @property
    def classification(self) -> str | None:
        return self.metrics.get("classification")

    @classmethod
    def read(cls, path) -> "Evaluation":
        with reading(path, "evaluation", EVALUATION_FIELDS, ("config",)) as f:
            fields = {k: np.asarray(f[k][()], dtype=np.float64) for k in EVALUATION_FIELDS}
            return cls(Path(path), {k: attr_value(v) for k, v in f.attrs.items()}, fields)


def evaluation_shape(path) -> dict[str, int]:
    """The lengths of an eval.h5's grids (x, t, residual_x, residual_t), without reading them."""
    with reading(path, "evaluation", EVALUATION_FIELDS, ("config",)) as f:
        return {k: int(f[k].shape[0]) for k in ("x", "t", "residual_x", "residual_t")}


def read_metrics(path) -> dict:
    """The attributes of an eval.h5 (``Evaluation.metrics``) without reading its fields."""
    with reading(path, "evaluation", EVALUATION_FIELDS, ("config",)) as f:
        return {k: attr_value(v) for k, v in f.attrs.items()}


def write_evaluation(path, metrics: Mapping[str, Any], fields: Mapping[str, Any],
                     config: Mapping[str, Any]) -> None:
    """eval.h5: attributes the metrics (dicts as JSON) and provenance with the run's config;
    datasets the fields (all of ``EVALUATION_FIELDS``)."""
    missing = [k for k in EVALUATION_FIELDS if k not in fields]
    if missing:
        raise ValueError(f"evaluation: fields {missing} are missing")
    with atomic_h5(path) as f:
        set_attrs(f, provenance(config))
        set_attrs(f, metrics)
        write_group(f, fields)


def _same_value(a, b) -> bool:
    both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return both_nan or a == b


def amend_evaluation(path, metrics: Mapping[str, Any], what: str) -> None:
    """Add ``metrics`` to an existing eval.h5, atomically (a copy with the new attributes is
    renamed over it: every other attribute and dataset stays as it was). The amendment's own
    provenance is kept beside the original's: ``amended`` lists ``{what, git_revision,
    created}`` of each amendment. Refuses to change an attribute the file already has."""
    read_metrics(path)  # a damaged or foreign file gets its one-line message here
    with h5py.File(path, "r") as f:
        clash = sorted(k for k in metrics if k in f.attrs and not _same_value(attr_value(f.attrs[k]), metrics[k]))
        history = json.loads(f.attrs["amended"]) if "amended" in f.attrs else []
    if clash:
        raise ArtifactError(f"{path}: amending would change {clash}; evaluate the run anew instead")
    stamp = provenance()
    history.append({"what": what, "git_revision": stamp["git_revision"], "created": stamp["created"]})
    with atomic_paths(path) as (tmp,):
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "r+") as f:
            set_attrs(f, {**metrics, "amended": history})

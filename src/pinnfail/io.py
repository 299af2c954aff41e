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

import contextlib
import errno
import json
import math
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, Mapping

import h5py
import numpy as np

PACKAGES = ("pinnfail", "jax", "jaxlib", "flax", "optax", "numpy", "scipy", "h5py")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_revision() -> str:
    """The source tree's git revision (with '-dirty' for local edits), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        )
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here, capture_output=True, text=True, timeout=10,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_description() -> str:
    import jax

    devices = jax.devices()
    return f"{devices[0].platform}:{devices[0].device_kind} x{len(devices)}"


def provenance(config: Mapping[str, Any] | None = None, wall_time: float | None = None) -> dict:
    """Attributes every artifact carries: config, versions, git revision, device, time."""
    attrs = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_revision": git_revision(),
        "package_versions": json.dumps(package_versions(), sort_keys=True),
        "python": platform.python_version(),
        "host": platform.node(),
        "device": device_description(),
    }
    if config is not None:
        attrs["config"] = json.dumps(config, sort_keys=True)
    if wall_time is not None:
        attrs["wall_time_s"] = float(wall_time)
    return attrs


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; the ones created, outermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:  # a file where a folder should be (mkdir would say "File exists")
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(blocking))
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_paths(*paths: str | os.PathLike) -> Iterator[tuple[Path, ...]]:
    """Temporary paths, one in each target's folder, for the body to write.

    When the body succeeds every temporary file is fsynced, given the permissions
    the umask allows (``mkstemp`` makes 0600) and renamed over its target, so the
    targets appear together and complete. On any exception the temporary files
    and the folders created for them are removed; the targets are untouched.
    """
    targets = [Path(p) for p in paths]
    created: list[Path] = []
    temps: list[Path] = []
    written = False
    try:
        for path in targets:
            created += _make_dirs(path.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            temps.append(Path(tmp))
        yield tuple(temps)
        mode = 0o666 & ~_umask()
        for tmp in temps:
            _fsync(tmp)
            os.chmod(tmp, mode)
        for tmp, path in zip(temps, targets):
            os.replace(tmp, path)
        written = True
        for folder in {path.parent for path in targets}:
            with contextlib.suppress(OSError):  # not every file system syncs folders
                _fsync(folder)
    except BaseException as err:
        for tmp in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(err, OSError) and not isinstance(err, WriteError) and not written:
            raise WriteError(targets, err) from err
        raise


def _errno(err: OSError) -> int | None:
    """The error number of ``err``; h5py puts it only in its text, as ``errno = N``."""
    if err.errno is not None:
        return err.errno
    found = re.search(r"errno = (\d+)", str(err))
    return int(found.group(1)) if found else None


def _reason(err: OSError) -> str:
    """What went wrong, in a few words: the system's message for the error number, else the
    error's first line."""
    if _errno(err):
        return os.strerror(_errno(err))
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


class WriteError(OSError):
    """Artifacts could not be written (a full disk, a read-only folder, a file where a folder
    should be, ...): one line naming them. ``errno`` is the failure's, where known."""

    def __init__(self, targets, err: OSError):
        self.targets = [Path(t) for t in targets]
        reason = _reason(err)
        names = ", ".join(map(str, self.targets))
        super().__init__(_errno(err), f"{names}: cannot write ({reason})")

    def __str__(self) -> str:
        return self.strerror


@contextlib.contextmanager
def atomic_h5(path: str | os.PathLike) -> Iterator[h5py.File]:
    """An HDF5 file opened for writing that appears at ``path`` only when complete."""
    with atomic_paths(path) as (tmp,), h5py.File(tmp, "w") as f:
        yield f


def copy_file(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy ``source`` to ``target`` atomically (``atomic_paths``): never half a copy."""
    with atomic_paths(target) as (tmp,):
        shutil.copyfile(source, tmp)


def copy_artifact(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy an HDF5 artifact atomically, every attribute and dataset equal, the large float
    datasets stored compressed as ``write_group`` stores them (files written before it did)."""

    def copy(src: h5py.Group, dst: h5py.Group) -> None:
        dst.attrs.update(src.attrs)
        for key, item in src.items():
            if isinstance(item, h5py.Group):
                copy(item, dst.create_group(key))
            else:
                write_group(dst, {key: item[()]})
                dst[key].attrs.update(item.attrs)

    with h5py.File(source, "r") as src, atomic_h5(target) as dst:
        copy(src, dst)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text artifact (CSV, Markdown) atomically."""
    with atomic_paths(path) as (tmp,):
        tmp.write_text(text)


def format_number(value, nan: str = "nan") -> str:
    """A number for tables and documents: whole numbers below 1e7 as integers, 3
    significant digits from 1e-3 to 1e5, two decimals of scientific notation outside
    that; NaN as ``nan``; anything else as ``str``."""
    if isinstance(value, float):
        if math.isnan(value):
            return nan
        if value.is_integer() and 1 <= abs(value) < 1e7:
            return str(int(value))
        return f"{value:.3g}" if 1e-3 <= abs(value) < 1e5 or value == 0 else f"{value:.2e}"
    return str(value)


def set_attrs(node: h5py.HLObject, attrs: Mapping[str, Any]) -> None:
    """Store attributes; dicts and lists become JSON strings, None is skipped."""
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (dict, list, tuple)):
            value = json.dumps(value, sort_keys=True)
        node.attrs[key] = value


COMPRESS_FROM = 4096  # arrays of at least this many numbers are stored gzip-compressed (lossless)


def write_group(group: h5py.Group, data: Mapping[str, Any]) -> None:
    """Write nested mappings of arrays as groups and datasets; large float arrays compressed
    losslessly (gzip with byte shuffle: an eval.h5's maps of FP32 values in float64 shrink 3x)."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            write_group(group.require_group(key), value)
        else:
            array = np.asarray(value)
            big = array.size >= COMPRESS_FROM and array.dtype.kind == "f"
            group.create_dataset(key, data=array, **({"compression": "gzip", "compression_opts": 4,
                                                      "shuffle": True} if big else {}))


def read_group(group: h5py.Group) -> dict:
    return {
        key: read_group(item) if isinstance(item, h5py.Group) else item[()]
        for key, item in group.items()
    }


def read_json_attr(node: h5py.HLObject, key: str) -> Any:
    return json.loads(node.attrs[key])


# --- typed artifacts ---------------------------------------------------------------------


class ArtifactError(ValueError):
    """An artifact file is missing, unreadable or not of its kind; the message names it."""


def _attr(value: Any) -> Any:
    """An HDF5 attribute as Python: numpy scalars unwrapped, JSON objects and lists decoded."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, str) and value[:1] in "{[":
        value = json.loads(value)
    return value


@contextlib.contextmanager
def _reading(path, kind: str, datasets: tuple[str, ...] = (), attrs: tuple[str, ...] = ()
             ) -> Iterator[h5py.File]:
    """``path`` opened for reading as a ``kind`` file holding ``datasets`` (or groups) and
    ``attrs``; every way of not being one is an ArtifactError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: {kind} file does not exist")
    try:
        f = h5py.File(path, "r")
    except PermissionError:
        raise ArtifactError(f"{path}: no permission to read the {kind} file") from None
    except OSError:
        raise ArtifactError(f"{path}: truncated or not an HDF5 file") from None
    with f:
        missing = [f"'{k}'" for k in datasets if k not in f]
        missing += [f"attribute '{k}'" for k in attrs if k not in f.attrs]
        if missing:
            article = "an" if kind[0] in "aeiou" else "a"
            raise ArtifactError(f"{path}: not {article} {kind} file (missing {', '.join(missing)})")
        try:
            yield f
        except (OSError, KeyError, json.JSONDecodeError) as err:
            raise ArtifactError(f"{path}: damaged {kind} file ({err})") from None


@dataclass(frozen=True, eq=False)
class Reference:
    """u[i, j] = u(x[j], t[i]); ``wall_time`` is the computing time in seconds, if known."""

    pde: str
    x: np.ndarray
    t: np.ndarray
    u: np.ndarray
    params: dict
    settings: dict
    wall_time: float | None = None

    @classmethod
    def read(cls, path) -> "Reference":
        with _reading(path, "reference", ("x", "t", "u"), ("pde", "params", "settings")) as f:
            return cls(
                pde=str(f.attrs["pde"]),
                x=f["x"][()],
                t=f["t"][()],
                u=f["u"][()],
                params=read_json_attr(f, "params"),
                settings=read_json_attr(f, "settings"),
                wall_time=float(f.attrs["wall_time_s"]) if "wall_time_s" in f.attrs else None,
            )


def write_reference(path, ref: Reference, method: str) -> None:
    """reference.h5: datasets x, t, u; attributes pde, params, settings, method and
    provenance. A u not of shape (len(t), len(x)) raises ValueError and writes nothing."""
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
        from .config import ConfigError, run_config

        with _reading(path, "run", ("params", "history", "points"), RUN_ATTRS) as f:
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
    with _reading(path, "run", ("params", "history", "points"), RUN_ATTRS) as f:
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
        with _reading(path, "evaluation", EVALUATION_FIELDS, ("config",)) as f:
            fields = {k: np.asarray(f[k][()], dtype=np.float64) for k in EVALUATION_FIELDS}
            return cls(Path(path), {k: _attr(v) for k, v in f.attrs.items()}, fields)


def evaluation_shape(path) -> dict[str, int]:
    """The lengths of an eval.h5's grids (x, t, residual_x, residual_t), without reading them."""
    with _reading(path, "evaluation", EVALUATION_FIELDS, ("config",)) as f:
        return {k: int(f[k].shape[0]) for k in ("x", "t", "residual_x", "residual_t")}


def read_metrics(path) -> dict:
    """The attributes of an eval.h5 (``Evaluation.metrics``) without reading its fields."""
    with _reading(path, "evaluation", EVALUATION_FIELDS, ("config",)) as f:
        return {k: _attr(v) for k, v in f.attrs.items()}


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
        clash = sorted(k for k in metrics if k in f.attrs and not _same_value(_attr(f.attrs[k]), metrics[k]))
        history = json.loads(f.attrs["amended"]) if "amended" in f.attrs else []
    if clash:
        raise ArtifactError(f"{path}: amending would change {clash}; evaluate the run anew instead")
    stamp = provenance()
    history.append({"what": what, "git_revision": stamp["git_revision"], "created": stamp["created"]})
    with atomic_paths(path) as (tmp,):
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "r+") as f:
            set_attrs(f, {**metrics, "amended": history})

"""Training checkpoints: one member's carry stored by field name, with its history.

The carry (nested NamedTuples of arrays) becomes nested HDF5 groups named by
field (``carry/opt_state/history/memory``); loading walks the fresh carry of the
same configuration and reads each field by its path, so a checkpoint never
depends on leaf order. A checkpoint is used only if it belongs to the same
configuration (``resume_hash``) and seed; anything else is reported in one line
and the member starts fresh.

A checkpoint that cannot be read (truncated, not HDF5, a group, dataset or
attribute missing or of another shape) is damaged: it is renamed
``<checkpoint>.damaged`` (``.damaged.2``, ... if that exists; kept for
inspection, never overwritten), one line names both files, and the member
starts fresh, so an unattended job (a Slurm resubmission) goes on. One the
process may not read (permissions, a lock held elsewhere) is not damage: that
error stops the run and the file stays.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import h5py
from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings, before JAX is used)
from pinnfail.artifacts import hdf5
import jax.numpy as jnp
import numpy as np


FORMAT = 2  # 1 (no attribute): leaves by index


def _as_groups(tree) -> dict | np.ndarray:
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return {name: _as_groups(value) for name, value in zip(tree._fields, tree)}
    return np.asarray(tree)


def _from_groups(template, node, where: str):
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        if not isinstance(node, h5py.Group):
            raise KeyError(where)
        return type(template)(*(
            _from_groups(value, node.get(name), f"{where}/{name}")
            for name, value in zip(template._fields, template)
        ))
    if not isinstance(node, h5py.Dataset) or node.shape != np.shape(template) or node.dtype != template.dtype:
        raise KeyError(where)
    return jnp.asarray(node[()])


def save(path: Path, carry, history: dict, attrs: dict[str, Any]) -> None:
    """Write one member's ``carry`` and ``history`` (atomically)."""
    with hdf5.atomic_h5(path) as f:
        hdf5.set_attrs(f, {**attrs, "checkpoint_format": FORMAT})
        hdf5.write_group(f.create_group("carry"), _as_groups(carry))
        hdf5.write_group(f.create_group("history"), history)


class CheckpointError(OSError):
    """A damaged checkpoint that cannot be moved aside: one line saying what to delete."""

    def __str__(self) -> str:
        return self.strerror


def load(path: Path, template, expect: dict[str, Any], required: tuple[str, ...] = ()
         ) -> tuple[Any, dict, dict] | None:
    """(carry, history, attrs) from ``path`` if it is a checkpoint whose attributes
    match ``expect``, that has the ``required`` attributes and whose carry has
    ``template``'s fields, shapes and dtypes; else None, with a one-line note on
    stderr when the file exists (a damaged file is first moved aside)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            if attrs.get("checkpoint_format") != FORMAT:
                return _ignore(path, f"format {attrs.get('checkpoint_format', 1)}, this version reads {FORMAT}")
            if any(attrs.get(k) != v for k, v in expect.items()):
                return _ignore(path, "another configuration")
            missing = [k for k in required if k not in attrs]
            if missing:
                raise KeyError(f"attribute {missing[0]}")
            carry = _from_groups(template, f.get("carry"), "carry")
            if not isinstance(f.get("history"), h5py.Group):
                raise KeyError("history")
            return carry, hdf5.read_group(f["history"]), attrs
    except (PermissionError, BlockingIOError):
        raise  # the file may be fine; the CLI reports the error in one line naming it
    except KeyError as err:
        return _set_aside(path, f"{err.args[0]} missing or of another shape")
    except (OSError, ValueError, TypeError) as err:
        return _set_aside(path, "truncated or not an HDF5 file" if not _opens(path) else _first_line(err))


def _opens(path: Path) -> bool:
    try:
        h5py.File(path, "r").close()
        return True
    except OSError:
        return False


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:200] if lines else type(err).__name__


def _set_aside(path: Path, why: str) -> None:
    """Move a damaged checkpoint to ``<path>.damaged`` and say so: the member starts fresh."""
    aside = path.with_name(path.name + ".damaged")
    for n in range(2, 1000):  # an earlier damaged checkpoint is kept too
        if not aside.exists():
            break
        aside = path.with_name(f"{path.name}.damaged.{n}")
    try:
        os.replace(path, aside)
    except OSError as err:
        raise CheckpointError(err.errno, f"checkpoint {path} is damaged ({why}) and cannot be moved aside "
                                         f"({err.strerror}): delete it to start this run afresh") from None
    print(f"pinnfail: checkpoint {path} is damaged ({why}); moved it to {aside.name} and starting fresh",
          file=sys.stderr)
    return None


def _ignore(path: Path, why: str) -> None:
    print(f"pinnfail: ignoring checkpoint {path} ({why}); starting fresh", file=sys.stderr)
    return None

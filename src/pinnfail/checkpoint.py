"""Training checkpoints: one member's carry stored by field name, with its history.

The carry (nested NamedTuples of arrays) becomes nested HDF5 groups named by
field (``carry/opt_state/history/memory``); loading walks the fresh carry of the
same configuration and reads each field by its path, so a checkpoint never
depends on leaf order. A checkpoint is used only if it belongs to the same
configuration (``resume_hash``) and seed; anything else is reported in one line
and the member starts fresh.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import h5py
import jax.numpy as jnp
import numpy as np

from . import io

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
    with io.atomic_h5(path) as f:
        io.set_attrs(f, {**attrs, "checkpoint_format": FORMAT})
        io.write_group(f.create_group("carry"), _as_groups(carry))
        io.write_group(f.create_group("history"), history)


def load(path: Path, template, expect: dict[str, Any]) -> tuple[Any, dict, dict] | None:
    """(carry, history, attrs) from ``path`` if it is a checkpoint whose attributes
    match ``expect`` and whose carry has ``template``'s fields, shapes and dtypes;
    else None (with a one-line note on stderr when the file exists)."""
    if not path.exists():
        return None
    with h5py.File(path, "r") as f:
        attrs = dict(f.attrs)
        if attrs.get("checkpoint_format") != FORMAT:
            return _ignore(path, f"format {attrs.get('checkpoint_format', 1)}, this version reads {FORMAT}")
        if any(attrs.get(k) != v for k, v in expect.items()):
            return _ignore(path, "another configuration")
        try:
            carry = _from_groups(template, f["carry"], "carry")
        except KeyError as err:
            return _ignore(path, f"{err.args[0]} missing or of another shape")
        return carry, io.read_group(f["history"]), attrs


def _ignore(path: Path, why: str) -> None:
    print(f"pinnfail: ignoring checkpoint {path} ({why}); starting fresh", file=sys.stderr)
    return None

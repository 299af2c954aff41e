"""Generic HDF5: atomic files, attributes (dicts as JSON), nested groups of arrays (large float
arrays compressed), and reading a file as a given kind (``ArtifactError`` naming it otherwise).
"""
from __future__ import annotations


import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

import h5py
import numpy as np
from pinnfail.artifacts.files import atomic_paths


@contextlib.contextmanager
def atomic_h5(path: str | os.PathLike) -> Iterator[h5py.File]:
    """An HDF5 file opened for writing that appears at ``path`` only when complete."""
    with atomic_paths(path) as (tmp,), h5py.File(tmp, "w") as f:
        yield f


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


class ArtifactError(ValueError):
    """An artifact file is missing, unreadable or not of its kind; the message names it."""


def attr_value(value: Any) -> Any:
    """An HDF5 attribute as Python: numpy scalars unwrapped, JSON objects and lists decoded."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, str) and value[:1] in "{[":
        value = json.loads(value)
    return value


@contextlib.contextmanager
def reading(path, kind: str, datasets: tuple[str, ...] = (), attrs: tuple[str, ...] = ()
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

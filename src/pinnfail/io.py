"""HDF5 artifacts: atomic writes and provenance attributes."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
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


def source_hash(*modules: str) -> str:
    """A short hash of pinnfail module sources, so artifacts rebuild when their code changes."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(name.encode())
        digest.update((here / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


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


@contextlib.contextmanager
def atomic_h5(path: str | os.PathLike) -> Iterator[h5py.File]:
    """Open a temporary HDF5 file next to ``path``; rename it over ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            yield f
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; artifacts follow the umask
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def set_attrs(node: h5py.HLObject, attrs: Mapping[str, Any]) -> None:
    """Store attributes; dicts and lists become JSON strings, None is skipped."""
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (dict, list, tuple)):
            value = json.dumps(value, sort_keys=True)
        node.attrs[key] = value


def write_group(group: h5py.Group, data: Mapping[str, Any]) -> None:
    """Write nested mappings of arrays as groups and datasets."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            write_group(group.require_group(key), value)
        else:
            group.create_dataset(key, data=np.asarray(value))


def read_group(group: h5py.Group) -> dict:
    return {
        key: read_group(item) if isinstance(item, h5py.Group) else item[()]
        for key, item in group.items()
    }


def read_json_attr(node: h5py.HLObject, key: str) -> Any:
    return json.loads(node.attrs[key])

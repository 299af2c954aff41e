"""Provenance every artifact carries: package versions, the git revision, the device, the time.
"""
from __future__ import annotations


import json
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping



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

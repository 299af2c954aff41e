"""JAX's settings for pinnfail, applied once, by the first module that uses JAX (each of them
imports this before ``jax``; the package itself and its planning, table, claims and workflow
modules import no JAX, so a dry run never pays for it).

Precision is a per-run setting: 64-bit types are enabled here, and every array a run creates
carries the run's dtype explicitly (float32 or float64). FP32 matrix products run at full
precision everywhere (no TF32 on GPUs), so a run's numerics do not depend on the device. Set
``PINNFAIL_JAX_CACHE`` to a directory to cache compiled programs on disk across processes (off
by default: concurrent jobs on a shared file system).
"""
import os

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_default_matmul_precision", "highest")
_cache = os.environ.get("PINNFAIL_JAX_CACHE")
if _cache:
    jax.config.update("jax_compilation_cache_dir", _cache)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

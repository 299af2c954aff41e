"""pinnfail: reproducible PINN failure-mode experiments.

Precision is a per-run setting: 64-bit types are enabled once here, and every
array a run creates carries the run's dtype explicitly (float32 or float64).
Compiled programs are cached on disk (``PINNFAIL_JAX_CACHE``, default
``~/.cache/pinnfail/jax``; set it to an empty string to disable), so the many
short processes of a workflow do not compile the same program twice.
"""
import os

import jax

jax.config.update("jax_enable_x64", True)
_cache = os.environ.get("PINNFAIL_JAX_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "pinnfail", "jax"))
if _cache and not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    jax.config.update("jax_compilation_cache_dir", _cache)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

__version__ = "0.1.0"

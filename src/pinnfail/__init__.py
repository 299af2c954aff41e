"""pinnfail: reproducible PINN failure-mode experiments.

Precision is a per-run setting: 64-bit types are enabled once here, and every
array a run creates carries the run's dtype explicitly (float32 or float64).
"""
import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

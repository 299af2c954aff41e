"""pinnfail: reproducible PINN failure-mode experiments.

Importing the package imports no JAX: the modules that compute (jets, model, losses, lbfgs,
schedule, train, evaluate, reference, pdes, checkpoint) configure it when first imported
(``pinnfail._jax``: x64 enabled, full-precision FP32 matrix products, ``PINNFAIL_JAX_CACHE``).
"""
__version__ = "0.2.0"

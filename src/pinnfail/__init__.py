"""pinnfail: reproducible PINN failure-mode experiments.

The package is five layers, each a subpackage; a module imports its own layer and those below
it, never one above (``LAYERS``, bottom first; ``tests/test_layers.py`` reads every import from
the source and holds the contract):

- ``numerics``: equations, network, objective, optimizer, reference solutions, run settings;
- ``artifacts``: the HDF5 files and how they are written and read back;
- ``products``: training runs, evaluations, Table 1, figures, studies, the claims ledger;
- ``workflow``: the plan a config makes (jobs, paths, manifests, Slurm resources);
- ``interfaces``: the ``pinnfail`` command.

Importing the package imports no JAX: the modules that compute configure it when first imported
(``pinnfail.numerics._jax``: x64 enabled, full-precision FP32 matrix products,
``PINNFAIL_JAX_CACHE``).
"""
__version__ = "0.2.0"
LAYERS = ("numerics", "artifacts", "products", "workflow", "interfaces")

"""The numerics: the equations, the network, the objective, the optimizer and the run settings
they take.

``pdes`` (the equations, their registry), ``jets`` (Taylor jets: u and its derivatives in one
pass), ``model`` (the network), ``collocation`` (training and test points), ``losses`` (loss terms
and regularizers), ``lbfgs`` (the L-BFGS direction and state) and ``linesearch`` (strong Wolfe and
optax's zoom), ``schedule`` (on-device chunks of iterations), ``reference`` (reference solutions:
analytic and the Allen-Cahn spectral solver), ``config`` (the run schema and its validation),
``history`` (the names of a run's history columns), ``_jax`` (JAX's settings).

May import: the standard library and third-party packages only; nothing from the layers above
(``artifacts``, ``products``, ``workflow``, ``interfaces``). No file is read or written here but
the package's own schema.
"""

"""The run classes, in the order a run is classified (``evaluate.classify`` decides them).

* ``overfit``: some loss term's test/train ratio is above ``overfit_ratio``: the paper's
  failure mode, and the only one;
* ``not converged``: the iteration cap ended the run with the objective still falling;
* ``plateau``: the stop rule ended it at an rMAE of at least ``solved_rmae``;
* ``solved``: rMAE below ``solved_rmae``.

No JAX here: tables, claims and the workflow read the classes without it.
"""
CLASSES = ("overfit", "not converged", "plateau", "solved")

"""The run classes (``evaluate.classify`` decides them; the first rule that applies wins):

1. ``solved``: rMAE below ``solved_rmae`` (a right solution is no failure mode);
2. ``overfit``: some loss term's test/train ratio above ``overfit_ratio``: the paper's failure
   mode, and the only one;
3. ``plateau``: the stop rule ended the run, or the objective no longer falls, at a high rMAE;
4. ``not converged``: the iteration cap (or an interruption) ended it with the objective still
   falling: the budget decided, not the method.

``CLASSES`` is their display order. No JAX here: tables, claims and the workflow read them.
"""
CLASSES = ("overfit", "not converged", "plateau", "solved")

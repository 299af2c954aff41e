"""The products: training runs, their evaluation, and everything drawn from the artifacts.

``train`` (the host training loop: run.h5), ``evaluate`` (errors, train vs test loss, classes
and flags: eval.h5), ``classes`` (the run classes and flags), ``tables`` (Table 1), ``figures/``
(the paper's figures), ``study`` (a study's statistics, lambda selection and Markdown),
``evidence`` (runs.csv, the convergence figures, committing runs), ``records`` (committed runs
grouped into variants), ``verdicts`` (how a verdict is reached), ``claims`` (the registry of the
paper's claims), ``ledger`` (docs/claims.md), ``captions`` (report captions), ``readme`` (the
README's generated blocks), ``formatting`` (how numbers print).

May import: ``numerics`` and ``artifacts``; never ``workflow`` or ``interfaces``. Only ``train``
and ``evaluate`` (and the figures they need) use JAX: tables, records, verdicts, claims and the
ledger read artifacts with h5py and numpy.
"""

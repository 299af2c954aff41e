"""The workflow plan: what a config makes (experiments, jobs, paths, manifests) and where jobs go.

``plan`` (``WorkflowPlan``: every job's inputs, outputs and argument list), ``variants`` (a
study's variants), ``archive`` (committed runs read or continued), ``layout`` (every path),
``manifest`` (what a job hands a command), ``cluster`` (Slurm resources and cost), ``dryrun``
(Snakemake's plan through its API), ``sources`` (a stage's code and its hash).

May import: ``numerics`` (the run schema, the equation registry) and ``artifacts`` (stored
configs); ``products`` only where a job's result is computed, never while planning. Planning
imports no JAX.
"""

# One job per run. With batch_seeds the batched jobs below train the planned seeds and take
# precedence (ruleorder); this rule still trains what is decided during the run (the seeds a
# study adds after its selection, the plateau stops it continues) and every run that continues
# a committed one (its input: a run of the same settings with a smaller max_iters).
rule train:
    input:
        lambda wc: PLAN.train_inputs(wc.experiment, wc.seed),
    output:
        layout.run_file("{experiment}", "{seed}"),
    params:
        argv=lambda wc: PLAN.train_argv(wc.experiment, wc.seed),
        outputs=output_flags("out"),
        remove_after=lambda wc: PLAN.removed_after_training(wc.experiment, wc.seed),
        code=CODE["train"],
    conda:
        "../envs/train-gpu.yaml"
    log:
        "logs/train/{experiment}/seed{seed}.log",
    priority: lambda wc: cluster.giga_point_iterations(EXPERIMENTS[wc.experiment], 1, CLUSTER)
    resources:
        # Slurm routing and cost (pinnfail.workflow.cluster, config.yaml `cluster:`): a key unset for
        # this job's precision evaluates to None, which Snakemake drops, so sbatch never
        # sees an empty value.
        **{
            k: (lambda wc, k=k: cluster.job_resources(EXPERIMENTS[wc.experiment], 1, CLUSTER).get(k))
            for k in cluster.resource_names(CLUSTER)
        },
    script:
        "../scripts/pinnfail_cli.py"

if PLAN.batch:
    # One job per group of experiments that differ only in lambda (pinnfail.workflow.plan.batch_jobs):
    # its members, every seed of every experiment of the group, train at once (jax.vmap).
    for _job in TRAIN_JOBS:
        workflow.ruleorder(f"train_batch_{_job.name}", "train")

        rule:
            name:
                f"train_batch_{_job.name}"
            output:
                PLAN.batch_outputs(_job),
            params:
                argv=PLAN.train_batch_argv(_job),
                outputs=["--outs", *PLAN.batch_outputs(_job)],
                remove_after=[p for m in _job.members for p in PLAN.removed_after_training(m.experiment, m.seed)],
                code=CODE["train"],
            conda:
                "../envs/train-gpu.yaml"
            log:
                f"logs/train/{_job.name}/batch.log",
            priority: cluster.giga_point_iterations(_job.config, len(_job.members), CLUSTER)
            resources:
                # Slurm routing and cost of the whole batch (empty values already left out).
                **cluster.job_resources(_job.config, len(_job.members), CLUSTER),
            script:
                "../scripts/pinnfail_cli.py"

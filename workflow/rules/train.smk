if not BATCH:

    rule train:
        output:
            run_path("{experiment}", "{seed}"),
        params:
            config=lambda wc: run_json(wc.experiment, wc.seed),
            code=CODE["train"],
        conda:
            "../envs/train-gpu.yaml"
        log:
            "logs/train/{experiment}/seed{seed}.log",
        resources:
            # Slurm routing and cost (pinnfail.cluster, config.yaml `cluster:`): a key unset for
            # this job's precision evaluates to None, which Snakemake drops, so sbatch never
            # sees an empty value.
            **{
                k: (lambda wc, k=k: cluster_resources(wc.experiment).get(k))
                for k in cluster.resource_names(CLUSTER)
            },
        shell:
            "pinnfail train --config-json '{params.config}' --keep-checkpoint --out {output} > {log} 2>&1"
            " && rm -f {output}.ckpt.h5"

else:
    # One job per group of experiments that differ only in lambda (pinnfail.plan.batch_jobs):
    # its members, every seed of every experiment of the group, train at once (jax.vmap).
    for _job in TRAIN_JOBS:

        rule:
            name:
                f"train_batch_{_job.name}"
            output:
                [run_path(m.experiment, m.seed) for m in _job.members],
            params:
                args=shlex.join(train_batch_argv(_job, [run_path(m.experiment, m.seed) for m in _job.members])),
                code=CODE["train"],
            conda:
                "../envs/train-gpu.yaml"
            log:
                f"logs/train/{_job.name}/batch.log",
            resources:
                # Slurm routing and cost of the whole batch (empty values already left out).
                **cluster.job_resources(_job.config, len(_job.members), CLUSTER),
            shell:
                "pinnfail {params.args} > {log} 2>&1"
                " && for f in {output}; do rm -f $f.ckpt.h5; done"

if not BATCH:

    rule train:
        output:
            run_path("{experiment}", "{seed}"),
        params:
            argv=lambda wc: train_argv(wc.experiment, [wc.seed]),
            outputs=output_flags("out"),
            remove_after=lambda wc, output: [checkpoint_of(run) for run in output],
            code=CODE["train"],
        conda:
            "../../environment.yml"
        log:
            "logs/train/{experiment}/seed{seed}.log",
        resources:
            # Slurm routing (config.yaml `cluster:`): a key unset for this job's precision
            # evaluates to None, which Snakemake drops, so sbatch never sees an empty value.
            **{
                k: (lambda wc, k=k: cluster_resources(wc.experiment).get(k))
                for k in dict.fromkeys(
                    ["runtime", "mem_mb", "slurm_account"]
                    + [key for kind in ("fp32", "fp64") for key in ((config.get("cluster") or {}).get(kind) or {})]
                )
            },
        script:
            "../scripts/pinnfail_cli.py"

else:
    # One job per experiment trains all its seeds at once (jax.vmap over members).
    for _name, _seeds in SEEDS.items():

        rule:
            name:
                f"train_batch_{_name}"
            output:
                [run_path(_name, s) for s in _seeds],
            params:
                argv=train_argv(_name, _seeds),
                outputs=["--outs", *[run_path(_name, s) for s in _seeds]],
                remove_after=[checkpoint_of(run_path(_name, s)) for s in _seeds],
                code=CODE["train"],
            conda:
                "../../environment.yml"
            log:
                f"logs/train/{_name}/batch.log",
            resources:
                # Slurm routing for the whole batch (empty values already left out).
                **cluster_resources(_name, len(_seeds)),
            script:
                "../scripts/pinnfail_cli.py"

if not BATCH:

    rule train:
        output:
            run_path("{experiment}", "{seed}"),
        params:
            config=lambda wc: run_json(wc.experiment, wc.seed),
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
        shell:
            "pinnfail train --config-json '{params.config}' --keep-checkpoint --out {output} > {log} 2>&1"
            " && rm -f {output}.ckpt.h5"

else:
    # One job per experiment trains all its seeds at once (jax.vmap over members).
    for _name, _seeds in SEEDS.items():

        rule:
            name:
                f"train_batch_{_name}"
            output:
                [run_path(_name, s) for s in _seeds],
            params:
                config=run_json(_name, _seeds[0]),
                seeds=" ".join(map(str, _seeds)),
                code=CODE["train"],
            conda:
                "../../environment.yml"
            log:
                f"logs/train/{_name}/batch.log",
            resources:
                # Slurm routing for the whole batch (empty values already left out).
                **cluster_resources(_name, len(_seeds)),
            shell:
                "pinnfail train --config-json '{params.config}' --keep-checkpoint --seeds {params.seeds} --outs {output} > {log} 2>&1"
                " && for f in {output}; do rm -f $f.ckpt.h5; done"

if not BATCH:

    rule train:
        output:
            run_path("{experiment}", "{seed}"),
        params:
            config=lambda wc: run_json(wc.experiment, wc.seed),
            code=CODE["train"],
        log:
            "logs/train/{experiment}/seed{seed}.log",
        resources:
            **{k: (lambda wc, k=k: cluster_resources(wc.experiment)[k]) for k in ("runtime", "mem_mb")},
            slurm_partition=lambda wc: cluster_resources(wc.experiment).get("slurm_partition", ""),
            gres=lambda wc: cluster_resources(wc.experiment).get("gres", ""),
            constraint=lambda wc: cluster_resources(wc.experiment).get("constraint", ""),
        shell:
            "pinnfail train --config-json '{params.config}' --out {output} > {log} 2>&1"

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
            log:
                f"logs/train/{_name}/batch.log",
            resources:
                **{k: v for k, v in cluster_resources(_name, len(_seeds)).items()},
            shell:
                "pinnfail train --config-json '{params.config}' --seeds {params.seeds} --outs {output} > {log} 2>&1"

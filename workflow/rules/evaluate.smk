rule evaluate:
    input:
        run=lambda wc: PLAN.run_path(wc.experiment, wc.seed),
        reference=lambda wc: layout.reference_file(PLAN.pde_of(wc.experiment)),
    output:
        layout.run_file("{experiment}", "{seed}", "eval"),
    params:
        argv=lambda wc: PLAN.evaluate_argv(wc.experiment, wc.seed),
        outputs=output_flags("out"),
        code=CODE["evaluate"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/evaluate/{experiment}/seed{seed}.log",
    # cluster.cpu set: submitted to its partition; else run where Snakemake runs
    localrule: not cluster.cpu_remote(CLUSTER)
    resources:
        **cluster.cpu_resources(CLUSTER),
    script:
        "../scripts/pinnfail_cli.py"

rule reference:
    output:
        layout.reference_file("{pde}"),
    params:
        argv=lambda wc: PLAN.reference_argv(wc.pde),
        outputs=output_flags("out"),
        code=CODE["reference"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/reference/{pde}.log",
    # cluster.cpu set: submitted to its partition; else run where Snakemake runs
    localrule: not cluster.cpu_remote(CLUSTER)
    resources:
        **cluster.cpu_resources(CLUSTER),
    script:
        "../scripts/pinnfail_cli.py"

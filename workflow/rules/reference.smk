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
    localrule: True
    script:
        "../scripts/pinnfail_cli.py"

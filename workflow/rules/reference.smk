rule reference:
    output:
        "data/reference/{pde}.h5",
    params:
        argv=reference_argv,
        outputs=output_flags("out"),
        code=CODE["reference"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/reference/{pde}.log",
    localrule: True
    script:
        "../scripts/pinnfail_cli.py"

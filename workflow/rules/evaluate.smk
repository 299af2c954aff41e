rule evaluate:
    input:
        run=lambda wc: run_path(wc.experiment, wc.seed),
        reference=lambda wc: reference_of(wc.experiment),
    output:
        out_path("{experiment}", "{seed}", "eval"),
    params:
        argv=evaluate_argv,
        outputs=output_flags("out"),
        code=CODE["evaluate"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/evaluate/{experiment}/seed{seed}.log",
    localrule: True
    script:
        "../scripts/pinnfail_cli.py"

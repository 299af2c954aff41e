rule evaluate:
    input:
        run=run_path("{experiment}", "{seed}"),
        reference=lambda wc: reference_of(wc.experiment),
    output:
        run_path("{experiment}", "{seed}", "eval"),
    params:
        args=" ".join(
            [f"--threshold {k}={v}" for k, v in sorted(config["evaluation"].items()) if k != "residual_grid"]
            + ["--residual-grid {}x{}".format(*config["evaluation"].get("residual_grid", [256, 256]))]
        ),
        code=CODE["evaluate"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/evaluate/{experiment}/seed{seed}.log",
    localrule: True
    shell:
        "pinnfail evaluate {input.run} --reference {input.reference} --out {output} {params.args} > {log} 2>&1"

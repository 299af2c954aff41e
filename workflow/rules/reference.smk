rule reference:
    output:
        "data/reference/{pde}.h5",
    params:
        args=lambda wc: " ".join(
            [f"--param {k}={v}" for k, v in sorted(config["pdes"].get(wc.pde, {}).items())]
            + [f"--set {k}={v}" for k, v in sorted(config["reference"].get(wc.pde, {}).items())]
        ),
        code=CODE["reference"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/reference/{pde}.log",
    localrule: True
    shell:
        "pinnfail reference --pde {wildcards.pde} --out {output} {params.args} > {log} 2>&1"

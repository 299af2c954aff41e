# Evidence of the Table 1 runs and of a study's runs: one CSV line per run, and the
# convergence figure (rMAE and test loss against iterations, per equation).


rule runs_csv:
    input:
        files_of(table1_runs()),
    output:
        "results/runs.csv",
    params:
        args=runs_argv(table1_runs()),
        code=CODE["evidence"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/runs_csv.log",
    localrule: True
    shell:
        "pinnfail runs {params.args} --csv {output} > {log} 2>&1"


rule convergence:
    input:
        files_of(table1_runs()),
    output:
        png="results/figures/convergence.png",
        pdf="results/figures/convergence.pdf",
    params:
        args=shlex.join(arg for method, _, r, e in table1_runs() for arg in ("--run", f"{method}={r}:{e}")),
        code=CODE["evidence"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/figures/convergence.log",
    localrule: True
    shell:
        "pinnfail convergence {params.args} --png {output.png} --pdf {output.pdf} > {log} 2>&1"


for _study in STUDIES:

    rule:
        name:
            f"runs_csv_{_study}"
        input:
            files_of(study_runs(_study)),
        output:
            f"results/studies/{_study}/runs.csv",
        params:
            args=runs_argv(study_runs(_study)),
            code=CODE["evidence"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}_runs.log",
        localrule: True
        shell:
            "pinnfail runs {params.args} --csv {output} > {log} 2>&1"

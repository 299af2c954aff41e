# Evidence of the Table 1 runs and of a study's runs: one CSV line per run, and the
# convergence figure (rMAE and test loss against iterations, per equation).


rule runs_csv:
    input:
        files_of(table1_runs()),
    output:
        "results/runs.csv",
    params:
        argv=runs_argv(table1_runs()),
        outputs=output_flags("csv"),
        code=CODE["evidence"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/runs_csv.log",
    localrule: True
    script:
        "../scripts/pinnfail_cli.py"


rule convergence:
    input:
        files_of(table1_runs()),
    output:
        png="results/figures/convergence.png",
        pdf="results/figures/convergence.pdf",
    params:
        argv=convergence_argv(table1_runs()),
        outputs=output_flags("png", "pdf"),
        code=CODE["evidence"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/figures/convergence.log",
    localrule: True
    script:
        "../scripts/pinnfail_cli.py"


for _study in STUDIES:

    rule:
        name:
            f"runs_csv_{_study}"
        input:
            lambda wc, _study=_study: files_of(study_runs(_study)),
        output:
            f"results/studies/{_study}/runs.csv",
        params:
            argv=lambda wc, _study=_study: runs_argv(study_runs(_study)),
            outputs=output_flags("csv"),
            code=CODE["evidence"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}_runs.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"

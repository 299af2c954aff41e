# Evidence of the Table 1 runs and of a study's runs: one CSV line per run, and the
# convergence figure (rMAE and test loss against iterations, per equation).


rule runs_csv:
    input:
        PLAN.files_of(PLAN.table1_runs()),
    output:
        layout.RUNS_CSV,
    params:
        argv=PLAN.runs_argv(PLAN.table1_runs()),
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
        PLAN.files_of(PLAN.table1_runs()),
    output:
        png=layout.figure_file("convergence", "png"),
        pdf=layout.figure_file("convergence", "pdf"),
    params:
        argv=PLAN.convergence_argv(PLAN.table1_runs()),
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
            lambda wc, _study=_study: PLAN.files_of(PLAN.study_runs(_study, selection(_study))),
        output:
            layout.study_file(_study, "runs.csv"),
        params:
            argv=lambda wc, _study=_study: PLAN.runs_argv(PLAN.study_runs(_study, selection(_study))),
            outputs=output_flags("csv"),
            code=CODE["evidence"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}_runs.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"

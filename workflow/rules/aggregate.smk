rule table1:
    input:
        table_evals,
    output:
        csv=report("results/table1.csv", caption="../report/table1.rst", category="Table 1"),
        md="results/table1.md",
    params:
        argv=table_argv(),
        outputs=output_flags("csv", "md"),
        code=CODE["table"],
    conda:
        "../../environment.yml"
    log:
        "logs/table1.log",
    localrule: True
    script:
        "../scripts/pinnfail_cli.py"


rule figure:
    input:
        unpack(figure_inputs),
    output:
        png=report("results/figures/{figure}.png", caption="../report/figure.rst", category="Figures"),
        pdf="results/figures/{figure}.pdf",
    params:
        argv=figure_argv,
        outputs=output_flags("png", "pdf"),
        code=CODE["figures"],
    conda:
        "../../environment.yml"
    log:
        "logs/figures/{figure}.log",
    localrule: True
    script:
        "../scripts/pinnfail_cli.py"

rule table1:
    input:
        table_evals,
    output:
        csv=report("results/table1.csv", caption="../report/table1.rst", category="Table 1"),
        md="results/table1.md",
    params:
        rows=table_args(),
        code=CODE["table"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/table1.log",
    localrule: True
    shell:
        "pinnfail table1 {params.rows} --csv {output.csv} --md {output.md} > {log} 2>&1"


rule figure:
    input:
        unpack(figure_inputs),
    output:
        png=report("results/figures/{figure}.png", caption="../report/figure.rst", category="Figures"),
        pdf="results/figures/{figure}.pdf",
    params:
        args=figure_args,
        code=CODE["figures"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/figures/{figure}.log",
    localrule: True
    shell:
        "pinnfail figure {wildcards.figure} {params.args} --png {output.png} --pdf {output.pdf} > {log} 2>&1"

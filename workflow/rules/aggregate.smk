# Table 1 and the figures; each job also writes its report caption (rst) from the same
# artifacts, and report() points at it, so a caption quotes the numbers it describes.


rule table1:
    input:
        table_evals,
    output:
        csv=report("results/table1.csv", caption="../../results/table1.rst", category="Table 1"),
        md="results/table1.md",
        caption="results/table1.rst",
    params:
        rows=table_args(),
        note=config["table1"].get("note", ""),
        code=CODE["table"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/table1.log",
    localrule: True
    shell:
        "pinnfail table1 {params.rows} --csv {output.csv} --md {output.md} --note {params.note:q} --caption {output.caption} > {log} 2>&1"


for _figure in FIGURES:

    rule:
        name:
            f"figure_{_figure}"
        wildcard_constraints:
            figure=_figure,
        input:
            unpack(figure_inputs),
        output:
            png=report("results/figures/{figure}.png", caption=f"../../results/figures/{_figure}.rst", category="Figures"),
            pdf="results/figures/{figure}.pdf",
            caption="results/figures/{figure}.rst",
        params:
            args=figure_args,
            captions=lambda wc: " ".join(  # `pinnfail caption`: each panel role and its run's eval.h5
                f"--run {role[:-5]}={path}" for role, path in sorted(figure_inputs(wc).items()) if role.endswith("_eval")
            ),
            code=CODE["figures"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            "logs/figures/{figure}.log",
        localrule: True
        shell:
            "(pinnfail figure {wildcards.figure} {params.args} --png {output.png} --pdf {output.pdf} && "
            "pinnfail caption {wildcards.figure} {params.captions} --out {output.caption}) > {log} 2>&1"

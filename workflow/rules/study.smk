# Regularizer studies: one aggregate (CSV + Markdown) and one Fig. 6-style figure per study;
# the study named by `doc_study` also regenerates docs/regularizers.md.
for _study in STUDIES:

    rule:
        name:
            f"study_{_study}"
        input:
            study_inputs(_study),
        output:
            csv=report(f"results/studies/{_study}/study.csv", caption="../report/study.rst", category="Regularizer study"),
            md=f"results/studies/{_study}/study.md",
            **({"doc": "docs/regularizers.md"} if _study == config.get("doc_study") else {}),
        params:
            args=study_args(_study),
            doc=(
                f"--doc docs/regularizers.md --command 'snakemake --cores 2 results/studies/{_study}/study.md'"
                if _study == config.get("doc_study")
                else ""
            ),
            code=CODE["study"],
        conda:
            "../../environment.yml"
        log:
            f"logs/study/{_study}.log",
        localrule: True
        shell:
            "pinnfail study {params.args} --csv {output.csv} --md {output.md} {params.doc} > {log} 2>&1"

    rule:
        name:
            f"study_figure_{_study}"
        input:
            study_figure_inputs(_study),
        output:
            png=report(f"results/studies/{_study}/fig6.png", caption="../report/study.rst", category="Regularizer study"),
            pdf=f"results/studies/{_study}/fig6.pdf",
        params:
            args=study_figure_args(_study),
            code=CODE["figures"],
        conda:
            "../../environment.yml"
        log:
            f"logs/study/{_study}_fig6.log",
        localrule: True
        shell:
            "pinnfail figure fig6 {params.args} --png {output.png} --pdf {output.pdf} > {log} 2>&1"

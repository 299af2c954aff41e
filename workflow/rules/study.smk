# Regularizer studies: one aggregate (CSV + Markdown) and one Fig. 6-style figure per study
# (where it names one), each with its report caption written from the same artifacts; the
# studies in `doc_studies` together regenerate docs/regularizers.md.


for _study in STUDIES:

    rule:
        name:
            f"study_{_study}"
        input:
            study_inputs(_study),
        output:
            csv=report(f"results/studies/{_study}/study.csv", caption=f"../../results/studies/{_study}/study.rst", category="Regularizer study"),
            md=f"results/studies/{_study}/study.md",
            caption=f"results/studies/{_study}/study.rst",
        params:
            args=study_args([_study]),
            code=CODE["study"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}.log",
        localrule: True
        shell:
            "pinnfail study {params.args} --csv {output.csv} --md {output.md} --caption {output.caption} > {log} 2>&1"

    if "figure" not in config["study"][_study]:
        continue

    rule:
        name:
            f"study_figure_{_study}"
        input:
            study_figure_inputs(_study),
        output:
            png=report(f"results/studies/{_study}/fig6.png", caption=f"../../results/studies/{_study}/fig6.rst", category="Regularizer study"),
            pdf=f"results/studies/{_study}/fig6.pdf",
            caption=f"results/studies/{_study}/fig6.rst",
        params:
            args=study_figure_args(_study),
            captions=" ".join(  # `pinnfail caption`: each role and its run's eval.h5 (the figure's seed)
                f"--run {arg}" for arg in study_figure_args(_study).split() if ".h5:" in arg
            ),
            code=CODE["figures"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}_fig6.log",
        localrule: True
        shell:
            "(pinnfail figure fig6 {params.args} --png {output.png} --pdf {output.pdf} && "
            "pinnfail caption fig6 {params.captions} --out {output.caption}) > {log} 2>&1"


if config.get("doc_studies"):

    rule regularizers_doc:
        input:
            [path for _study in config["doc_studies"] for path in study_inputs(_study)],
        output:
            "docs/regularizers.md",
        params:
            args=study_args(config["doc_studies"]),
            code=CODE["study"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            "logs/study/regularizers_doc.log",
        localrule: True
        shell:
            "pinnfail study {params.args} --doc {output} "
            "--command 'snakemake --cores 2 docs/regularizers.md' > {log} 2>&1"

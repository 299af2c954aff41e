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
            csv=captioned(f"results/studies/{_study}/study.csv", "Regularizer study"),
            md=f"results/studies/{_study}/study.md",
            caption=caption_of(f"results/studies/{_study}/study.csv"),
        params:
            argv=study_argv([_study]),
            outputs=output_flags("csv", "md", "caption"),
            code=CODE["study"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"

    if "figure" not in config["study"][_study]:
        continue

    rule:
        name:
            f"study_figure_{_study}"
        input:
            study_figure_inputs(_study),
        output:
            png=captioned(f"results/studies/{_study}/fig6.png", "Regularizer study"),
            pdf=f"results/studies/{_study}/fig6.pdf",
            caption=caption_of(f"results/studies/{_study}/fig6.png"),
        params:
            argv=study_figure_argv(_study),
            outputs=output_flags("png", "pdf", "caption"),
            code=CODE["figures"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}_fig6.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"


if config.get("doc_studies"):

    rule regularizers_doc:
        input:
            [path for _study in config["doc_studies"] for path in study_inputs(_study)],
        output:
            "docs/regularizers.md",
        params:
            argv=study_argv(config["doc_studies"], "--command=snakemake --cores 2 docs/regularizers.md"),
            outputs=output_flags("doc"),
            code=CODE["study"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            "logs/study/regularizers_doc.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"

# Table 1 and the figures; each job also writes its report caption (rst) from the same
# artifacts, and report() points at it, so a caption quotes the numbers it describes.


rule table1:
    input:
        [e for *_, e in PLAN.table1_runs()],
    output:
        csv=captioned(layout.TABLE1_CSV, "Table 1"),
        md=layout.TABLE1_MD,
        caption=layout.caption_of(layout.TABLE1_CSV),
    params:
        argv=PLAN.table_argv(),
        outputs=output_flags("csv", "md", "caption"),
        code=CODE["table"],
    conda:
        "../envs/pinnfail.yaml"
    log:
        "logs/table1.log",
    localrule: True
    script:
        "../scripts/pinnfail_cli.py"


for _figure in FIGURES:

    rule:
        name:
            f"figure_{_figure}"
        input:
            unpack(lambda wc, _figure=_figure: PLAN.figure_inputs(_figure)),
        output:
            png=captioned(layout.figure_file(_figure, "png"), "Figures"),
            pdf=layout.figure_file(_figure, "pdf"),
            caption=layout.figure_file(_figure, "rst"),
        params:
            argv=lambda wc, _figure=_figure: PLAN.figure_argv(_figure),
            outputs=output_flags("png", "pdf", "caption"),
            code=CODE["figures"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/figures/{_figure}.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"


# Products copied where they are committed (PUBLISHED: a study's `publish:`, `table1.publish`,
# `figures.publish`), e.g. docs/results/cpu/fig6/: the same files, never edited there.
for _name, (_folder, _products) in PUBLISHED.items():

    rule:
        name:
            _name
        input:
            _products,
        output:
            [layout.published(_folder, p) for p in _products],
        log:
            f"logs/publish/{_name}.log",
        params:
            argv=PLAN.argv("publish", *_products, "--to", _folder),
            outputs=[],
        conda:
            "../envs/pinnfail.yaml"
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"


if CLAIMS_FOLDERS:

    rule claims:
        input:
            PLAN.claims_inputs(),
        output:
            layout.CLAIMS_DOC,
        params:
            argv=PLAN.argv("claims", *CLAIMS_FOLDERS, "--command", f"snakemake --cores 2 {layout.CLAIMS_DOC}"),
            outputs=output_flags("out"),
            code=CODE["claims"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            "logs/claims.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"


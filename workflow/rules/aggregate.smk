# Table 1 and the figures; each job also writes its report caption (rst) from the same
# artifacts, and report() points at it, so a caption quotes the numbers it describes.


rule table1:
    input:
        table_evals,
    output:
        csv=captioned("results/table1.csv", "Table 1"),
        md="results/table1.md",
        caption=caption_of("results/table1.csv"),
    params:
        argv=table_argv(),
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
        wildcard_constraints:
            figure=_figure,
        input:
            unpack(figure_inputs),
        output:
            png=captioned("results/figures/{figure}.png", "Figures", figure=_figure),
            pdf="results/figures/{figure}.pdf",
            caption=caption_of("results/figures/{figure}.png"),
        params:
            argv=figure_argv,
            outputs=output_flags("png", "pdf", "caption"),
            code=CODE["figures"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            "logs/figures/{figure}.log",
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
            [os.path.join(_folder, os.path.basename(p)) for p in _products],
        log:
            f"logs/publish/{_name}.log",
        params:
            argv=pinnfail_argv("publish", *_products, "--to", _folder),
            outputs=[],
        conda:
            "../envs/pinnfail.yaml"
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"


if CLAIMS_FOLDERS:

    rule claims:
        input:
            sorted(str(p) for folder in CLAIMS_FOLDERS for p in Path(folder).glob("*/seed*/*.h5")),
        output:
            CLAIMS_DOC,
        params:
            argv=pinnfail_argv("claims", *CLAIMS_FOLDERS, f"--command=snakemake --cores 2 {CLAIMS_DOC}"),
            outputs=output_flags("out"),
            code=CODE["claims"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            "logs/claims.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"


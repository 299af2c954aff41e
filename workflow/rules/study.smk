# Regularizer studies: one aggregate (CSV + Markdown) and the figures the study names (Fig. 1,
# Fig. 6, convergence, drawn from its selection), each with its report caption written from the
# same artifacts; docs/claims.md (rule claims) reads their committed runs.
for _study in STUDIES:
    if staged(_study):
        # After the sweep (the study's seeds): the strengths chosen by the lowest median test
        # loss, the seeds to add and the plateau stops to continue; the rules below read it.

        checkpoint:
            name:
                f"study_select_{_study}"
            input:
                study_inputs(_study),
            output:
                selection_path(_study),
            params:
                argv=study_select_argv(_study),
                outputs=output_flags("out"),
                code=CODE["study"],
            conda:
                "../envs/pinnfail.yaml"
            log:
                f"logs/study/{_study}_select.log",
            localrule: True
            script:
                "../scripts/pinnfail_cli.py"

    _figures = config["study"][_study].get("figures", [])
    _figure_out = {f"{kind}_{name}": f"results/studies/{_study}/{name}.{kind}" for name in _figures
                   for kind in ("png", "pdf")}

    rule:
        name:
            f"study_{_study}"
        input:
            final_inputs(_study),
        output:
            csv=captioned(f"results/studies/{_study}/study.csv", "Regularizer study"),
            md=f"results/studies/{_study}/study.md",
            caption=caption_of(f"results/studies/{_study}/study.csv"),
            **{k: captioned(v, "Regularizer study") if k.startswith("png") else v for k, v in _figure_out.items()},
            **{f"rst_{name}": caption_of(f"results/studies/{_study}/{name}.png") for name in _figures},
        params:
            # a function: for a staged study it reads the selection, which exists once the job runs
            argv=lambda wc, _study=_study: study_argv([_study]) + study_figure_flags(_study),
            outputs=lambda wc, output: ["--csv", output.csv, "--md", output.md, "--caption", output.caption],
            code=CODE["study"] + CODE["figures"] + CODE["evidence"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}.log",
        localrule: True
        script:
            "../scripts/pinnfail_cli.py"


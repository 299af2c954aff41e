# Regularizer studies: one aggregate (CSV + Markdown) and the figures the study names (Fig. 1,
# Fig. 6, convergence, drawn from its selection), each with its report caption written from the
# same artifacts; docs/claims.md (rule claims) reads their committed runs.
for _study in STUDIES:
    if PLAN.staged(_study):
        # After the sweep (the study's seeds): the strengths chosen by the lowest median test
        # loss, the seeds to add and the plateau stops to continue; the rules below read it.

        checkpoint:
            name:
                f"study_select_{_study}"
            input:
                PLAN.study_inputs(_study),
            output:
                layout.selection_file(_study),
            params:
                argv=PLAN.select_argv(_study),
                outputs=output_flags("out"),
                code=CODE["study"],
            conda:
                "../envs/pinnfail.yaml"
            log:
                f"logs/study/{_study}_select.log",
            localrule: not cluster.cpu_remote(CLUSTER)
            resources:
                **cluster.cpu_resources(CLUSTER),
            script:
                "../scripts/pinnfail_cli.py"

    _figure_out = PLAN.study_figure_files(_study)

    rule:
        name:
            f"study_{_study}"
        input:
            lambda wc, _study=_study: PLAN.study_inputs(_study, selection(_study)),
        output:
            csv=captioned(layout.study_file(_study, "study.csv"), "Regularizer study"),
            md=layout.study_file(_study, "study.md"),
            caption=layout.caption_of(layout.study_file(_study, "study.csv")),
            **{k: captioned(v, "Regularizer study") if k.startswith("png") else v for k, v in _figure_out.items()},
            **{f"rst_{k[4:]}": layout.caption_of(v) for k, v in _figure_out.items() if k.startswith("png")},
        params:
            # a function: for a staged study it reads the selection, which exists once the job runs
            argv=lambda wc, _study=_study: PLAN.study_argv(_study, selection(_study)),
            outputs=lambda wc, output: ["--csv", output.csv, "--md", output.md, "--caption", output.caption],
            code=CODE["study"],
        conda:
            "../envs/pinnfail.yaml"
        log:
            f"logs/study/{_study}.log",
        localrule: not cluster.cpu_remote(CLUSTER)
        resources:
            **cluster.cpu_resources(CLUSTER),
        script:
            "../scripts/pinnfail_cli.py"

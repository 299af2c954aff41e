# pinnfail: reproduce "PINNs Failure Modes are Overfitting" end to end.
#   snakemake --cores 2                                      # full paper matrix
#   snakemake --cores 2 --configfile workflow/presets/quick.yaml   # small preset
#   snakemake --profile slurm results/table1.csv             # on a Slurm cluster
from snakemake.utils import min_version

min_version("9.17")  # rule priorities computed per job


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


# common.smk validates the config (workflow/schemas/config.schema.yaml, completed from the
# PDE registry; numbers finite) before anything else reads it.
include: "workflow/rules/common.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/study.smk"
include: "workflow/rules/evidence.smk"


rule all:
    input:
        layout.TABLE1_CSV,
        layout.TABLE1_MD,
        [layout.figure_file(figure, ext) for figure in FIGURES for ext in ("png", "pdf")],
    default_target: True

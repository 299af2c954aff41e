def table_evals(wc=None):
    return [run_path(row["experiment"], s, "eval") for row in config["table1"]["rows"] for s in SEEDS[row["experiment"]]]


def table_args():
    return " ".join(
        "--row '{}={}'".format(
            row["method"], ",".join(run_path(row["experiment"], s, "eval") for s in SEEDS[row["experiment"]])
        )
        for row in config["table1"]["rows"]
    )


rule table1:
    input:
        table_evals,
    output:
        csv=report("results/table1.csv", caption="../report/table1.rst", category="Table 1"),
        md="results/table1.md",
    params:
        rows=table_args(),
        code=CODE["table"],
    log:
        "logs/table1.log",
    localrule: True
    shell:
        "pinnfail table1 {params.rows} --csv {output.csv} --md {output.md} > {log} 2>&1"


def figure_seed(experiment):
    seed = config["figures"].get("seed", 0)
    return seed if seed in SEEDS[experiment] else SEEDS[experiment][0]


def figure_inputs(wc):
    roles = config["figures"]["panels"][wc.figure]
    files = {}
    for role, name in roles.items():
        files[f"{role}_run"] = run_path(name, figure_seed(name))
        files[f"{role}_eval"] = run_path(name, figure_seed(name), "eval")
        files[f"{role}_reference"] = reference_of(name)
    return files


def figure_args(wc):
    roles = config["figures"]["panels"][wc.figure]
    args = []
    for role, name in sorted(roles.items()):
        seed = figure_seed(name)
        args.append(f"--run {role}={run_path(name, seed)}:{run_path(name, seed, 'eval')}")
    pdes = sorted({EXPERIMENTS[name]["pde"] for name in roles.values()})
    args += [f"--reference {pde}=data/reference/{pde}.h5" for pde in pdes]
    style = config["figures"].get("style", {})
    args += [f"--style {k}={v}" for k, v in sorted(style.items())]
    return " ".join(args)


rule figure:
    input:
        unpack(figure_inputs),
    output:
        png=report("results/figures/{figure}.png", caption="../report/{figure}.rst", category="Figures"),
        pdf="results/figures/{figure}.pdf",
    params:
        args=figure_args,
        code=CODE["figures"],
    log:
        "logs/figures/{figure}.log",
    localrule: True
    shell:
        "pinnfail figure {wildcards.figure} {params.args} --png {output.png} --pdf {output.pdf} > {log} 2>&1"

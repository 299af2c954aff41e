"""Figures: every figure is drawn from small real runs (a few L-BFGS iterations of
tiny networks) into a PNG and a PDF; bad input is a ValueError and leaves nothing.

The runs are made once per module: one batched ``train`` call per equation (the
seeds of a batch stand in for the roles of a figure; a figure does not care
which regularizer a role's run used, only its labels do).
"""
import json
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import matplotlib.image
import matplotlib.text
import numpy as np
import pytest
from matplotlib.figure import Figure

from pinnfail.products import figure_roles, figures
from pinnfail.interfaces.cli import build_parser
from pinnfail.products.evaluate import evaluate, write_result
from pinnfail.products.figures.residual_slice import slice_at, time_profile, time_slice
from pinnfail.artifacts.formats import write_reference
from pinnfail.numerics.reference import compute_reference
from pinnfail.products.train import train

TINY = {
    "grid": [6, 6], "n_initial": 12, "n_boundary": 12, "n_test_domain": 100, "n_test_line": 20,
    "depth": 1, "width": 8, "memory": 5, "max_iters": 20, "log_every": 10, "stop_window": 0,
    "checkpoint_every": 0,
}
REFERENCE_SETTINGS = {
    "convection": {"nx": 64, "nt": 33},
    "reaction": {"nx": 48, "nt": 25},
    "wave": {"nx": 48, "nt": 33},
    "allen_cahn": {"nx": 64, "nt": 21, "modes": 256},
}
# one batch (one compilation) per equation; each seed is one run
BATCHES = {
    "convection": ({"pde": "convection", "precision": "fp32"}, 4),
    "wave": ({"pde": "wave", "precision": "fp64"}, 3),
    "allen_cahn": ({"pde": "allen_cahn", "precision": "fp32", "regularizer": "l1", "lambda": 1e-4}, 3),
    "reaction": ({"pde": "reaction", "precision": "fp64", "regularizer": "double", "lambda": 1e-4}, 1),
}


def make_inputs(root: Path) -> dict:
    """References, runs and evaluations under ``root``; returns the arguments of every
    figure as {name: (runs, reference(s))}."""
    root.mkdir(parents=True, exist_ok=True)
    refs, pairs = {}, {}
    for pde, settings in REFERENCE_SETTINGS.items():
        refs[pde] = root / f"ref_{pde}.h5"
        write_reference(refs[pde], compute_reference(pde, None, settings))
    for pde, (config, n) in BATCHES.items():
        outs = [root / f"{pde}_{seed}.run.h5" for seed in range(n)]
        train({**TINY, **config}, seeds=list(range(n)), outs=outs, progress=False)
        for seed, out in enumerate(outs):
            ev = root / f"{pde}_{seed}.eval.h5"
            write_result(ev, evaluate(out, refs[pde], residual_grid=(32, 32)))
            pairs[pde, seed] = (str(out), str(ev))
    c, w, a = (lambda s, p=p: pairs[p, s] for p in ("convection", "wave", "allen_cahn"))
    return {
        "fig1": ({"failure": c(0), "regularized": c(1)}, refs["convection"]),
        "fig3": ({"sparse": w(0), "dense": w(1), "regularized": w(2)}, refs["wave"]),
        "fig4": ({"fp32": a(0), "fp64": a(1), "double": a(2)}, refs["allen_cahn"]),
        "fig5": ({"convection": c(0), "reaction": pairs["reaction", 0], "wave": w(2),
                  "allen_cahn": a(2)}, dict(refs)),
        "fig6": ({"none": c(0), "l2": c(1), "l1": c(2), "double": c(3)}, refs["convection"]),
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("figure_inputs"))


def draw(inputs, name, out: Path, style=None):
    runs, refs = inputs[name]
    return figures.FIGURES[name](runs, refs, out / f"{name}.png", out / f"{name}.pdf", style)


def check_outputs(out: Path, name: str, width_in=7.0, dpi=150) -> np.ndarray:
    png, pdf = out / f"{name}.png", out / f"{name}.pdf"
    assert png.stat().st_size > 10_000 and pdf.stat().st_size > 5_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    image = matplotlib.image.imread(png)
    height, width = image.shape[:2]
    assert abs(width - width_in * dpi) <= 2
    assert 0.4 * width <= height <= 0.85 * width  # landscape figures of paper width
    assert image.std() > 0.05  # not blank
    assert sorted(p.name for p in out.iterdir()) == sorted([png.name, pdf.name])  # no temp files
    assert oct(png.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    return image


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_each_figure_writes_png_and_pdf(inputs, tmp_path, name):
    out = tmp_path / "new" / "folder"  # parent folders are created
    result = draw(inputs, name, out)
    assert result == {"figure": name, "png": str(out / f"{name}.png"), "pdf": str(out / f"{name}.pdf")}
    check_outputs(out, name)


def test_style_sets_size_and_is_checked(inputs, tmp_path):
    draw(inputs, "fig5", tmp_path, {"width": 5.0, "dpi": 60, "font_size": 6, "cmap": "coolwarm"})
    check_outputs(tmp_path, "fig5", width_in=5.0, dpi=60)
    for bad in ({"colour": "red"}, {"dpi": -1}, {"cmap": "no_such_map"}, {"width": "wide"},
                {"snap_time_slice": "maybe"}):
        with pytest.raises(ValueError, match="style"):
            figures.resolve_style(bad)


def test_time_slice_outside_the_domain_is_an_error(inputs, tmp_path):
    with pytest.raises(ValueError, match="time_slice"):
        draw(inputs, "fig3", tmp_path, {"time_slice": 2.0})
    assert list(tmp_path.iterdir()) == []


def test_time_slice_snaps_to_a_training_time(inputs, tmp_path):
    runs, _ = inputs["fig3"]
    from pinnfail.products.evaluate import Run

    sparse = figures.Case("sparse", Run.read(runs["sparse"][0]), {}, {})
    times = np.unique(sparse.run.points["domain"][:, 1])  # 6 training times: 0, 0.2, ...
    style = figures.resolve_style({"time_slice": 0.5})
    t, note = time_slice(style, sparse)
    assert t in times and abs(t - 0.5) == pytest.approx(np.min(np.abs(times - 0.5))) and note
    style = figures.resolve_style({"time_slice": 0.5, "snap_time_slice": "false"})
    assert time_slice(style, sparse) == (0.5, "")


def test_slice_is_read_from_the_evaluation_at_the_nearest_stored_time():
    x = np.linspace(0, 1, 5)
    fields = {"slice_t": np.array([0.0, 0.45, 1.0]), "slice_x": x,
              "slice_residual": np.stack([x, -2 * x, 3 * x])}
    case = figures.Case("dense", None, fields, {})
    t, xs, r = slice_at(case, 0.5)
    assert t == 0.45 and xs is x and np.array_equal(r, 2 * x)  # |residual|
    assert slice_at(case, 0.9)[0] == 1.0


def test_time_profile_is_the_median_over_x_of_the_residual_map():
    t, x = np.linspace(0, 1, 4), np.linspace(0, 1, 5)
    residual = -np.outer(10.0 ** -np.arange(4), [1, 2, 3, 4, 100])  # residual[i_t, j_x]
    case = figures.Case("sparse", None, {"residual_t": t, "residual_x": x, "residual": residual}, {})
    ts, profile = time_profile(case)
    assert ts is t and np.allclose(profile, 3 * 10.0 ** -np.arange(4))  # |.|, robust to the outlier in x


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_bad_roles_raise_and_write_nothing(inputs, tmp_path, name):
    runs, refs = inputs[name]
    out = tmp_path / "out"
    png, pdf = out / "f.png", out / "f.pdf"
    fn = figures.FIGURES[name]
    with pytest.raises(ValueError, match="unknown role.*allowed"):
        fn({**runs, "bogus": next(iter(runs.values()))}, refs, png, pdf)
    if name in figure_roles.SUBSET:  # any non-empty subset of the roles (test_fig5_draws_a_subset_...)
        with pytest.raises(ValueError, match="no runs"):
            fn({}, refs, png, pdf)
    else:
        first = next(iter(runs))
        with pytest.raises(ValueError, match=f"missing role.*{first}"):
            fn({k: v for k, v in runs.items() if k != first}, refs, png, pdf)
    assert not out.exists()


def test_bad_files_raise_and_write_nothing(inputs, tmp_path):
    runs, ref = inputs["fig1"]
    png, pdf = tmp_path / "f.png", tmp_path / "f.pdf"
    missing = str(tmp_path / "missing.h5")
    cases = [
        ({**runs, "failure": (missing, runs["failure"][1])}, ref, "does not exist"),
        ({**runs, "failure": (runs["failure"][0], missing)}, ref, "does not exist"),
        ({**runs, "failure": runs["failure"][0]}, ref, "pair"),
        (runs, missing, "does not exist"),
        # an evaluation of another run (seed 1's for seed 0's run)
        ({**runs, "failure": (runs["failure"][0], runs["regularized"][1])}, ref, "another run"),
        # a reference of another equation
        (runs, inputs["fig4"][1], "reference is for"),
        # a run file where an evaluation file belongs
        ({**runs, "failure": (runs["failure"][0], runs["failure"][0])}, ref, "not an evaluation"),
    ]
    other_beta = tmp_path.parent / f"{tmp_path.name}_beta30.h5"  # outside tmp_path: see below
    write_reference(other_beta, compute_reference("convection", {"beta": 30.0},
                                                  REFERENCE_SETTINGS["convection"]))
    cases.append((runs, other_beta, r"parameters differ.*\['beta'\]"))
    for bad_runs, bad_ref, message in cases:
        with pytest.raises(ValueError, match=message):
            figures.fig1(bad_runs, bad_ref, png, pdf)
    with pytest.raises(ValueError, match="must end in .pdf"):
        figures.fig1(runs, ref, png, tmp_path / "f.png")
    five_runs, five_refs = inputs["fig5"]
    with pytest.raises(ValueError, match="missing.*allen_cahn"):
        figures.fig5(five_runs, {k: v for k, v in five_refs.items() if k != "allen_cahn"}, png, pdf)
    with pytest.raises(ValueError, match="'wave' run.*reaction"):  # a run under another pde's role
        figures.fig5({**five_runs, "reaction": five_runs["wave"]}, five_refs, png, pdf)
    assert list(tmp_path.iterdir()) == []


def test_fig5_draws_a_subset_of_the_equations_in_registry_order(inputs, tmp_path, monkeypatch):
    """Fig. 5 takes any non-empty subset of the equations (a preset drops Allen-Cahn): one
    column each, in the registry's order whatever the order given; references must match."""
    from pinnfail.products.figures import solutions

    five_runs, five_refs = inputs["fig5"]
    drawn = []
    field_map = solutions.pn.field_map
    monkeypatch.setattr(solutions.pn, "field_map",
                        lambda ax, values, x, t, pde, **kw: drawn.append(pde) or field_map(ax, values, x, t, pde, **kw))
    runs = {pde: five_runs[pde] for pde in ("wave", "convection")}
    figures.fig5(runs, {pde: five_refs[pde] for pde in runs}, tmp_path / "fig5.png", tmp_path / "fig5.pdf")
    assert drawn == ["convection", "convection", "wave", "wave"]  # column by column: prediction, error
    assert (tmp_path / "fig5.png").stat().st_size > 10_000
    figures.fig5({"reaction": five_runs["reaction"]}, {"reaction": five_refs["reaction"]},
                 tmp_path / "one.png", tmp_path / "one.pdf")  # a single column
    assert drawn[4:] == ["reaction", "reaction"]
    with pytest.raises(ValueError, match="no runs"):
        figures.fig5({}, {}, tmp_path / "x.png", tmp_path / "x.pdf")
    with pytest.raises(ValueError, match=r"unknown \['allen_cahn'\]"):
        figures.fig5(runs, {**{pde: five_refs[pde] for pde in runs}, "allen_cahn": five_refs["allen_cahn"]},
                     tmp_path / "x.png", tmp_path / "x.pdf")
    assert not (tmp_path / "x.png").exists()


def test_fig4_draws_a_subset_of_its_runs_in_role_order(inputs, tmp_path, monkeypatch):
    """Fig. 4 without its double PINN run (a CPU preset: that run is a GPU's job): one
    prediction column per run given, FP32 before FP64 whatever the order given, and a title
    that names only what is compared."""
    from pinnfail.products.figures import precision

    runs, ref = inputs["fig4"]
    columns, titles = [], []
    block, render = precision.pn.solutions_block, precision.pn.render

    def solutions_block(fig, cases, *a, **kw):
        columns.append([c.role for c in cases])
        return block(fig, cases, *a, **kw)

    def titled(draw):
        def wrapped(style):
            fig = draw(style)
            titles.append(fig.get_suptitle())
            return fig
        return wrapped

    monkeypatch.setattr(precision.pn, "solutions_block", solutions_block)
    monkeypatch.setattr(precision.pn, "render", lambda name, png, pdf, style, draw: render(name, png, pdf, style, titled(draw)))
    figures.fig4({"fp64": runs["fp64"], "fp32": runs["fp32"]}, ref, tmp_path / "f.png", tmp_path / "f.pdf")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    figures.fig4({"double": runs["double"]}, ref, tmp_path / "d.png", tmp_path / "d.pdf")
    figures.fig4(runs, ref, tmp_path / "all.png", tmp_path / "all.pdf")
    assert columns == [["fp32", "fp64"], ["double"], ["fp32", "fp64", "double"]]
    assert [t.rsplit(": ", 1)[1] for t in titles] == ["precision", "regularization", "precision and regularization"]
    with pytest.raises(ValueError, match="no runs"):
        figures.fig4({}, ref, tmp_path / "x.png", tmp_path / "x.pdf")


def test_failure_while_saving_leaves_nothing_behind(inputs, tmp_path, monkeypatch):
    runs, ref = inputs["fig1"]
    old = tmp_path / "old"
    old.mkdir()
    (old / "f.png").write_bytes(b"previous")
    real_savefig = Figure.savefig

    def savefig(self, fname, *args, format=None, **kwargs):
        if format == "pdf":
            raise RuntimeError("disk full")
        return real_savefig(self, fname, *args, format=format, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        figures.fig1(runs, ref, old / "f.png", tmp_path / "new" / "deeper" / "f.pdf")
    # the old PNG is untouched, no temporary file, no new folder
    assert (old / "f.png").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["f.png", "old"]


def cli(argv):
    args = build_parser().parse_args(argv)
    args.func(args)


def figure_manifest(name, runs, references, style=None, **changes):
    """`pinnfail figure --manifest`: the JSON the workflow passes (pinnfail.workflow.manifest.Figure)."""
    entry = {"name": name, "runs": {role: {"run": str(r), "eval": str(e)} for role, (r, e) in runs.items()},
             "references": {pde: str(path) for pde, path in references.items()}, "style": style or {}}
    return json.dumps({**entry, **changes})


def test_command_line(inputs, tmp_path, capsys):
    runs, refs = inputs["fig5"]
    argv = ["figure", "--manifest", figure_manifest("fig5", runs, refs, {"dpi": 100, "width": 6}),
            "--png", str(tmp_path / "fig5.png"), "--pdf", str(tmp_path / "fig5.pdf")]
    cli(argv)
    assert '"figure": "fig5"' in capsys.readouterr().out
    check_outputs(tmp_path, "fig5", width_in=6, dpi=100)

    runs, ref = inputs["fig1"]
    out = ["--png", str(tmp_path / "a" / "f.png"), "--pdf", str(tmp_path / "a" / "f.pdf")]
    good = {"convection": ref}
    bogus = {**runs, "bogus": runs["failure"]}
    bad = {
        "unknown role": figure_manifest("fig1", bogus, good, {"dpi": 40}),
        "given twice": figure_manifest("fig1", runs, good).replace('"runs": {', '"runs": {"failure": {"run": "x", '
                                                                   '"eval": "y"}, ', 1),
        r"manifest.runs.regularized.eval: missing": figure_manifest("fig1", runs, good).replace(
            f', "eval": "{runs["regularized"][1]}"', "", 1),
        "unknown key": figure_manifest("fig1", runs, good, {"colour": "red"}),
        "unknown figure": figure_manifest("fig2", runs, good),
        "is for 'convection', not 'wave'": figure_manifest("fig1", runs, {"wave": ref}),
        "one reference": figure_manifest("fig1", runs, {"convection": ref, "wave": ref}),
        "names no reference": figure_manifest("fig1", runs, {}),
    }
    for message, manifest in bad.items():
        with pytest.raises(ValueError, match=message):
            cli(["figure", "--manifest", manifest, *out])
    assert not (tmp_path / "a").exists()
    path = tmp_path / "manifest.json"  # a manifest may also be a file
    path.write_text(figure_manifest("fig1", runs, good, {"dpi": 40}))
    cli(["figure", "--manifest", str(path), *out])
    assert (tmp_path / "a" / "f.png").exists() and (tmp_path / "a" / "f.pdf").exists()


def test_a_new_figure_draws_through_the_public_path(inputs, tmp_path, capsys):
    """A toy figure, its roles declared (``products.figure_roles``) and its function registered as
    a figure module does (``@figure``), drawn by `pinnfail figure --manifest` with its role
    checked, as the workflow's figure rule would call it; the config schema gains its panels."""
    from pinnfail.numerics import history as H
    from pinnfail.products import figure_roles
    from pinnfail.products.figures import inputs as registry
    from pinnfail.products.figures import panels
    from pinnfail.workflow.plan import workflow_schema

    with pytest.raises(ValueError, match="unknown figure 'fig99'"):
        registry.figure("fig99")
    figure_roles.ROLES["fig99"] = ("run",)
    schema = workflow_schema(Path(__file__).resolve().parents[1] / "workflow/schemas/config.schema.yaml")
    assert schema["properties"]["figures"]["properties"]["panels"]["properties"]["fig99"]["required"] == ["run"]

    @registry.figure("fig99")
    def fig99(runs, reference, png, pdf, style=None):
        cases, _ = registry.load("fig99", runs, reference)

        def draw(style):
            fig = panels.new_figure(style, 4.0)
            ax = fig.subplots()
            ax.semilogy(cases[0].run.history[H.ITERATION], cases[0].run.history[H.OBJECTIVE])
            return fig

        return panels.render("fig99", png, pdf, style, draw)

    runs, ref = inputs["fig1"]
    try:
        out = ["--png", str(tmp_path / "t.png"), "--pdf", str(tmp_path / "t.pdf")]
        with pytest.raises(ValueError, match="run"):
            cli(["figure", "--manifest", figure_manifest("fig99", runs, {"convection": ref}), *out])
        cli(["figure", "--manifest", figure_manifest("fig99", {"run": runs["failure"]}, {"convection": ref}), *out])
        assert '"figure": "fig99"' in capsys.readouterr().out
        assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "t.pdf").exists()
    finally:
        del registry.FIGURES["fig99"], figure_roles.ROLES["fig99"]


NETWORK_MODULES = ("model", "jets", "losses", "train", "lbfgs", "collocation", "evaluate")


def _imported_modules(path: Path) -> set[str]:
    """The pinnfail modules a figures module names in its import statements."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "pinnfail.products.figures" if node.level == 1 else "pinnfail" if node.level == 2 else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            out |= {module} | {f"{module}.{a.name}" for a in node.names}
    return out


def test_figures_import_nothing_that_builds_a_network():
    package = Path(figures.__file__).parent
    forbidden = {f"pinnfail.{m}" for m in NETWORK_MODULES}
    for path in package.glob("*.py"):
        assert not _imported_modules(path) & forbidden, path.name
    code = "import sys, pinnfail.products.figures; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    assert "pinnfail.products.figures.residual_slice" in loaded
    assert not loaded & (forbidden - {"pinnfail.numerics.jets"})  # jets: the PDE registry's derivatives


def _with_classification(pairs: dict, verdicts: dict, folder: Path) -> dict:
    """The pairs with copies of their evaluations classified as ``verdicts`` (role -> verdict,
    None: no classification attribute)."""
    out = {}
    for role, (run, ev) in pairs.items():
        copy = folder / f"{role}.eval.h5"
        shutil.copy(ev, copy)
        with h5py.File(copy, "r+") as f:
            f.attrs.pop("classification", None)
            if verdicts[role] is not None:
                f.attrs["classification"] = verdicts[role]
        out[role] = (run, str(copy))
    return out


def test_labels_show_the_classification_and_only_overfit_is_a_failure_mode(inputs, tmp_path, monkeypatch):
    runs, ref = inputs["fig1"]
    drawn = []
    real_savefig = Figure.savefig

    def savefig(self, *args, **kwargs):
        drawn.append(self)
        return real_savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    texts = {}
    for top in ("plateau", "not converged", "overfit", None):
        folder = tmp_path / str(top)
        folder.mkdir()
        pairs = _with_classification(runs, {"failure": top, "regularized": "solved" if top else None},
                                     folder)
        figures.fig1(pairs, ref, folder / "f.png", folder / "f.pdf", {"dpi": 30})
        texts[top] = " ".join(t.get_text() for t in drawn[-1].findobj(matplotlib.text.Text))
    for top in ("plateau", "not converged"):
        assert top in texts[top] and "solved" in texts[top] and "failure mode" not in texts[top]
    assert "overfit, a failure mode" in texts["overfit"]
    # no classification: today's labels (variants only); "failure mode" follows the overfit flag
    assert "solved" not in texts[None] and "overfit" not in texts[None].replace("a failure mode", "")

"""The documents work: every relative link and image in README.md and docs/ resolves, every
`pinnfail` and `snakemake` command in their code blocks parses, every docs page is reachable from
docs/README.md, the example equation trains through the public path, and docs/python.md runs as written."""
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# the committed evidence's own pages (part READMEs, study.md) and the benchmarks' results: links only
EVIDENCE_PAGES = [*sorted((ROOT / "docs/results").rglob("*.md")), *sorted((ROOT / "benchmarks").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def links(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return [m.group(1) for m in LINK.finditer(text) if not re.match(r"[a-z]+:", m.group(1))]


@pytest.mark.parametrize("page", PAGES + EVIDENCE_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    for link in links(page):
        target = (page.parent / link.split("#")[0]).resolve()
        assert target.exists(), f"{page.relative_to(ROOT)}: {link}"


def test_every_docs_page_is_reachable_from_the_docs_map():
    linked = {(ROOT / "docs" / link.split("#")[0]).resolve() for link in links(ROOT / "docs/README.md")}
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert page.name == "README.md" or page.resolve() in linked, page.name


def commands():
    for page in PAGES:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split("  #")[0].strip()
                for part in re.split(r"&&|\|", line):
                    words = shlex.split(part.strip(), comments=True) if part.strip() else []
                    while words and "=" in words[0] and not words[0].startswith("-"):
                        words = words[1:]  # VAR=value prefixes
                    if words and words[0] in ("pinnfail", "snakemake"):
                        yield page.name, words


def test_documented_commands_parse():
    from snakemake.cli import get_argument_parser

    from pinnfail.interfaces.cli import build_parser, plugins_first
    from pinnfail.numerics import pdes

    found = list(commands())
    assert any(w[0] == "pinnfail" for _, w in found) and any(w[0] == "snakemake" for _, w in found)
    with pdes.registry_kept():  # the registry as it was for the other tests of this worker
        for page, words in found:
            args = [w for w in words[1:] if "{" not in w]  # brace expansions are the shell's
            try:
                if words[0] == "snakemake":
                    get_argument_parser().parse_args(args)
                else:  # as `pinnfail` does: the plugins first, before or after the subcommand
                    plugins, args = plugins_first(args)
                    for path in plugins:
                        pdes.load_plugin(str(ROOT / path))
                    build_parser().parse_args([a for a in args if a != "--help"] or ["--help"])
            except SystemExit as stop:
                assert stop.code == 0, f"{page}: {' '.join(words)}"


@pytest.mark.parametrize("example, pde", [("advection_diffusion.py", "advection_diffusion"), ("heat.py", "heat")])
def test_the_example_equation_trains_through_the_plugin_path(tmp_path, example, pde):
    """docs/extending.md's examples (periodic; Dirichlet ends), the plugin named before or after
    the subcommand, as the page shows: reference, a few iterations, evaluation against the exact
    solution."""
    from pinnfail.interfaces.cli import main
    from pinnfail.artifacts.formats import read_metrics
    from pinnfail.numerics import pdes

    plugin = str(ROOT / "docs/examples" / example)
    with pdes.registry_kept():  # the registry as it was for the other tests of this worker
        assert main(["--pde-plugin", plugin, "reference", "--pde", pde, "--out", str(tmp_path / "ref.h5")]) == 0
        assert main(["train", "--pde-plugin", plugin, "--pde", pde, "--max-iters", "5", "--grid", "6x6",
                     "--n-initial", "8", "--n-boundary", "8", "--out", str(tmp_path / "run.h5")]) == 0
        assert main(["evaluate", str(tmp_path / "run.h5"), "--pde-plugin", plugin, "--reference",
                     str(tmp_path / "ref.h5"), "--out", str(tmp_path / "eval.h5")]) == 0
        metrics = read_metrics(tmp_path / "eval.h5")
        assert metrics["pde"] == pde and metrics["iterations"] == 5 and metrics["rmae"] > 0


def test_the_python_page_runs(tmp_path, monkeypatch, capsys):
    """docs/python.md's blocks, as written: the first trains, evaluates and loads a run in an empty
    folder; the second renders the ledger of a committed part from the repository root."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs/python.md").read_text(), re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "docs/python.md[0]", "exec"), {})
    assert (tmp_path / "eval.h5").is_file() and capsys.readouterr().out.strip()
    monkeypatch.chdir(ROOT)
    exec(compile(blocks[1], "docs/python.md[1]", "exec"), {})
    assert "# Which claims of the paper hold" in capsys.readouterr().out

"""Text of the figures: variant labels from run configs and classifications, equation
titles from the PDE registry, numbers."""
from __future__ import annotations

import unicodedata
from typing import Mapping

import numpy as np

from pinnfail.numerics.pdes import get_pde
from pinnfail.products.figures.inputs import Case

REGULARIZER_LABELS = {"none": "PINN", "l2": "L2", "l1": "L1", "double": "double PINN"}


def lambda_text(value: float) -> str:
    mantissa, exponent = f"{value:.0e}".split("e")
    if float(mantissa) == 1:
        return f"$\\lambda=10^{{{int(exponent)}}}$"
    return f"$\\lambda={float(mantissa):g}\\times10^{{{int(exponent)}}}$"


def variant(config: dict, *, precision: bool = False, grid: bool = False, lam: bool = False) -> str:
    text = REGULARIZER_LABELS.get(config["regularizer"], config["regularizer"])
    if lam and config["regularizer"] != "none" and config["lambda"] > 0:
        text += f" ({lambda_text(config['lambda'])})"
    if precision:
        text += " " + config["precision"].upper()
    if grid:
        nx, nt = config["grid"]
        text += f", {nx}$\\times${nt}"
    return text


def labels(cases: list[Case], **how) -> dict[str, str]:
    """Variant labels from the configs; on a second line the role where variants collide and
    the run's classification where its evaluation has one (``title`` and ``inline`` place it)."""
    texts = {c.role: variant(c.config, **how) for c in cases}
    counts = {v: list(texts.values()).count(v) for v in texts.values()}
    out = {}
    for case in cases:
        notes = [f"[{case.role}]"] if counts[texts[case.role]] > 1 else []
        if case.classification is not None:
            notes.append(f"({case.classification})")
        out[case.role] = "\n".join([texts[case.role], " ".join(notes)]) if notes else texts[case.role]
    return out


def title(label: str, what: str = "") -> str:
    """A panel title: 'label: what', with the label's second line (role, classification) below."""
    head, _, notes = label.partition("\n")
    text = f"{head}: {what}" if what else head
    return f"{text}\n{notes}" if notes else text


def inline(label: str) -> str:
    return label.replace("\n", " ")


def _symbol(name: str) -> str:
    """A parameter's name as mathtext: Greek letter names as the letter, others upright."""
    try:  # Unicode spells lambda "LAMDA"
        unicodedata.lookup(f"GREEK SMALL LETTER {name.upper().replace('LAMBDA', 'LAMDA')}")
        return f"\\{name}"
    except KeyError:
        return name if len(name) == 1 else f"\\mathrm{{{name}}}"


def pde_parameters(pde_name: str, params: Mapping[str, float] | None = None) -> str:
    """'$\\beta=50$, ...': the equation's parameters (the registry's, with ``params`` applied)."""
    pde = get_pde(pde_name)
    p = pde.params({k: v for k, v in (params or {}).items() if k in pde.defaults})
    return ", ".join(f"${_symbol(k)}={v:g}$" for k, v in p.items())


def pde_title(pde_name: str, params: Mapping[str, float] | None = None, sep: str = " ") -> str:
    """The equation's title and its parameters, e.g. 'Convection ($\\beta=50$)'."""
    values = pde_parameters(pde_name, params)
    return f"{get_pde(pde_name).title}{sep}({values})" if values else get_pde(pde_name).title


def sci(value: float) -> str:
    """Two significant digits, the exponent without padding: 2.7e-5, 1.5e3, 1.0e0."""
    if value is None or not np.isfinite(value):
        return str(value)
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def details(config: dict) -> str:
    nx, nt = config["grid"]
    text = f"{config['precision'].upper()}, {nx}$\\times${nt}"
    if config["regularizer"] != "none":
        text += f", {lambda_text(config['lambda'])}"
    return text

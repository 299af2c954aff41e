"""The runs each of the paper's figures draws, declared once: its roles, in drawing order, and
whether any non-empty subset of them may be given.

The drawing functions (``products.figures``) are registered under these names and check their
runs against these roles; the workflow's config schema (``figures.panels``) is generated from
them (``panels_schema``), so a new figure is one entry here and one drawing function. No JAX,
no matplotlib: planning reads it.
"""
from __future__ import annotations

from pinnfail.numerics.pdes import PDES

# figure -> roles in drawing order; "equations": one role per equation of the registry
ROLES: dict[str, tuple[str, ...] | str] = {
    "fig1": ("failure", "regularized"),
    "fig3": ("sparse", "dense", "regularized"),
    "fig4": ("fp32", "fp64", "double"),
    "fig5": "equations",
    "fig6": ("none", "l2", "l1", "double"),
}
SUBSET = {"fig4", "fig5"}  # drawn from any non-empty subset of their roles (null leaves a panel out)
DESCRIPTIONS = {
    "fig4": "the FP32, FP64 and FP64 double-PINN runs; null leaves a panel out (not all three), e.g. a CPU "
            "preset without config.yaml's double PINN FP64 Allen-Cahn run",
    "fig5": "one column per equation given (registry order); null drops an equation, e.g. a preset leaving "
            "out config.yaml's Allen-Cahn column (a merged config cannot delete a key)",
}


def roles(figure: str) -> tuple[str, ...]:
    """The roles of ``figure`` (the equations of the registry, plugins included, for fig5)."""
    if figure not in ROLES:
        raise ValueError(f"figure: unknown figure {figure!r}; allowed: {sorted(ROLES)}")
    given = ROLES[figure]
    return tuple(PDES) if given == "equations" else tuple(given)


def panels_schema(pde_name: dict) -> dict:
    """JSON schema of ``figures.panels``: one object per figure, its roles as properties (a run's
    experiment; null allowed where a subset may be drawn); ``pde_name`` is the schema of an
    equation name (for the roles that are equations)."""
    properties = {}
    for figure, given in ROLES.items():
        value = {"type": ["string", "null"]} if figure in SUBSET else {"type": "string"}
        if given == "equations":
            spec = {"type": "object", "minProperties": 1, "propertyNames": pde_name, "additionalProperties": value}
        else:
            spec = {"type": "object", "additionalProperties": False, "required": list(given),
                    "properties": {role: dict(value) for role in given}}
        if figure in DESCRIPTIONS:
            spec["description"] = DESCRIPTIONS[figure]
        properties[figure] = spec
    return {"type": "object", "additionalProperties": False, "properties": properties}

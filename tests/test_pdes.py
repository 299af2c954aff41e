"""The exact solutions satisfy their PDE and every initial/boundary condition.

Residuals come from JAX autodiff in float64 at random points. Each residual is
compared with the size of the largest term it contains, so that the tolerance
means "zero up to rounding" whatever the parameters:
convection beta*max|u| (u_t and beta u_x), reaction rho*max|u|, wave
(c*pi*max(1, beta))^2 * max|u| (u_tt and c^2 u_xx); conditions max|u| times
the same factor (the wave velocity condition contains u_t).
"""
import importlib.util
from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnfail.numerics.pdes import PDES, get_pde, load_plugin, register


# The heat equation of docs/examples/heat.py (Dirichlet ends, an exact solution), the worked
# example of docs/extending.md: the tiny preset of tests/test_workflow.py names that file in
# `pde_plugins` and runs it through reference, training, evaluation and Table 1.
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
_spec = importlib.util.spec_from_file_location("heat_example", EXAMPLES / "heat.py")
_heat = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_heat)
HEAT = _heat.HEAT

CASES = [
    ("convection", None),
    ("convection", {"beta": 7.0}),
    ("reaction", None),
    ("reaction", {"rho": 2.0}),
    ("wave", None),
    ("wave", {"c": 1.0, "beta": 5.0}),
]


def term_scale(name, p):
    if name == "convection":
        return p["beta"]
    if name == "reaction":
        return p["rho"]
    return (p["c"] * np.pi * max(1.0, p["beta"])) ** 2


def points(lo, hi, n, key):
    """n random points in [lo, hi] plus both ends."""
    inner = jax.random.uniform(key, (n,), jnp.float64, lo, hi)
    return jnp.concatenate([jnp.array([lo, hi]), inner])


@pytest.mark.parametrize("name,overrides", CASES)
def test_exact_solution_satisfies_pde_and_conditions(name, overrides):
    pde = get_pde(name)
    p = pde.params(overrides)

    def u(x, t):
        return pde.exact(x, t, p)

    kx, kt, ks = jax.random.split(jax.random.PRNGKey(0), 3)
    x = points(pde.x0, pde.x1, 2000, kx)
    t = points(pde.t0, pde.t1, 2000, kt)
    u_max = float(jnp.max(jnp.abs(u(x, t))))
    scale = term_scale(name, p) * u_max

    res = pde.residual_of(u, x, t, p)
    assert res.dtype == jnp.float64
    assert float(jnp.max(jnp.abs(res))) / scale < 1e-8

    for cond in pde.conditions:
        lo, hi = pde.x_domain if cond.line == "initial" else pde.t_domain
        s = points(lo, hi, 500, ks)
        r = cond.residual_of(u, s, pde, p)
        assert r.shape[0] == s.shape[0]
        assert float(jnp.max(jnp.abs(r))) / scale < 1e-8, cond.name


def test_residual_detects_a_wrong_solution():
    """The check above is not vacuous: a perturbed solution fails it clearly."""
    pde = get_pde("convection")
    p = pde.params()
    x = jnp.linspace(0.1, 6.0, 50)
    t = jnp.linspace(0.1, 0.9, 50)
    res = pde.residual_of(lambda a, b: jnp.sin(a - 49.0 * b), x, t, p)
    assert float(jnp.max(jnp.abs(res))) > 0.5


def test_every_pde_has_conditions_on_known_lines():
    for pde in PDES.values():
        assert pde.conditions
        assert {c.line for c in pde.conditions} <= {"initial", "boundary"}
        assert any(c.line == "initial" for c in pde.conditions)


def test_unknown_equation_names_the_choices():
    with pytest.raises(ValueError, match="nope") as err:
        get_pde("nope")
    for name in ("allen_cahn", "convection", "reaction", "wave"):
        assert name in str(err.value)


def test_unknown_parameter_is_an_error():
    pde = get_pde("convection")
    with pytest.raises(ValueError, match="bogus") as err:
        pde.params({"bogus": 1})
    assert "beta" in str(err.value)
    assert pde.params({"beta": 30}) == {"beta": 30.0}
    assert pde.params() == {"beta": 50.0}


@pytest.fixture
def heat_registered():
    """HEAT in the registry for one test (the registry is process-wide)."""
    register(HEAT)
    yield HEAT
    del PDES["heat"]


def test_toy_heat_exact_solution_satisfies_its_equation_and_conditions():
    p = HEAT.params({"k": 0.3})
    kx, kt = jax.random.split(jax.random.PRNGKey(1))
    x, t = points(0.0, 1.0, 500, kx), points(0.0, 1.0, 500, kt)
    u = lambda a, b: HEAT.exact(a, b, p)  # noqa: E731
    scale = p["k"] * np.pi**2
    assert float(jnp.max(jnp.abs(HEAT.residual_of(u, x, t, p)))) / scale < 1e-10
    for cond in HEAT.conditions:
        assert float(jnp.max(jnp.abs(cond.residual_of(u, x, HEAT, p)))) < 1e-12, cond.name
    wrong = lambda a, b: jnp.exp(-2 * p["k"] * jnp.pi**2 * b) * jnp.sin(jnp.pi * a)  # noqa: E731
    assert float(jnp.max(jnp.abs(HEAT.residual_of(wrong, x, t, p)))) / scale > 0.1


def test_register_adds_in_order_and_refuses_clashes(heat_registered):
    assert list(PDES)[:4] == ["convection", "reaction", "wave", "allen_cahn"]
    assert list(PDES)[-1] == "heat" and get_pde("heat") is HEAT
    assert register(HEAT) is HEAT  # the same definition again: no-op
    with pytest.raises(ValueError, match="'heat' is already registered"):
        register(replace(HEAT, doc="another heat"))
    with pytest.raises(ValueError, match="lower-case identifier"):
        register(replace(HEAT, name="Heat 2"))


def test_a_plugin_file_registers_its_equations(tmp_path):
    plugin = tmp_path / "my_pdes.py"
    plugin.write_text("from pinnfail.numerics.pdes import CONVECTION\nfrom dataclasses import replace\n"
                      "PINNFAIL_PDES = [replace(CONVECTION, name='advection')]\n")
    try:
        (pde,) = load_plugin(plugin)
        assert PDES["advection"] is pde and load_plugin(plugin) == (pde,)
    finally:
        PDES.pop("advection", None)
    (tmp_path / "empty.py").write_text("")
    with pytest.raises(ValueError, match="defines no PINNFAIL_PDES"):
        load_plugin(tmp_path / "empty.py")
    with pytest.raises(ValueError, match="no such file"):
        load_plugin(tmp_path / "missing.py")

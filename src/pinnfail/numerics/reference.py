"""Reference solutions on a regular (x, t) grid (their files: ``artifacts.formats``).

Convection, reaction and wave are evaluated from their exact solutions.
Allen-Cahn has none: it is solved here with a Fourier pseudo-spectral method in
x (periodic on [x0, x1)) and ETDRK4 in t (Kassam & Trefethen 2005, "Fourth-order
time-stepping for stiff PDEs"), with the phi functions evaluated by their
contour-integral means. Defaults are converged: doubling ``modes`` changes the
solution by about 1e-9 and halving ``dt`` by about 4e-12 (relative L2).
"""
from __future__ import annotations

import math
import time

import numpy as np

from pinnfail.numerics.pdes import PDE, get_pde
from pinnfail.numerics.solution import Reference, method_of, checked_settings



def compute_reference(
    pde_name: str, params_overrides: dict | None = None, settings: dict | None = None
) -> Reference:
    """The solution of ``pde_name`` on x = linspace(x0, x1, nx), t = linspace(t0, t1, nt)."""
    pde = get_pde(pde_name)
    params = pde.params(params_overrides)
    settings = checked_settings(pde_name, settings)
    start = time.perf_counter()
    x = np.linspace(pde.x0, pde.x1, settings["nx"])
    t = np.linspace(pde.t0, pde.t1, settings["nt"])
    if method_of(pde) == "analytic":
        from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings: the reader of a file needs no JAX)
        import jax.numpy as jnp

        u = np.asarray(pde.exact(jnp.asarray(x)[None, :], jnp.asarray(t)[:, None], params))
        u = np.broadcast_to(u.astype(np.float64), (t.size, x.size)).copy()
    else:
        u = _allen_cahn(pde, params, x, t, settings)
    return Reference(pde_name, x, t, u, params, settings, time.perf_counter() - start)


def _etdrk4_coefficients(lin: np.ndarray, h: float, points: int):
    """exp(hL), exp(hL/2) and the ETDRK4 weights Q, f1, f2, f3 (Kassam & Trefethen,
    eq. 2.5/2.6) as real means over a half circle of radius 1 around each h*L."""
    r = np.exp(1j * np.pi * (np.arange(1, points + 1) - 0.5) / points)
    z = h * lin[:, None] + r[None, :]
    ez = np.exp(z)

    def mean(values):
        return h * np.real(np.mean(values, axis=1))

    q = mean((np.exp(z / 2) - 1) / z)
    f1 = mean((-4 - z + ez * (4 - 3 * z + z**2)) / z**3)
    f2 = mean((2 + z + ez * (z - 2)) / z**3)
    f3 = mean((-4 - 3 * z - z**2 + ez * (4 - z)) / z**3)
    return np.exp(h * lin), np.exp(h * lin / 2), q, f1, f2, f3


def _allen_cahn(pde: PDE, params: dict, x: np.ndarray, t: np.ndarray, s: dict) -> np.ndarray:
    """u_t = d u_xx - reaction (u^3 - u), periodic, as u_hat' = L u_hat + N(u_hat) with
    L = -d k^2 and N evaluated in physical space on the ``modes``-point grid (not
    de-aliased: the default ``modes`` resolves the solution, so aliasing is below 1e-9).

    Row t0 is the initial condition itself; later rows are the exact Fourier
    interpolant of the spectral solution at the output x.
    """
    m, period = s["modes"], pde.x1 - pde.x0
    n = np.arange(m // 2 + 1)
    lin = -params["diffusion"] * (2 * np.pi / period * n) ** 2
    reaction = params["reaction"]

    fine = m * s["ic_oversample"]
    u0 = np.asarray(pde.initial(pde.x0 + period * np.arange(fine) / fine, params), np.float64)
    v = np.fft.rfft(u0)[: m // 2 + 1] * (m / fine)
    if fine > m:  # the m-point Nyquist mode holds the cosine part of both modes +-m/2
        v[-1] = 2 * v[-1].real

    interval = (t[-1] - t[0]) / (t.size - 1)
    substeps = max(1, math.ceil(interval / s["dt"] * (1 - 1e-12)))
    e, e2, q, f1, f2, f3 = _etdrk4_coefficients(lin, interval / substeps, s["contour_points"])

    def nonlinear(vh):
        u = np.fft.irfft(vh, m)
        return np.fft.rfft(reaction * (u - u**3))

    coeffs = np.empty((t.size - 1, n.size), complex)
    for i in range(t.size - 1):
        for _ in range(substeps):
            nv = nonlinear(v)
            a = e2 * v + q * nv
            na = nonlinear(a)
            b = e2 * v + q * na
            nb = nonlinear(b)
            c = e2 * a + q * (2 * nb - nv)
            v = e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nonlinear(c)
        coeffs[i] = v

    # u(x) = Re sum_n w_n v_n exp(2 pi i n (x - x0) / period) / m; phases reduced mod 1
    # so that x = x1 reproduces x = x0 exactly.
    weights = np.full(n.size, 2.0)
    weights[0] = weights[-1] = 1.0
    phase = np.mod(np.outer(n, (x - pde.x0) / period), 1.0)
    basis = np.exp(2j * np.pi * phase) * (weights / m)[:, None]
    initial = np.asarray(pde.initial(x, params), np.float64)
    return np.vstack([initial, np.real(coeffs @ basis)])

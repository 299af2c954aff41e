"""Training and test point sets."""
import numpy as np
import pytest

from pinnfail.numerics.collocation import count_points, training_points
from pinnfail.numerics.config import run_config
from pinnfail.numerics.pdes import get_pde
from pinnfail.numerics.schedule import Problem


def test_point_counts_match_paper():
    for pde, grid, n, expected in [("convection", [20, 20], 200, 800), ("reaction", [16, 16], 100, 456),
                                   ("wave", [12, 12], 100, 444), ("allen_cahn", [64, 64], 100, 4396),
                                   ("convection", [101, 101], 101, 10403), ("wave", [101, 101], 101, 10504)]:
        cfg = run_config({"pde": pde, "grid": grid, "n_initial": n, "n_boundary": n})
        assert count_points(training_points(get_pde(pde), cfg, np.float32)) == expected
        assert Problem.from_config(cfg).n_points == expected


@pytest.mark.parametrize("pde", ["convection", "reaction", "wave", "allen_cahn"])
def test_n_from_the_settings_is_the_points_made(pde):
    """One N: counted from the settings (Table 1, `pinnfail cost`) equals the points training makes."""
    from pinnfail.numerics.collocation import count_points, n_points, training_points
    from pinnfail.numerics.pdes import get_pde
    from pinnfail.workflow.cluster import n_points as cost_points

    config = {"pde": pde, "grid": [7, 5], "n_initial": 11, "n_boundary": 13}
    made = count_points(training_points(get_pde(pde), config, np.float64))
    assert n_points(get_pde(pde), config) == made == cost_points(config)

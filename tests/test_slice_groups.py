"""The grouped slice step leaves each coordinate's density invariant, and each chain's draws are
its own."""

import numpy as np
import pytest
from scipy import stats

from gibbs.kernels.slice_groups import slice_step_grouped
from gibbs.streams import ChainStreams, chain_seed_sequences

MU = np.linspace(-3.0, 3.0, 8)
SD = np.geomspace(0.05, 5.0, 8)


def _streams(chains, seed=1):
    return ChainStreams(chain_seed_sequences(seed, chains)[1])


def _normal_logf(sd):
    return lambda a: -0.5 * ((a - MU) / sd) ** 2


def _one_step_from_exact_draws(target_sd, width, reps=4000):
    rng = np.random.default_rng(7)
    x0 = MU + SD * rng.standard_normal((reps, MU.size))
    return slice_step_grouped(_streams(reps), _normal_logf(target_sd), x0, width)


@pytest.mark.parametrize("width", [0.02, 1.0, 40.0])  # the stress settings' extremes
def test_one_step_keeps_each_coordinates_normal(width):
    x1 = _one_step_from_exact_draws(SD, width * SD)
    p = [stats.kstest((x1[:, j] - MU[j]) / SD[j], "norm").pvalue for j in range(MU.size)]
    assert min(p) > 0.01 / MU.size, p  # Bonferroni over the coordinates


def test_one_step_towards_another_density_is_seen():
    # Negative control: the same check on a step whose target is twice as wide must fail.
    x1 = _one_step_from_exact_draws(2.0 * SD, SD)
    p = [stats.kstest((x1[:, j] - MU[j]) / SD[j], "norm").pvalue for j in range(MU.size)]
    assert min(p) < 0.01 / MU.size, p


def test_a_chains_draws_do_not_depend_on_the_other_chains():
    x0 = np.tile(MU, (3, 1))
    three = slice_step_grouped(_streams(3), _normal_logf(SD), x0, SD)
    one = slice_step_grouped(_streams(1), _normal_logf(SD), x0[:1], SD)
    np.testing.assert_array_equal(three[:1], one)

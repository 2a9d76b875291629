"""The count families' classical baselines: Poisson regression by IRLS, with an offset."""

import numpy as np
import pytest

from gibbs.data import HierarchicalData
from reference_models.count_pooling import complete_pooling_poisson, no_pooling_poisson


def _counts(rng, J=12, n_per=20, overdispersed=False, zero_group=False):
    group = np.repeat(np.arange(J), n_per)
    x = rng.normal(size=group.size)
    offset = rng.normal(0.0, 0.5, group.size)
    a = rng.normal(0.5, 0.4, J)
    eta = offset + a[group] + 0.7 * x
    if overdispersed:
        eta = eta + rng.normal(0.0, 0.8, group.size)
    y = rng.poisson(np.exp(eta)).astype(float)
    if zero_group:
        y[group == 0] = 0.0
    data = HierarchicalData(
        y=y, X=x[:, None], group=group, U=np.ones((J, 1)), offset=offset, x_names=["x"]
    )
    return data


def test_intercept_only_fit_is_the_closed_form():
    """With U = 1 and no X the ML intercept is log(sum y / sum exp(offset)), its se
    1 / sqrt(sum y)."""
    rng = np.random.default_rng(3)
    d = _counts(rng)
    d = HierarchicalData(y=d.y, X=np.empty((d.n, 0)), group=d.group, U=d.U, offset=d.offset)
    fit = complete_pooling_poisson(d)
    est, se = fit.coef.loc["intercept"]
    assert est == pytest.approx(np.log(d.y.sum() / np.exp(d.offset).sum()), rel=1e-10)
    assert se == pytest.approx(1 / np.sqrt(d.y.sum()), rel=1e-8)


def test_no_pooling_solves_the_score_equations_and_reads_overdispersion():
    rng = np.random.default_rng(4)
    d = _counts(rng)
    fit = no_pooling_poisson(d)
    mu = np.exp(fit.fitted)
    D = np.column_stack([np.eye(d.n_groups)[d.group], d.X])
    np.testing.assert_allclose(D.T @ (d.y - mu), 0.0, atol=1e-6 * d.y.sum())
    # Pearson chi^2 / df near 1 for Poisson data (sd of the ratio about sqrt(2 / df) = 0.09) ...
    pearson = float(fit.notes[-1].split("= ")[1].split()[0])
    assert abs(pearson - 1.0) < 4 * np.sqrt(2 / fit.dof)
    # ... and far above it with lognormal overdispersion (negative control).
    over = no_pooling_poisson(_counts(np.random.default_rng(4), overdispersed=True))
    assert float(over.notes[-1].split("= ")[1].split()[0]) > 2.0


def test_a_group_of_zero_counts_is_listed_not_estimated():
    d = _counts(np.random.default_rng(5), zero_group=True)
    with pytest.warns(RuntimeWarning, match="only zero counts"):
        fit = no_pooling_poisson(d)
    assert fit.unestimable_groups == [d.group_names[0]]
    assert d.group_names[0] not in fit.group_intercepts.index
    assert np.isnan(fit.fitted[d.group == 0]).all()

"""Independent dense-matrix forms of the Gaussian model's conditionals (for closed-form tests).

Written from the model equations with the full n x J indicator matrix, sharing nothing with the
kernels' sufficient-statistic algebra.
"""

import numpy as np


def joint_precision(data, priors, sigma_y, sigma_alpha):
    """Precision and linear term of p(alpha, beta, gamma | sigma_y, sigma_alpha, y)."""
    n, J, p, q = data.n, data.n_groups, data.p, data.q
    Z = np.zeros((n, J))
    Z[np.arange(n), data.group] = 1.0
    X, U, y = data.X, data.U, data.y
    vy, va = sigma_y**2, sigma_alpha**2
    Pb, Pmb = priors.beta.precision(p)
    Pg, Pmg = priors.gamma.precision(q)
    a, b, g = slice(0, J), slice(J, J + p), slice(J + p, J + p + q)
    Lam = np.zeros((J + p + q, J + p + q))
    Lam[a, a] = Z.T @ Z / vy + np.eye(J) / va
    Lam[a, b] = Z.T @ X / vy
    Lam[b, a] = Lam[a, b].T
    Lam[a, g] = -U / va
    Lam[g, a] = Lam[a, g].T
    Lam[b, b] = X.T @ X / vy + Pb
    Lam[g, g] = U.T @ U / va + Pg
    h = np.concatenate([Z.T @ y / vy, X.T @ y / vy + Pmb, Pmg])
    return Lam, h, {"alpha": a, "beta": b, "gamma": g}


def block_conditional(Lam, h, blocks, name, theta):
    """Mean and covariance of one block given the others (theta: full vector)."""
    A = np.zeros(Lam.shape[0], dtype=bool)
    A[blocks[name]] = True
    cov = np.linalg.inv(Lam[np.ix_(A, A)])
    mean = cov @ (h[A] - Lam[np.ix_(A, ~A)] @ theta[~A])
    return mean, cov


def marginal_beta_gamma(Lam, h, blocks):
    """Mean and covariance of (beta, gamma) with alpha integrated out."""
    cov_full = np.linalg.inv(Lam)
    mean_full = cov_full @ h
    J = blocks["alpha"].stop
    return mean_full[J:], cov_full[J:, J:]

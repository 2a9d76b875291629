"""Radon loaders and synthetic data with known truth.

- :func:`load_radon`: Gelman & Hill's Minnesota radon data (ARM preparation, 919 houses,
  85 counties), read from the copy inside the installed ArviZ wheel: no network, no files of ours.
- :func:`load_radon_all`: the whole EPA survey (8 states, 12,777 houses) from ``srrs2.dat`` and
  ``cty.dat``, found in a data directory (argument, then the environment variable
  ``GIBBS_SUITE_RADON_DIR``), else downloaded once with pooch against pinned SHA-256 hashes.
- :func:`simulate_hierarchical`: data from the varying-intercept model with the true parameters.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData

__all__ = [
    "RADON_DIR_ENV",
    "RADON_FILES",
    "RadonSurvey",
    "SyntheticTruth",
    "EPA_ACTION_LEVEL",
    "load_radon",
    "load_radon_action_level",
    "load_radon_all",
    "load_radon_frame",
    "simulate_binomial",
    "simulate_hierarchical",
    "simulate_factors",
    "simulate_slopes",
]

RADON_DIR_ENV = "GIBBS_SUITE_RADON_DIR"
# SHA-256 of the public copies (identical to shared/data/radon/SHA256SUMS).
RADON_FILES = {
    "srrs2.dat": "11d037030ed4af5a5eb99a443163b469b10147864e61b3902b34445435205c39",
    "cty.dat": "5aa648547b9b565d77b9f55defd2f292520441cc6df7a27206802006dade7b63",
}
RADON_BASE_URL = "https://raw.githubusercontent.com/pymc-devs/pymc-examples/main/examples/data/"
# ARM replaces zero activity by 0.1 pCi/L before taking logs.
_ARM_ZERO_ACTIVITY = 0.1
_FLOOR_MISSING = 9


# --------------------------------------------------------------------------- Minnesota (ArviZ)
def _arviz_radon_json() -> Path:
    path = resources.files("arviz") / "data" / "example_data" / "code" / "radon" / "radon.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"the radon example data was not found inside the installed ArviZ ({path}); "
            "gibbs-suite needs arviz>=0.23,<1, whose wheel ships it"
        )
    return Path(str(path))


def load_radon_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return Minnesota radon as DataFrames (ARM preparation).

    Returns
    -------
    houses : DataFrame
        919 rows: ``log_radon``, ``floor`` (0 basement, 1 first floor), ``county`` (categorical
        over all 85 counties).
    counties : DataFrame
        85 rows indexed by county name, with ``log_uranium`` (county soil uranium, log ppm).
    """
    raw = json.loads(_arviz_radon_json().read_text())
    names = [str(c).strip() for c in raw["county_name"]]
    county = pd.Categorical.from_codes(np.asarray(raw["county"], dtype=int), categories=names)
    houses = pd.DataFrame(
        {
            "log_radon": np.asarray(raw["y"], dtype=float),
            "floor": np.asarray(raw["x"], dtype=float),
            "county": county,
        }
    )
    counties = pd.DataFrame(
        {"log_uranium": np.asarray(raw["u"], dtype=float)}, index=pd.Index(names, name="county")
    )
    return houses, counties


def load_radon(uranium: bool = True, floor: bool = True) -> HierarchicalData:
    """Load Minnesota radon (Gelman & Hill ch. 12) as :class:`~gibbs.data.HierarchicalData`.

    Parameters
    ----------
    uranium : bool
        Include county log-uranium as a group-level predictor (Gelman & Hill's M2). Without it
        ``U`` is the intercept alone.
    floor : bool
        Include ``floor`` as the individual-level predictor (M1, M2); ``False`` gives the
        intercept-only model M0.

    Returns
    -------
    HierarchicalData
        919 houses in 85 counties; ``y`` is log radon.
    """
    houses, counties = load_radon_frame()
    return HierarchicalData.from_dataframe(
        houses,
        y="log_radon",
        group="county",
        x=["floor"] if floor else [],
        u=["log_uranium"] if uranium else [],
        group_data=counties,
    )


# The US EPA's action level for indoor radon, in pCi/L.
EPA_ACTION_LEVEL = 4.0


def load_radon_action_level(uranium: bool = True, floor: bool = True) -> HierarchicalData:
    """Minnesota radon with the binary outcome "house above the EPA action level" (logistic/probit).

    ``y`` is 1 when log radon > log 4 (activity above 4 pCi/L, the level at which the EPA
    recommends mitigation), else 0; predictors as in :func:`load_radon`.

    Returns
    -------
    HierarchicalData
        919 houses in 85 counties, outcome ``above_action_level``.
    """
    houses, counties = load_radon_frame()
    houses = houses.assign(
        above_action_level=(houses["log_radon"] > np.log(EPA_ACTION_LEVEL)).astype(float)
    )
    return HierarchicalData.from_dataframe(
        houses,
        y="above_action_level",
        group="county",
        x=["floor"] if floor else [],
        u=["log_uranium"] if uranium else [],
        group_data=counties,
    )


# --------------------------------------------------------------------------- all states
def _fetch_radon_files(data_dir: str | os.PathLike | None) -> dict[str, Path]:
    """Locate (or download once) the survey files; raise with instructions when impossible."""
    source = data_dir if data_dir is not None else os.environ.get(RADON_DIR_ENV)
    if source is not None:
        folder = Path(source)
        paths = {name: folder / name for name in RADON_FILES}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"radon survey files missing: {', '.join(missing)}. Put srrs2.dat and cty.dat "
                f"in {folder} (the folder given by data_dir or ${RADON_DIR_ENV})"
            )
        return paths
    import pooch

    try:
        return {
            name: Path(
                pooch.retrieve(
                    RADON_BASE_URL + name,
                    known_hash=f"sha256:{sha}",
                    fname=name,
                    path=pooch.os_cache("gibbs-suite") / "radon",
                    progressbar=False,
                )
            )
            for name, sha in RADON_FILES.items()
        }
    except Exception as exc:  # network errors come in many types; all mean the same here
        raise FileNotFoundError(
            f"could not download the radon survey files ({type(exc).__name__}: {exc}). Offline, "
            f"put srrs2.dat and cty.dat in a folder and pass it as data_dir or set "
            f"${RADON_DIR_ENV} to it (SHA-256: {RADON_FILES})"
        ) from exc


@dataclass(frozen=True)
class RadonSurvey:
    """The EPA radon survey at its three levels.

    Attributes
    ----------
    houses : DataFrame
        One row per house: ``state`` (real state; R5 houses take ``state2``), ``survey``
        (``"R5"`` for the regional sample, else the state), ``stfips``, ``cntyfips``,
        ``county_key`` (``"stfips-cntyfips"``), ``county`` (name), ``floor`` (0-3, NaN where the
        survey codes 9 = missing), ``activity``, ``log_radon`` (ARM: zero activity -> 0.1),
        ``log_uranium`` (NaN where ``cty.dat`` has no uranium for the county, or records 0).
    counties : DataFrame
        One row per county with houses, indexed by ``county_key`` in order of first appearance:
        ``state``, ``stfips``, ``cntyfips``, ``county``, ``log_uranium``, ``n_houses``.
    states : DataFrame
        One row per state: ``n_houses``, ``n_counties``.
    """

    houses: pd.DataFrame
    counties: pd.DataFrame
    states: pd.DataFrame

    def to_hierarchical(
        self,
        states: list[str] | None = None,
        *,
        floor: bool = True,
        uranium: bool = True,
        drop_missing: bool = True,
    ) -> HierarchicalData:
        """Return the house-in-county model data for a subset of states.

        Parameters
        ----------
        states : list of str, optional
            Real state codes (e.g. ``["MN", "WI"]``); all states by default.
        floor, uranium : bool
            Include floor (X) and county log-uranium (U).
        drop_missing : bool
            Drop houses with missing floor or county uranium; otherwise they raise.

        Returns
        -------
        HierarchicalData
            Groups are counties keyed ``"stfips-cntyfips"``.
        """
        houses = self.houses
        if states is not None:
            unknown = sorted(set(states) - set(self.states.index))
            if unknown:
                raise ValueError(f"unknown states {unknown}; known: {list(self.states.index)}")
            houses = houses[houses["state"].isin(states)]
        needed = (["floor"] if floor else []) + (["log_uranium"] if uranium else [])
        if drop_missing and needed:
            houses = houses.dropna(subset=needed)
        counties = self.counties.loc[pd.unique(houses["county_key"])]
        return HierarchicalData.from_dataframe(
            houses,
            y="log_radon",
            group="county_key",
            x=["floor"] if floor else [],
            u=["log_uranium"] if uranium else [],
            group_data=counties,
        )

    def to_levels(
        self,
        states: list[str] | None = None,
        *,
        floor: bool = True,
        uranium: bool = True,
        drop_missing: bool = True,
    ) -> tuple[HierarchicalData, dict[str, np.ndarray]]:
        """Return the house < county < state model: :meth:`to_hierarchical` and the state factor.

        Returns
        -------
        data : HierarchicalData
            Houses in counties, as :meth:`to_hierarchical`.
        factors : dict
            ``{"state": the real state of every house}``, nested above the counties; pass it
            as ``gibbs.sample(data, factors=factors)``.
        """
        data = self.to_hierarchical(states, floor=floor, uranium=uranium, drop_missing=drop_missing)
        state_of = self.counties["state"]
        keys = np.asarray(data.group_names, dtype=object)[data.group]
        return data, {"state": state_of.loc[keys].to_numpy()}


def _read_padded_csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, skipinitialspace=True, dtype=str)
    df.columns = [c.strip() for c in df.columns]
    return df.apply(lambda col: col.str.strip())


def load_radon_all(data_dir: str | os.PathLike | None = None) -> RadonSurvey:
    """Load the whole radon survey (8 survey states, 12,777 houses) in ARM's preparation.

    Parameters
    ----------
    data_dir : path, optional
        Folder holding ``srrs2.dat`` and ``cty.dat``. Defaults to ``$GIBBS_SUITE_RADON_DIR``,
        else a one-off pooch download (hash-pinned) into the user cache.

    Returns
    -------
    RadonSurvey

    Raises
    ------
    FileNotFoundError
        When the files are not in the folder, or cannot be downloaded (offline); the message says
        where to put them.
    """
    paths = _fetch_radon_files(data_dir)
    raw = _read_padded_csv(paths["srrs2.dat"])
    cty = _read_padded_csv(paths["cty.dat"])

    houses = pd.DataFrame(
        {
            "idnum": raw["idnum"].astype(int),
            # The regional R5 sample records its real state in state2.
            "state": raw["state2"].where(raw["state"] == "R5", raw["state"]),
            "survey": raw["state"],
            "stfips": raw["stfips"].astype(int),
            "cntyfips": raw["cntyfips"].astype(int),
            "county": raw["county"],
            "floor": raw["floor"].astype(float),
            "activity": raw["activity"].astype(float),
        }
    )
    houses.loc[houses["floor"] == _FLOOR_MISSING, "floor"] = np.nan
    houses["log_radon"] = np.log(houses["activity"].where(houses["activity"] > 0, 0.1))
    houses["county_key"] = [
        f"{s:02d}-{c:03d}" for s, c in zip(houses.stfips, houses.cntyfips, strict=True)
    ]

    cty = cty.assign(stfips=cty["stfips"].astype(int), ctfips=cty["ctfips"].astype(int))
    # cty.dat repeats some keys: ARM keeps the first row of each.
    cty = cty.drop_duplicates(subset=["stfips", "ctfips"], keep="first")
    uppm = cty["Uppm"].astype(float).to_numpy()
    # A few counties record Uppm = 0 (no measurement): their log is undefined, so they join as NaN.
    uranium = pd.Series(
        np.log(np.where(uppm > 0, uppm, np.nan)),
        index=[f"{s:02d}-{c:03d}" for s, c in zip(cty.stfips, cty.ctfips, strict=True)],
    )
    houses["log_uranium"] = houses["county_key"].map(uranium)

    first = houses.drop_duplicates("county_key").set_index("county_key")
    counties = first[["state", "stfips", "cntyfips", "county", "log_uranium"]].copy()
    counties["n_houses"] = houses.groupby("county_key", sort=False).size()
    states = pd.DataFrame(
        {
            "n_houses": houses.groupby("state").size(),
            "n_counties": counties.groupby("state").size(),
        }
    )
    return RadonSurvey(houses=houses, counties=counties, states=states)


# --------------------------------------------------------------------------- synthetic
@dataclass(frozen=True)
class SyntheticTruth:
    """The parameters that generated a synthetic dataset."""

    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    sigma_y: float
    sigma_alpha: float

    def as_dict(self) -> dict[str, Any]:
        """Return the truth keyed by posterior variable name (no sigma_y for binomial data)."""
        out = {
            "alpha": self.alpha,
            "beta": self.beta,
            "gamma": self.gamma,
            "sigma_y": self.sigma_y,
            "sigma_alpha": self.sigma_alpha,
        }
        if np.isnan(self.sigma_y):
            del out["sigma_y"]
        return out


def simulate_hierarchical(
    n_groups: int = 30,
    group_sizes: int | np.ndarray = 10,
    *,
    beta: np.ndarray | list[float] = (0.5,),
    gamma: np.ndarray | list[float] = (1.0, 0.7),
    sigma_y: float = 0.8,
    sigma_alpha: float = 0.4,
    seed: int | np.random.SeedSequence | None = 0,
) -> tuple[HierarchicalData, SyntheticTruth]:
    """Simulate the varying-intercept model with known parameters.

    ``X`` and the non-intercept columns of ``U`` are standard normal; ``U``'s first column is ones.

    Parameters
    ----------
    n_groups : int
        Number of groups ``J``.
    group_sizes : int or array of int, shape (J,)
        Rows per group; zeros (groups predicted from ``U`` alone) and ones are allowed.
    beta : array_like, shape (p,)
        Individual-level coefficients (``p`` may be 0).
    gamma : array_like, shape (q,)
        Group-level coefficients, intercept first.
    sigma_y, sigma_alpha : float
        Residual and group-level standard deviations (``sigma_alpha`` may be 0).
    seed : int or SeedSequence, optional
        Seed of the simulation.

    Returns
    -------
    data : HierarchicalData
    truth : SyntheticTruth
    """
    beta = np.atleast_1d(np.asarray(beta, dtype=float))
    gamma = np.atleast_1d(np.asarray(gamma, dtype=float))
    if gamma.size < 1:
        raise ValueError("gamma needs at least the intercept")
    if sigma_y <= 0 or sigma_alpha < 0:
        raise ValueError(f"need sigma_y > 0 and sigma_alpha >= 0, got {sigma_y}, {sigma_alpha}")
    sizes = np.broadcast_to(np.asarray(group_sizes, dtype=int), (n_groups,))
    if np.any(sizes < 0):
        raise ValueError("group_sizes must be >= 0")
    rng = np.random.default_rng(seed)
    p, q = beta.size, gamma.size
    U = np.column_stack([np.ones(n_groups), rng.standard_normal((n_groups, q - 1))])
    alpha = U @ gamma + sigma_alpha * rng.standard_normal(n_groups)
    group = np.repeat(np.arange(n_groups), sizes)
    n = group.size
    X = rng.standard_normal((n, p))
    y = alpha[group] + X @ beta + sigma_y * rng.standard_normal(n)
    data = HierarchicalData(
        y=y,
        X=X,
        group=group,
        U=U,
        group_names=tuple(f"g{j}" for j in range(n_groups)),
        x_names=tuple(f"x{k}" for k in range(p)),
        u_names=("intercept", *(f"u{k}" for k in range(1, q))),
    )
    truth = SyntheticTruth(alpha, beta, gamma, float(sigma_y), float(sigma_alpha))
    return data, truth


def simulate_binomial(
    n_groups: int = 30,
    group_sizes: int | np.ndarray = 10,
    *,
    family: str = "logistic",
    beta: np.ndarray | list[float] = (1.0,),
    gamma: np.ndarray | list[float] = (-0.5, 0.7),
    sigma_alpha: float = 1.0,
    trials: int | np.ndarray = 1,
    seed: int | np.random.SeedSequence | None = 0,
) -> tuple[HierarchicalData, SyntheticTruth]:
    """Simulate the logistic or probit varying-intercept model with known parameters.

    The design is drawn as in :func:`simulate_hierarchical`; then
    y_i ~ Binomial(trials_i, F(alpha_j[i] + X_i beta)). With small groups and a large
    ``sigma_alpha`` many groups have all-0 or all-1 outcomes (separation), where no pooling has no
    finite estimate and the multilevel model must still be finite.

    Parameters
    ----------
    n_groups, group_sizes : int, int or array of int
        As in :func:`simulate_hierarchical`.
    family : {"logistic", "probit"}
        Link of the simulated model.
    beta, gamma, sigma_alpha :
        Coefficients (``gamma`` intercept first) and group-level standard deviation.
    trials : int or array of int, shape (n,)
        Binomial trials per row (1: Bernoulli outcomes).
    seed : int or SeedSequence, optional
        Seed of the simulation.

    Returns
    -------
    data : HierarchicalData
        With ``trials`` set when any row has more than one trial.
    truth : SyntheticTruth
        ``sigma_y`` is NaN (not a parameter of these models).
    """
    from gibbs.families import BINOMIAL_FAMILIES, normalize_family, success_probability

    family = normalize_family(family)
    if family not in BINOMIAL_FAMILIES:
        raise ValueError(f"family must be one of {BINOMIAL_FAMILIES}, got {family!r}")
    seed = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    design_seed, outcome_seed = seed.spawn(2)
    # The Gaussian simulator draws the design and alpha; its y is replaced below.
    data, truth = simulate_hierarchical(
        n_groups, group_sizes, beta=beta, gamma=gamma, sigma_alpha=sigma_alpha, seed=design_seed
    )
    m = np.broadcast_to(np.asarray(trials, dtype=int), (data.n,))
    eta = truth.alpha[data.group] + data.X @ truth.beta
    y = np.random.default_rng(outcome_seed).binomial(m, success_probability(family, eta))
    data = data.replace(y=y.astype(float), trials=None if np.all(m == 1) else m)
    return data, dataclasses.replace(truth, sigma_y=float("nan"))


def simulate_slopes(
    n_groups: int = 30,
    group_sizes: int | np.ndarray = 10,
    *,
    gamma: np.ndarray | list[float] = (1.0, 0.7),
    mean_slopes: np.ndarray | list[float] = (-0.5,),
    Sigma: np.ndarray | list[list[float]] = ((0.16, -0.05), (-0.05, 0.09)),
    beta: np.ndarray | list[float] = (),
    sigma_y: float = 0.8,
    seed: int | np.random.SeedSequence | None = 0,
) -> tuple[HierarchicalData, tuple[str, ...], dict[str, np.ndarray]]:
    """Simulate the varying-slopes model (:mod:`gibbs.slopes`) with known parameters.

    Columns ``z1..`` of X have varying slopes, ``x0..`` fixed ones; all are standard normal, as
    are U's non-intercept columns (U's first column is ones).

    Parameters
    ----------
    n_groups : int
        Number of groups ``J``.
    group_sizes : int or array of int, shape (J,)
        Rows per group (zeros allowed).
    gamma : array_like, shape (q,)
        Group-level coefficients of the intercepts, intercept first.
    mean_slopes : array_like, shape (K - 1,)
        Mean of each varying slope.
    Sigma : array_like, shape (K, K)
        Covariance of (intercept, slopes) around their means.
    beta : array_like, shape (p,)
        Coefficients of the non-varying predictors.
    sigma_y : float
        Residual standard deviation.
    seed : int or SeedSequence, optional
        Seed of the simulation.

    Returns
    -------
    data : HierarchicalData
    slopes : tuple of str
        The varying columns, to pass as ``slopes=``.
    truth : dict
        ``alpha`` (J, K), ``gamma``, ``gamma_slope``, ``beta``, ``sigma_y``, ``Sigma``.
    """
    gamma = np.atleast_1d(np.asarray(gamma, dtype=float))
    mean_slopes = np.atleast_1d(np.asarray(mean_slopes, dtype=float))
    beta = np.atleast_1d(np.asarray(beta, dtype=float))
    Sigma = np.asarray(Sigma, dtype=float)
    K = mean_slopes.size + 1
    if Sigma.shape != (K, K) or np.any(np.linalg.eigvalsh(Sigma) <= 0):
        raise ValueError(f"Sigma must be a {K} x {K} positive definite matrix")
    sizes = np.broadcast_to(np.asarray(group_sizes, dtype=int), (n_groups,))
    rng = np.random.default_rng(seed)
    q = gamma.size
    U = np.column_stack([np.ones(n_groups), rng.standard_normal((n_groups, q - 1))])
    means = np.column_stack([U @ gamma, np.tile(mean_slopes, (n_groups, 1))])
    alpha = means + rng.standard_normal((n_groups, K)) @ np.linalg.cholesky(Sigma).T
    group = np.repeat(np.arange(n_groups), sizes)
    n = group.size
    Zs = rng.standard_normal((n, K - 1))
    Xf = rng.standard_normal((n, beta.size))
    mu = alpha[group, 0] + np.sum(Zs * alpha[group, 1:], axis=1) + Xf @ beta
    slopes = tuple(f"z{k}" for k in range(1, K))
    data = HierarchicalData(
        y=mu + sigma_y * rng.standard_normal(n),
        X=np.column_stack([Zs, Xf]),
        group=group,
        U=U,
        group_names=tuple(f"g{j}" for j in range(n_groups)),
        x_names=(*slopes, *(f"x{k}" for k in range(beta.size))),
        u_names=("intercept", *(f"u{k}" for k in range(1, q))),
    )
    truth = {
        "alpha": alpha,
        "gamma": gamma,
        "gamma_slope": mean_slopes,
        "beta": beta,
        "sigma_y": np.asarray(sigma_y, dtype=float),
        "Sigma": Sigma,
    }
    return data, slopes, truth


def simulate_factors(
    n_groups: int = 30,
    group_sizes: int | np.ndarray = 10,
    *,
    levels: int = 6,
    nested: bool = True,
    beta: np.ndarray | list[float] = (0.5,),
    gamma: np.ndarray | list[float] = (1.0, 0.7),
    sigma_y: float = 0.8,
    sigma_alpha: float = 0.4,
    sigma_factor: float = 0.5,
    seed: int | np.random.SeedSequence | None = 0,
) -> tuple[HierarchicalData, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Simulate the varying-intercept model with one further factor (:mod:`gibbs.factors`).

    Nested: group j belongs to level j mod ``levels`` (a state above counties), and
    alpha_j ~ N(U_j gamma + b[level(j)], sigma_alpha^2). Crossed: every row draws its level
    uniformly, and b[level(i)] enters y_i directly.

    Returns
    -------
    data : HierarchicalData
    factors : dict
        ``{"h": one label per row}``, to pass as ``factors=``.
    truth : dict
        ``alpha``, ``beta``, ``gamma``, ``b``, ``sigma_y``, ``sigma_alpha``, ``sigma_factor``.
    """
    beta = np.atleast_1d(np.asarray(beta, dtype=float))
    gamma = np.atleast_1d(np.asarray(gamma, dtype=float))
    sizes = np.broadcast_to(np.asarray(group_sizes, dtype=int), (n_groups,))
    rng = np.random.default_rng(seed)
    U = np.column_stack([np.ones(n_groups), rng.standard_normal((n_groups, gamma.size - 1))])
    b = sigma_factor * rng.standard_normal(levels)
    group = np.repeat(np.arange(n_groups), sizes)
    n = group.size
    group_level = np.arange(n_groups) % levels
    alpha = U @ gamma + sigma_alpha * rng.standard_normal(n_groups)
    if nested:
        alpha = alpha + b[group_level]
        codes = group_level[group]
    else:
        codes = rng.integers(0, levels, n)
    X = rng.standard_normal((n, beta.size))
    mu = alpha[group] + X @ beta + (0.0 if nested else b[codes])
    data = HierarchicalData(
        y=mu + sigma_y * rng.standard_normal(n),
        X=X,
        group=group,
        U=U,
        group_names=tuple(f"g{j}" for j in range(n_groups)),
        x_names=tuple(f"x{k}" for k in range(beta.size)),
        u_names=("intercept", *(f"u{k}" for k in range(1, gamma.size))),
    )
    truth = {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "b": b,
        "sigma_y": np.asarray(sigma_y),
        "sigma_alpha": np.asarray(sigma_alpha),
        "sigma_factor": np.asarray(sigma_factor),
    }
    return data, {"h": np.array([f"h{k}" for k in codes])}, truth

"""The command line's catalogue: datasets, radon models, formulas and families -> a ModelSpec.

``DATASETS[name][outcome]`` loads a dataset for a family's kind of outcome (``"continuous"`` for
the Gaussian family, ``"binomial"`` for logistic and probit): a dataset without that outcome is
refused by name. ``MODELS`` are the radon models M0-M3. ``load_spec(args)`` builds the
:class:`gibbs.spec.ModelSpec` every command runs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gibbs.data import HierarchicalData
from gibbs.families import get_family

__all__ = [
    "DATASETS",
    "DATASET_DEFAULTS",
    "MODELS",
    "dataset_frame",
    "load_dataset",
    "load_model",
    "sampling_defaults",
]

# Gelman & Hill's radon models: the design (floor, county log-uranium) and the varying slopes.
MODELS = {
    "M0": {"floor": False, "uranium": False, "slopes": ()},
    "M1": {"floor": True, "uranium": False, "slopes": ()},
    "M2": {"floor": True, "uranium": True, "slopes": ()},
    "M3": {"floor": True, "uranium": False, "slopes": ("floor",)},
}

Loaded = tuple[HierarchicalData, tuple[str, ...], dict]


def _design(args) -> dict:
    m = MODELS[args.model]
    return {"floor": m["floor"], "uranium": m["uranium"]}


def _radon(loader: str) -> Callable[[argparse.Namespace], Loaded]:
    def load(args) -> Loaded:
        from gibbs import datasets

        data = getattr(datasets, loader)(**_design(args))
        return data, MODELS[args.model]["slopes"], {}

    return load


def _radon_all(binary: bool) -> Callable[[argparse.Namespace], Loaded]:
    def load(args) -> Loaded:
        from gibbs import datasets

        survey = datasets.load_radon_all(args.data_dir)
        data = survey.to_hierarchical(args.states, **_design(args))
        if binary:  # the house is above the EPA action level
            data = data.replace(y=(data.y > np.log(datasets.EPA_ACTION_LEVEL)).astype(float))
        return data, MODELS[args.model]["slopes"], {}

    return load


def _synthetic(binary: bool) -> Callable[[argparse.Namespace], Loaded]:
    def load(args) -> Loaded:
        from gibbs import datasets

        family = get_family(args.family).name
        if MODELS[args.model]["slopes"]:  # one varying slope
            data, slopes, _ = datasets.simulate_slopes(
                args.groups, args.group_size, beta=[0.5], seed=args.data_seed
            )
            if binary:  # binary outcomes: above the median
                data = data.replace(y=(data.y > np.median(data.y)).astype(float))
            return data, tuple(slopes), {}
        if binary:
            data, _ = datasets.simulate_binomial(
                args.groups,
                args.group_size,
                family=family,
                trials=args.trials or 1,
                seed=args.data_seed,
            )
            return data, (), {}
        data, _ = datasets.simulate_hierarchical(
            n_groups=args.groups, group_sizes=args.group_size, seed=args.data_seed
        )
        return data, (), {}

    return load


def _separation(args) -> Loaded:
    from gibbs import datasets

    sizes = 2 + np.arange(args.groups) % 5  # 2..6 rows per group
    data, _ = datasets.simulate_binomial(
        args.groups,
        sizes,
        family=get_family(args.family).name,
        gamma=(0.0, 0.5),
        sigma_alpha=2.0,
        seed=args.data_seed,
    )
    return data, (), {}


def election88_dir(args: argparse.Namespace):
    """--data-dir, else $GIBBS_SUITE_ELECTION88_DIR, else the shared data beside a checkout."""
    from gibbs.election88 import ELECTION88_DIR_ENV

    if args.data_dir or os.environ.get(ELECTION88_DIR_ENV):
        return args.data_dir
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "election88"
    return shared if shared.is_dir() else None


def _police_stops(args) -> Loaded:
    from gibbs.police_stops import load_police_stops

    stops = load_police_stops(args.data_dir, quiet=getattr(args, "quiet", False))
    return stops.data, (), stops.factors


def _election88(args) -> Loaded:
    from gibbs.election88 import load_election88

    polls = load_election88(election88_dir(args))
    return polls.data, (), polls.factors


# Every dataset by the kind of outcome a family models (gibbs.families.Family.outcome).
DATASETS: dict[str, dict[str, Callable[[argparse.Namespace], Loaded]]] = {
    "radon": {"continuous": _radon("load_radon"), "binomial": _radon("load_radon_action_level")},
    "radon-all": {"continuous": _radon_all(False), "binomial": _radon_all(True)},
    "synthetic": {"continuous": _synthetic(False), "binomial": _synthetic(True)},
    "separation": {"binomial": _separation},
    "election88": {"binomial": _election88},
    "police-stops": {"count": _police_stops},
}


# compare's settings where the command line's defaults (4 x 1000 draws, the auto reference) do
# not fit a dataset. election88: four small factors' scales mix slowly (4 x 1000 left a minimum
# bulk ESS of 291 for NUTS's intercept: inconclusive).
DATASET_DEFAULTS: dict[str, dict] = {"election88": {"draws": 4000, "max_draws": 4000}}


def sampling_defaults(args: argparse.Namespace) -> dict:
    """Return the dataset's ``compare`` defaults, else 1000 draws and the ``auto`` reference."""
    out = {"draws": 1000, "reference": "auto", "max_draws": 16000}
    if not getattr(args, "formula", None):
        out.update(DATASET_DEFAULTS.get(args.dataset, {}))
    return out


def load_model(args: argparse.Namespace) -> Loaded:
    """Return the data, varying slopes and further factors of ``--dataset/--model/--formula``."""
    if getattr(args, "trials", None) is not None:
        if get_family(getattr(args, "family", "gaussian")).outcome != "binomial":
            raise ValueError("--trials is for the binomial families (--family logistic or probit)")
        if args.dataset != "synthetic" or getattr(args, "formula", None):
            raise ValueError(f"--trials sets the synthetic design's trials; not for {args.dataset}")
    if getattr(args, "formula", None):
        from gibbs.formula import parse_formula

        frame = dataset_frame(args)
        trials = "trials" if "trials" in frame.columns else None
        return parse_formula(args.formula, frame, trials=trials)
    family = get_family(getattr(args, "family", "gaussian"))
    loaders = DATASETS[args.dataset]
    if family.outcome not in loaders:
        kinds = {
            "binomial": "logistic or probit",
            "continuous": "gaussian",
            "count": "poisson or negative-binomial",
        }
        wanted = " or ".join(kinds[k] for k in loaders)
        raise ValueError(
            f"--dataset {args.dataset} needs --family {wanted} (it has no {family.outcome} "
            f"outcome for the {family.name} family)"
        )
    return loaders[family.outcome](args)


def load_dataset(args: argparse.Namespace) -> HierarchicalData:
    """Return the data of ``--dataset/--model/--formula`` (without the model's structure)."""
    return load_model(args)[0]


def dataset_frame(args: argparse.Namespace):
    """Return the table of ``--dataset`` that a ``--formula`` is evaluated on (a row per unit)."""
    from gibbs import datasets

    if args.dataset == "radon":
        houses, counties = datasets.load_radon_frame()
        frame = houses.join(counties, on="county")
    elif args.dataset == "radon-all":
        frame = datasets.load_radon_all(args.data_dir).houses
        if args.states:
            frame = frame[frame["state"].isin(args.states)]
        frame = frame.dropna(subset=["floor", "log_uranium"]).reset_index(drop=True)
        # A few counties have no name in cty.dat: their key names them.
        frame["county"] = frame["county"].fillna(frame["county_key"])
    elif args.dataset == "police-stops":
        from gibbs.police_stops import load_police_stops

        return load_police_stops(args.data_dir, quiet=getattr(args, "quiet", False)).frame
    else:
        args = argparse.Namespace(**{**vars(args), "formula": None})
        return _frame_of(load_dataset(args))
    return frame.assign(
        above_action_level=(frame["log_radon"] > np.log(datasets.EPA_ACTION_LEVEL)).astype(float)
    )


def _frame_of(data: HierarchicalData):
    """One row per individual: y, the X columns, the group label and the U columns."""
    import pandas as pd

    frame = pd.DataFrame(data.X, columns=list(data.x_names))
    frame.insert(0, data.y_name, data.y)
    frame[data.group_dim] = np.asarray(data.group_names, dtype=object)[data.group]
    for k, name in enumerate(data.u_names[1:], start=1):
        frame[name] = data.U[data.group, k]
    if data.trials is not None:
        frame["trials"] = data.trials
    return frame

"""Model formulas in the lme4/bambi syntax, parsed with ``formulae``.

``"log_radon ~ floor + log_uranium + (1 | county)"`` becomes the :class:`HierarchicalData` of the
varying-intercept model: the response, one group-specific intercept term ``(1 | group)``, and the
common terms evaluated by ``formulae`` (transformations such as ``np.log(x)`` and categorical
expansions such as ``C(x)`` included). Each common column that is constant within every group is a
group-level predictor (a column of ``U``); the others are individual-level predictors (``X``).
That split is exactly the source article's model, so a formula and the equivalent arrays give the
same data and, for the same seed, bit-identical draws.

Varying slopes ``"y ~ x + (1 + x | g)"`` (:func:`parse_formula`) name columns of X whose
coefficients vary by group; as in lme4, the mean slope is the common term ``x``, which the formula
must therefore contain. Several grouping factors, nested ``(1 | state/county)`` or crossed
``(1 | g) + (1 | h)``, give the finest factor as the model's group and the others as further
factors (:mod:`gibbs.factors`); varying slopes go with the finest factor, and may be combined
with further intercept-only factors.

An exposure offset is written ``offset(log_arrests)`` (or ``offset(np.log(arrests))``): a known
term of the linear predictor with coefficient 1, added to every row; several offsets add up.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData, numeric_column

__all__ = [
    "ParsedFormula",
    "evaluate_term",
    "formula_offset",
    "from_formula",
    "is_formula",
    "parse_formula",
]


class ParsedFormula(NamedTuple):
    """What a formula describes: the data, the varying slopes and any further factors."""

    data: HierarchicalData
    slopes: tuple[str, ...]
    factors: dict[str, np.ndarray]


def _unsupported(formula: str, what: str) -> ValueError:
    return ValueError(
        f"formula {formula!r}: {what}; the samplers support 'y ~ x + u + (1 | group)', "
        "'y ~ x + (1 + x | group)' and further intercept-only factors such as "
        "'(1 | state/county)' or '(1 | g) + (1 | h)'"
    )


def from_formula(
    formula: str, data: pd.DataFrame, *, trials: str | int | None = None
) -> HierarchicalData:
    """Build the varying-intercept model's data from a formula and a DataFrame.

    The same as :func:`parse_formula` for a formula without varying slopes; a formula with them
    is refused here (its data alone would lose them): use :func:`parse_formula`.
    """
    parsed = parse_formula(formula, data, trials=trials)
    if parsed.slopes or parsed.factors:
        what = f"varying slopes {list(parsed.slopes)}" if parsed.slopes else "several factors"
        raise ValueError(
            f"formula {formula!r} has {what}: use parse_formula, which returns them with the data"
        )
    return parsed.data


def parse_formula(
    formula: str, data: pd.DataFrame, *, trials: str | int | None = None
) -> ParsedFormula:
    """Build a model's data, and its varying slopes, from a formula and a DataFrame.

    Parameters
    ----------
    formula : str
        ``"y ~ terms + (1 | group)"``. The common part must keep its intercept (it is the
        intercept of the group level). Terms that are constant within every group go to ``U``.
    data : DataFrame
        One row per individual, with the group-level columns repeated on every row.
    trials : str or int, optional
        Column (or number) of binomial trials, for the logistic and probit families.

    Returns
    -------
    data : HierarchicalData
        Columns named as ``formulae`` names them (``floor``, ``np.log(x)``, ``C(f)[b]``).
    slopes : tuple of str
        The columns of ``data.X`` whose coefficients vary by group (empty for ``(1 | g)``).
    factors : dict
        Further grouping factors, one label per row (``gibbs.sample(..., factors=)``): with
        several group terms the finest factor (most levels) is the model's group and the others
        are nested above it or crossed with it (``(1 | state/county)``, ``(1 | g) + (1 | h)``).

    Raises
    ------
    ValueError
        For a formula the samplers do not support (no group term, varying slopes, several
        groups, no intercept), for missing values in a column the formula uses (naming it), or
        for anything ``HierarchicalData`` refuses.
    """
    import formulae

    if not isinstance(data, pd.DataFrame):
        raise ValueError("a formula needs data=, a pandas DataFrame with one row per individual")
    _check_lme4_terms(formula)
    full_formula = formula
    description, formula = describe(formula)
    response_vars = set(description.response.var_names)
    common_vars = set().union(*(getattr(t, "var_names", set()) for t in description.common_terms))
    both = sorted(response_vars & common_vars)
    if both:
        raise ValueError(
            f"formula {formula!r}: {', '.join(both)} is both the response and a predictor; "
            "the outcome would be fitted exactly by itself"
        )
    offset = formula_offset(full_formula, data)
    groups = description.group_terms
    if not groups:
        raise _unsupported(
            formula,
            "there is no group term such as (1 | county) (gibbs.sample fits such a formula as "
            "complete pooling, gibbs.pooled)",
        )
    # A grouping factor is one column or an interaction of columns ((1 | state/county) is
    # (1 | state) + (1 | state:county)); its label is "a:b".
    factor_cols = {
        ":".join(c.name for c in t.factor.components): [c.name for c in t.factor.components]
        for t in groups
    }
    slope_terms = [t.expr for t in groups if type(t.expr).__name__ != "Intercept"]
    slope_factors = {
        ":".join(c.name for c in t.factor.components)
        for t in groups
        if type(t.expr).__name__ != "Intercept"
    }
    intercepts = {
        ":".join(c.name for c in t.factor.components)
        for t in groups
        if type(t.expr).__name__ == "Intercept"
    }
    grouping = sorted({c for cols in factor_cols.values() for c in cols} & common_vars)
    if grouping:
        raise ValueError(
            f"formula {formula!r}: {grouping[0]} is a grouping factor and also a common "
            "(fixed) term; its indicator columns duplicate the group intercepts, so drop it from "
            "the common terms (group-level predictors must be numeric and constant within groups)"
        )
    missing_intercept = sorted(set(factor_cols) - intercepts)
    if missing_intercept:
        raise _unsupported(
            formula, f"the group term of {missing_intercept[0]} has no intercept ('(0 + x | g)')"
        )
    if not any(type(t).__name__ == "Intercept" for t in description.common_terms):
        raise ValueError(
            f"formula {formula!r} removes the intercept: the group-level intercept is part of "
            "the model (alpha_j ~ N(U_j gamma, sigma_alpha^2) with U's first column ones)"
        )
    used = set(description.var_names) | {c for cols in factor_cols.values() for c in cols}
    used = sorted(used | ({trials} if isinstance(trials, str) else set()))
    missing = [c for c in used if c not in data.columns]
    if missing:
        raise ValueError(f"formula {formula!r}: columns not in the DataFrame: {missing}")
    for col in used:
        bad = data[col].isna().to_numpy()
        if bad.any():
            raise ValueError(
                f"column '{col}' has {int(bad.sum())} missing value(s) (first at row "
                f"{int(np.flatnonzero(bad)[0])}); drop or impute them before sampling"
            )
    fixed = formula.split("~", 1)[1]
    common_rhs = "+".join(str(t) for t in _top_level_terms(fixed) if "|" not in t) or "1"
    design = formulae.design_matrices(
        f"{description.response.term.components[0].name} ~ {common_rhs}", data, na_action="error"
    )
    y_name = description.response.term.components[0].name
    # The response as formulae evaluates it (transformations such as np.log(y) included).
    if y_name in data.columns and not pd.api.types.is_numeric_dtype(data[y_name]):
        numeric_column(data, y_name, "outcome")  # raises, naming the column and its values
    response = np.asarray(design.response.design_matrix, dtype=float)
    if response.ndim == 2 and response.shape[1] != 1:
        raise ValueError(
            f"formula {formula!r}: the response evaluates to {response.shape[1]} columns; it "
            "must be one numeric column (0/1 or successes for the binomial families)"
        )
    response = response.ravel()
    matrix = np.asarray(design.common.design_matrix, dtype=float)
    names = [label for t in design.common.terms.values() for label in t.labels]
    labels = {
        name: pd.Series(
            [":".join(map(str, row)) for row in zip(*(data[c] for c in cols), strict=True)]
            if len(cols) > 1
            else data[cols[0]].to_numpy()
        )
        for name, cols in factor_cols.items()
    }
    # The model's group is the finest factor (most levels); the others are further factors.
    group = max(labels, key=lambda name: (labels[name].nunique(), -list(labels).index(name)))
    codes, levels = pd.factorize(labels[group], sort=True)
    x_cols, u_cols = [], []
    for k, name in enumerate(names):
        if name == "Intercept":
            continue
        column = matrix[:, k]
        lo = np.full(len(levels), np.inf)
        hi = np.full(len(levels), -np.inf)
        np.minimum.at(lo, codes, column)
        np.maximum.at(hi, codes, column)
        (u_cols if np.all(hi == lo) else x_cols).append(k)
    slopes = _slope_columns(formula, slope_terms, description, names, x_cols)
    frame = pd.DataFrame(matrix, columns=names)
    frame[y_name] = response
    frame[group] = labels[group].to_numpy()
    if isinstance(trials, str):
        frame[trials] = data[trials].to_numpy()
    hdata = HierarchicalData.from_dataframe(
        frame,
        y=y_name,
        group=group,
        x=[names[k] for k in x_cols],
        u=[names[k] for k in u_cols],
        trials=trials,
    )
    if offset is not None:
        hdata = hdata.replace(offset=offset)
    factors = {name: labels[name].to_numpy() for name in labels if name != group}
    if slope_factors - {group}:
        raise _unsupported(formula, "its varying slopes are not by the finest grouping factor")
    return ParsedFormula(hdata, slopes, factors)


def describe(formula: str) -> tuple[Any, str]:
    """Return formulae's description of ``formula`` without its offset terms, and that formula.

    Raises
    ------
    ValueError
        For a formula that does not parse or has no response.
    """
    import formulae

    lhs, rhs = formula.split("~", 1) if "~" in formula else (formula, "")
    kept = [t for t in _top_level_terms(rhs) if not _is_offset(t)]
    if len(kept) < len(_top_level_terms(rhs)):
        formula = f"{lhs.strip()} ~ {' + '.join(kept) or '1'}"
    try:
        description = formulae.model_description(formula)
    except Exception as exc:  # formulae raises its own parse errors
        raise ValueError(f"formula {formula!r} does not parse: {exc}") from exc
    if description.response is None:
        raise ValueError(f"formula {formula!r} has no response (write 'y ~ ...')")
    return description, formula


def _is_offset(term: str) -> bool:
    return term.replace(" ", "").startswith("offset(") and term.rstrip().endswith(")")


def evaluate_term(expr: str, data: pd.DataFrame, what: str) -> np.ndarray:
    """Return one numeric column: a column of ``data`` or an expression formulae evaluates.

    ``what`` names the term in errors (``"the offset offset(np.log(x))"``, ``"predictor x"``).
    """
    import formulae

    if expr in data.columns:
        return numeric_column(data, expr, what)
    try:
        # formulae evaluates a response with transformations (np.log(x), x / 12, ...).
        design = formulae.design_matrices(f"{expr} ~ 1", data, na_action="error")
    except Exception as exc:  # formulae raises its own evaluation errors
        raise ValueError(f"{what} does not evaluate on the data: {exc}") from exc
    values = np.asarray(design.response.design_matrix, dtype=float)
    if values.ndim == 2 and values.shape[1] != 1:
        raise ValueError(f"{what} is not one column")
    return values.ravel()


def formula_offset(formula: str, data: pd.DataFrame) -> np.ndarray | None:
    """Evaluate the ``offset(expr)`` terms of ``formula`` on ``data`` and add them up."""
    rhs = formula.split("~", 1)[1]
    total = None
    for term in (t for t in _top_level_terms(rhs) if _is_offset(t)):
        expr = term.strip()[len("offset(") : -1].strip()
        values = evaluate_term(expr, data, f"formula {formula!r}: the offset {term}")
        total = values if total is None else total + values
    return total


def _check_lme4_terms(formula: str) -> None:
    """Refuse what lme4 reads as uncorrelated effects: ``||`` or two terms for one factor.

    In lme4 ``(1 | g) + (0 + x | g)`` and ``(1 + x || g)`` are an intercept and a slope with
    independent variances; these samplers model one correlated term per factor and must not
    reinterpret them as ``(1 + x | g)``.
    """
    rhs = formula.split("~", 1)[1]
    if "||" in rhs:
        raise ValueError(
            f"formula {formula!r}: '||' (uncorrelated varying effects, as in lme4) is not "
            "supported: the samplers model the varying intercept and slopes of a factor with one "
            "covariance matrix; write '(1 + x | g)' for correlated effects"
        )
    seen: dict[str, str] = {}
    for term in _top_level_terms(rhs):
        if "|" not in term:
            continue
        factor = term.rsplit("|", 1)[1].strip().rstrip(")").strip()
        if factor in seen:
            raise ValueError(
                f"formula {formula!r}: {seen[factor]} and {term} are separate terms for one "
                f"factor, {factor}: in lme4 that means uncorrelated effects, which these samplers "
                f"do not model; write one term, '(1 + x | {factor})', for correlated effects"
            )
        seen[factor] = term


def _slope_columns(formula, slope_terms, description, names, x_cols) -> tuple[str, ...]:
    """Map each varying-slope term to its column of X, refusing what the model cannot express."""
    common = {getattr(t, "name", str(t)) for t in description.common_terms}
    slopes = []
    for term in slope_terms:
        label = getattr(term, "name", str(term))
        if label not in common:
            raise ValueError(
                f"formula {formula!r}: the varying slope of {label} needs {label} among the common "
                f"terms too (its mean slope), as in 'y ~ {label} + (1 + {label} | g)'"
            )
        matches = [names[k] for k in x_cols if names[k] == label]
        if not matches:
            reason = (
                "is constant within every group, so its slope cannot vary by group"
                if label in names
                else "expands to several columns; give each its own numeric column"
            )
            raise ValueError(f"formula {formula!r}: {label} {reason}")
        slopes.append(matches[0])
    return tuple(slopes)


def _top_level_terms(rhs: str) -> list[str]:
    """Split a right-hand side at top-level '+' signs (not inside parentheses or brackets)."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(rhs):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "+" and depth == 0:
            terms.append(rhs[start:i].strip())
            start = i + 1
    terms.append(rhs[start:].strip())
    return [t for t in terms if t]


def is_formula(value: Any) -> bool:
    """Whether ``value`` is a model formula (a string with '~')."""
    return isinstance(value, str) and "~" in value

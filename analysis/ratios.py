"""The estimation kernel: linear combinations of ratios of weighted totals, for every domain in one pass.

Every estimator of the library — Hájek mean or proportion, total, ratio, SIPAS-style composite index — is
:math:`\\hat\\theta_d = \\sum_k a_k \\hat Y_{kd}/\\hat X_{kd}` (a total has :math:`\\hat X = 1`). This module
computes it for all domains with group sums over integer domain codes, together with its linearised (influence) values
:math:`x_i = w_i \\sum_k a_k (y_{ki} - \\hat R_{kd} x_{ki})/\\hat X_{kd}` (Woodruff 1971; R ``svymean``, ``svyratio``,
``svytotal``), whose variance the design supplies (:func:`analysis.variance.linearization_variance` or replicate
weights), design effects (R ``deff``), effective sample sizes and intervals, as one tidy table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .errors import DesignError, EmptyDomainError
from .grouping import Grouping, require_columns
from .intervals import proportion_interval, t_interval

__all__ = [
    "RESULT_COLUMNS",
    "DfMode",
    "EstimationDesign",
    "OnEmpty",
    "RatioTerm",
    "estimate_linear",
    "numeric_column",
    "ratio_influence",
    "resolve_by",
    "srs_variances",
    "stack_by_domain",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

DfMode = Literal["design", "domain"]
OnEmpty = Literal["nan", "raise"]

RESULT_COLUMNS = (
    "variable",
    "n",
    "weight_sum",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "deff",
    "deff_replace",
    "cv",
    "n_eff",
    "ci_method",
    "variance_method",
)


@dataclass(frozen=True)
class RatioTerm:
    """One term :math:`a\\,\\hat Y/\\hat X` of a linear combination of ratios.

    Attributes
    ----------
    coef : float
        Coefficient ``a``.
    num : ndarray
        Numerator value per row (0 where not observed).
    den : ndarray or None
        Denominator value per row (0 where not observed); ``None`` for a total.
    observed : ndarray of bool
        Rows that take part in the term.
    """

    coef: float
    num: FloatArray
    den: FloatArray | None
    observed: BoolArray


class EstimationDesign(Protocol):
    """What the estimators need from a design (Taylor or replicate)."""

    @property
    def data(self) -> pd.DataFrame: ...

    @property
    def weights(self) -> FloatArray: ...

    @property
    def variance_method(self) -> str: ...

    def degrees_of_freedom(self, dom: IntArray, n_dom: int, mode: DfMode) -> FloatArray: ...

    def domain_variance(
        self, terms: Sequence[RatioTerm], x: FloatArray, dom: IntArray, n_dom: int, estimate: FloatArray
    ) -> FloatArray: ...


def numeric_column(data: pd.DataFrame, column: str) -> FloatArray:
    """A column as float64 (NaN for missing); raise :class:`DesignError` when absent or not numeric."""
    require_columns(data, [column], "variable")
    raw = data[column]
    if pd.api.types.is_bool_dtype(raw):
        return np.asarray(raw.to_numpy(dtype=np.float64), dtype=np.float64)
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(values) & raw.notna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DesignError(f"variable {column!r} is not numeric: row {i} has {raw.iloc[i]!r}")
    return values


def ratio_influence(
    terms: Sequence[RatioTerm], w: FloatArray, dom: IntArray, n_dom: int
) -> tuple[FloatArray, FloatArray, IntArray, IntArray, FloatArray]:
    """Estimates and linearised values of a linear combination of ratios, for every domain.

    Returns
    -------
    estimate : ndarray (n_dom,)
    x : ndarray (n,)
        Weighted influence value of each row for its domain's estimator.
    dom_obs : ndarray (n,)
        Domain code of rows observed in at least one term, ``-1`` otherwise.
    n_obs : ndarray (n_dom,)
        Number of such rows per domain.
    weight_sum : ndarray (n_dom,)
        Their weight sum.
    """
    in_dom = dom >= 0
    any_obs = np.zeros(len(w), dtype=bool)
    estimate = np.zeros(n_dom)
    x = np.zeros(len(w))
    size = n_dom + 1  # the last bin collects rows outside every domain (no boolean compression of the rows)
    for term in terms:
        rows = in_dom & term.observed
        any_obs |= rows
        d = np.where(rows, dom, n_dom)
        w_num = w * term.num
        num_tot = np.bincount(d, weights=w_num, minlength=size)
        if term.den is None:
            estimate += term.coef * num_tot[:n_dom]
            x += term.coef * np.where(rows, w_num, 0.0)
            continue
        den_tot = np.bincount(d, weights=w * term.den, minlength=size)
        den_tot[n_dom] = 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = num_tot / den_tot
            estimate += term.coef * ratio[:n_dom]
            x += term.coef * np.where(rows, (w_num - ratio[d] * (w * term.den)) / den_tot[d], 0.0)
    dom_obs = np.where(any_obs, dom, -1).astype(np.int64)
    d_all = np.where(any_obs, dom, n_dom)
    n_obs = np.bincount(d_all, minlength=size)[:n_dom].astype(np.int64)
    weight_sum = np.asarray(np.bincount(d_all, weights=w, minlength=size)[:n_dom], dtype=np.float64)
    return estimate, x, dom_obs, n_obs, weight_sum


def srs_variances(
    w: FloatArray, x: FloatArray, dom_obs: IntArray, n_dom: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Variances under simple random sampling of the linearised variable ``z = x/w`` (R ``deff``).

    Returns the without-replacement variance :math:`s^2_z \\hat N^2 (\\hat N - n)/(\\hat N n)` (R ``deff = TRUE``),
    the with-replacement :math:`s^2_z \\hat N^2 / n` (R ``deff = "replace"``), and :math:`\\hat N^2` times the
    divisor-``n`` weighted variance of ``z`` (numerator of the effective sample size), per domain; ``s^2_z`` is
    R's ``svyvar``, :math:`\\frac{n}{n-1}\\sum w (z-\\bar z)^2/\\sum w`.
    """
    rows = (dom_obs >= 0) & (w != 0)
    d = dom_obs[rows]
    wr = w[rows]
    z = x[rows] / wr
    n = np.bincount(d, minlength=n_dom).astype(np.float64)
    big_n = np.bincount(d, weights=wr, minlength=n_dom)
    with np.errstate(divide="ignore", invalid="ignore"):
        zbar = np.bincount(d, weights=wr * z, minlength=n_dom) / big_n
        dev = z - zbar[d]
        pop_var = np.bincount(d, weights=wr * dev * dev, minlength=n_dom) / big_n
        s2 = pop_var * n / (n - 1)
        v_replace = s2 * big_n**2 / n
        v_wor = np.where(big_n >= n, v_replace * (big_n - n) / big_n, np.nan)
    return v_wor, v_replace, pop_var * big_n**2


def estimate_linear(
    design: EstimationDesign,
    terms: Sequence[RatioTerm],
    grouping: Grouping,
    *,
    variable: str,
    interval: str,
    level: float = 0.95,
    df: DfMode = "design",
    on_empty: OnEmpty = "nan",
) -> pd.DataFrame:
    """Estimate a linear combination of ratios in every domain and summarise it as a tidy table.

    ``interval`` is ``"t"`` for :math:`\\hat\\theta \\pm t_{df} SE` or a proportion method of
    :func:`analysis.intervals.proportion_interval`.
    """
    n_dom = grouping.n_groups
    w = design.weights
    est, x, dom_obs, n_obs, wsum = ratio_influence(terms, w, grouping.codes, n_dom)
    empty = n_obs == 0
    if on_empty == "raise" and empty.any():
        key = grouping.keys.iloc[int(np.flatnonzero(empty)[0])].to_dict() if len(grouping.keys.columns) else {}
        where = f" in domain {key}" if key else ""
        raise EmptyDomainError(f"no observations of {variable!r}{where}")
    var = design.domain_variance(terms, x, dom_obs, n_dom, est)
    var = np.where(empty, np.nan, np.maximum(var, 0.0))
    se = np.sqrt(var)
    v_wor, v_rep, pop = srs_variances(w, x, dom_obs, n_dom)
    dfs = design.degrees_of_freedom(dom_obs, n_dom, df)
    if interval == "t":
        lo, hi = t_interval(est, se, dfs, level)
    else:
        lo, hi = proportion_interval(interval, est, se, n_obs, dfs, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = var / v_wor
        deff_rep = var / v_rep
        cv = se / np.abs(est)
        n_eff = pop / var
    columns: dict[str, object] = {col: grouping.keys[col].to_numpy() for col in grouping.keys.columns}
    columns.update(
        variable=[variable] * n_dom,
        n=n_obs,
        weight_sum=wsum,
        estimate=np.where(empty, np.nan, est),
        se=se,
        ci_low=lo,
        ci_high=hi,
        df=dfs,
        deff=deff,
        deff_replace=deff_rep,
        cv=cv,
        n_eff=n_eff,
        ci_method=[interval] * n_dom,
        variance_method=[design.variance_method] * n_dom,
    )
    out = pd.DataFrame(columns)
    return out


def resolve_by(by: str | Sequence[str] | None) -> list[str]:
    """Domain columns as a list (``None``: no domains)."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def stack_by_domain(frames: list[pd.DataFrame], by: list[str]) -> pd.DataFrame:
    """Concatenate per-variable tables (each with the same domains in the same order), domain by domain."""
    if not frames:
        return pd.DataFrame(columns=[*by, *RESULT_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    if by:
        n_dom = len(frames[0])
        order = np.argsort(np.tile(np.arange(n_dom), len(frames)), kind="stable")
        out = out.iloc[order].reset_index(drop=True)
    return out

"""Design-based estimators for all domains at once: Hájek means and proportions, totals, ratios, composites.

Every estimator is a linear combination of ratios of weighted totals, computed for all domains at once by
:mod:`analysis.ratios` (group sums over integer domain codes; linearised values after Woodruff 1971); its variance
comes from the design (:func:`analysis.variance.linearization_variance` or the replicate weights).

Domains are estimated on the full design: the variance uses every PSU of every stratum, including those with no
member of the domain (R ``svyby``; never subset the data and treat the subset as the design).

Missing outcomes: a row with a missing ``y`` is treated as outside the domain for that variable, on the full design.
This is R's ``svymean(..., na.rm = TRUE)`` (and ``svyby(..., na.rm = TRUE)``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .errors import DesignError
from .grouping import group_codes, require_columns
from .intervals import CI_METHODS
from .ratios import (
    DfMode,
    EstimationDesign,
    OnEmpty,
    RatioTerm,
    estimate_linear,
    numeric_column,
    resolve_by,
    stack_by_domain,
)

__all__ = [
    "DomainEstimators",
    "estimate_mean",
    "estimate_proportion",
    "estimate_ratio",
    "estimate_total",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _is_binary(values: FloatArray) -> bool:
    obs = values[~np.isnan(values)]
    return obs.size > 0 and bool(np.all((obs == 0) | (obs == 1)))


def _check_interval(ci: str) -> None:
    if ci not in CI_METHODS:
        raise DesignError(f"unknown interval method {ci!r}; choose one of {', '.join(CI_METHODS)}")


def estimate_mean(
    design: EstimationDesign,
    variables: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    ci: str = "logit",
    level: float = 0.95,
    df: DfMode = "design",
    on_empty: OnEmpty = "nan",
) -> pd.DataFrame:
    """Hájek means (proportions for 0/1 variables) by domain: :math:`\\sum w y 1_d / \\sum w 1_d`.

    R: ``svyby(~y, ~by, design, svymean, na.rm = TRUE, deff = TRUE)``; proportion intervals as ``svyciprop``.
    Variables whose observed values are all 0 or 1 get the proportion interval ``ci``; others get
    :math:`t_{df}` intervals.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The design.
    variables : str or sequence of str
        Numeric outcome columns (NaN = missing: the row leaves that variable's domain).
    by : str or sequence of str, optional
        Domain columns; rows with a missing key are in no domain.
    ci : {"logit", "beta", "wilson", "wald"}
        Interval for 0/1 variables (see :mod:`analysis.intervals`).
    level : float
        Confidence level.
    df : {"design", "domain"}
        ``"design"``: #PSU − #strata of the whole design (``confint(..., df = degf(design))``); ``"domain"``: PSUs
        minus strata containing the domain (what ``svyby(..., svyciprop)`` uses).
    on_empty : {"nan", "raise"}
        A domain without observations gives NaN, or raises :class:`~analysis.errors.EmptyDomainError`.

    Notes
    -----
    The Korn–Graubard interval uses ``n`` = the number of observations in the domain; R's ``svyciprop`` uses
    ``nrow(design)``, which is the same except for a domain of a calibrated design (R keeps every row there).
    """
    _check_interval(ci)
    cols = [variables] if isinstance(variables, str) else list(variables)
    by_cols = resolve_by(by)
    grouping = group_codes(design.data, by_cols)
    frames = []
    for col in cols:
        y = numeric_column(design.data, col)
        obs = ~np.isnan(y)
        term = RatioTerm(1.0, np.where(obs, y, 0.0), obs.astype(np.float64), obs)
        interval = ci if _is_binary(y) else "t"
        frames.append(
            estimate_linear(
                design, [term], grouping, variable=col, interval=interval, level=level, df=df, on_empty=on_empty
            )
        )
    return stack_by_domain(frames, by_cols)


def estimate_total(
    design: EstimationDesign,
    variables: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    level: float = 0.95,
    df: DfMode = "design",
    on_empty: OnEmpty = "nan",
) -> pd.DataFrame:
    """Horvitz–Thompson-type totals :math:`\\sum w y 1_d` by domain (R ``svytotal``, ``svyby(..., svytotal)``)."""
    cols = [variables] if isinstance(variables, str) else list(variables)
    by_cols = resolve_by(by)
    grouping = group_codes(design.data, by_cols)
    frames = []
    for col in cols:
        y = numeric_column(design.data, col)
        obs = ~np.isnan(y)
        term = RatioTerm(1.0, np.where(obs, y, 0.0), None, obs)
        frames.append(
            estimate_linear(design, [term], grouping, variable=col, interval="t", level=level, df=df, on_empty=on_empty)
        )
    return stack_by_domain(frames, by_cols)


def estimate_ratio(
    design: EstimationDesign,
    numerator: str,
    denominator: str,
    by: str | Sequence[str] | None = None,
    *,
    level: float = 0.95,
    df: DfMode = "design",
    on_empty: OnEmpty = "nan",
) -> pd.DataFrame:
    """Ratio :math:`\\sum w y 1_d/\\sum w x 1_d` by domain (R ``svyratio``); rows missing y or x are left out."""
    y = numeric_column(design.data, numerator)
    xv = numeric_column(design.data, denominator)
    obs = ~np.isnan(y) & ~np.isnan(xv)
    term = RatioTerm(1.0, np.where(obs, y, 0.0), np.where(obs, xv, 0.0), obs)
    by_cols = resolve_by(by)
    grouping = group_codes(design.data, by_cols)
    frame = estimate_linear(
        design,
        [term],
        grouping,
        variable=f"{numerator}/{denominator}",
        interval="t",
        level=level,
        df=df,
        on_empty=on_empty,
    )
    return stack_by_domain([frame], by_cols)


def estimate_proportion(
    design: EstimationDesign,
    variable: str,
    by: str | Sequence[str] | None = None,
    *,
    levels: Sequence[object] | None = None,
    ci: str = "logit",
    level: float = 0.95,
    df: DfMode = "design",
    on_empty: OnEmpty = "nan",
) -> pd.DataFrame:
    """Proportion of each category of ``variable`` by domain (R ``svyciprop(~I(v == level), ...)``).

    Rows where ``variable`` is missing are left out of the denominator. The result has a ``level`` column.
    """
    _check_interval(ci)
    require_columns(design.data, [variable], "variable")
    values = design.data[variable]
    obs = values.notna().to_numpy()
    cats = list(levels) if levels is not None else sorted(pd.unique(values[values.notna()]).tolist(), key=str)
    by_cols = resolve_by(by)
    grouping = group_codes(design.data, by_cols)
    frames = []
    for cat in cats:
        hit = (values == cat).fillna(False).to_numpy(dtype=bool) & obs
        term = RatioTerm(1.0, hit.astype(np.float64), obs.astype(np.float64), obs)
        frame = estimate_linear(
            design, [term], grouping, variable=variable, interval=ci, level=level, df=df, on_empty=on_empty
        )
        frame.insert(len(by_cols) + 1, "level", [cat] * len(frame))
        frames.append(frame)
    return stack_by_domain(frames, by_cols)


class DomainEstimators(ABC):
    """The estimators offered by every design class (Taylor and replicate), as methods.

    A subclass provides the estimation backend (``data``, ``weights``, ``variance_method``,
    ``degrees_of_freedom``, ``domain_variance``); the methods here call the module's functions with ``self``.
    """

    @property
    @abstractmethod
    def data(self) -> pd.DataFrame:
        """The respondents' data."""

    @property
    @abstractmethod
    def weights(self) -> FloatArray:
        """Full-sample (possibly calibrated) weights."""

    @property
    @abstractmethod
    def variance_method(self) -> str:
        """Name of the variance method."""

    @abstractmethod
    def degrees_of_freedom(self, dom: IntArray, n_dom: int, mode: DfMode) -> FloatArray:
        """Degrees of freedom per domain."""

    @abstractmethod
    def domain_variance(
        self, terms: Sequence[RatioTerm], x: FloatArray, dom: IntArray, n_dom: int, estimate: FloatArray
    ) -> FloatArray:
        """Variance of every domain's estimator."""

    def mean(
        self,
        variables: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        *,
        ci: str = "logit",
        level: float = 0.95,
        df: DfMode = "design",
        on_empty: OnEmpty = "nan",
    ) -> pd.DataFrame:
        """Hájek means / proportions by domain (R ``svyby(..., svymean, na.rm=TRUE, deff=TRUE)``).

        See :func:`analysis.estimators.estimate_mean`. Returns one row per domain and variable with ``n``,
        ``weight_sum``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``df``, ``deff``, ``deff_replace``,
        ``cv``, ``n_eff``, ``ci_method`` and ``variance_method``.
        """
        return estimate_mean(self, variables, by, ci=ci, level=level, df=df, on_empty=on_empty)

    def total(
        self,
        variables: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        *,
        level: float = 0.95,
        df: DfMode = "design",
        on_empty: OnEmpty = "nan",
    ) -> pd.DataFrame:
        """Totals by domain (R ``svytotal``); see :func:`analysis.estimators.estimate_total`."""
        return estimate_total(self, variables, by, level=level, df=df, on_empty=on_empty)

    def ratio(
        self,
        numerator: str,
        denominator: str,
        by: str | Sequence[str] | None = None,
        *,
        level: float = 0.95,
        df: DfMode = "design",
        on_empty: OnEmpty = "nan",
    ) -> pd.DataFrame:
        """Ratio of totals by domain (R ``svyratio``); see :func:`analysis.estimators.estimate_ratio`."""
        return estimate_ratio(self, numerator, denominator, by, level=level, df=df, on_empty=on_empty)

    def proportion(
        self,
        variable: str,
        by: str | Sequence[str] | None = None,
        *,
        levels: Sequence[object] | None = None,
        ci: str = "logit",
        level: float = 0.95,
        df: DfMode = "design",
        on_empty: OnEmpty = "nan",
    ) -> pd.DataFrame:
        """Proportion of each category (R ``svyciprop``); see :func:`analysis.estimators.estimate_proportion`."""
        return estimate_proportion(self, variable, by, levels=levels, ci=ci, level=level, df=df, on_empty=on_empty)

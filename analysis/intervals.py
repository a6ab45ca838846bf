"""Confidence intervals for survey means and proportions (vectorised over domains).

- Means: :math:`\\hat\\theta \\pm t_{df}\\,SE` (R ``confint(svymean(...), df = degf(design))``).
- Proportions (R ``svyciprop``):

  * ``"logit"`` (default): :math:`\\mathrm{expit}(\\mathrm{logit}\\,\\hat p \\pm t_{df}\\,SE/(\\hat p(1-\\hat p)))`,
    the Wald interval of the intercept of ``svyglm(y ~ 1, family = quasibinomial)``;
  * ``"beta"``: Korn & Graubard (1998): Clopper–Pearson on the effective sample size
    :math:`n^* = \\hat p(1-\\hat p)/\\hat V \\cdot (t_{n-1}/t_{df})^2`, :math:`x^* = n^*\\hat p`;
  * ``"wilson"``: Wilson's score interval on :math:`(x^*, n^*)` (as statsmodels ``proportion_confint`` given the
    effective counts);
  * ``"wald"``: :math:`\\hat p \\pm t_{df}\\,SE` (may leave [0, 1]; never the default).

When :math:`\\hat p \\in \\{0, 1\\}` or the variance is 0 the logit, beta and Wilson intervals are undefined and
returned as NaN.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special  # quantile functions; lighter to import than scipy.stats

from .errors import SurveyError

__all__ = [
    "CIMethod",
    "effective_sample_size",
    "korn_graubard_interval",
    "logit_interval",
    "proportion_interval",
    "t_interval",
    "wald_interval",
    "wilson_interval",
]

FloatArray = NDArray[np.float64]
CIMethod = Literal["logit", "beta", "wilson", "wald"]
CI_METHODS: tuple[str, ...] = get_args(CIMethod)


def _t_quantile(level: float, df: ArrayLike) -> FloatArray:
    if not 0 < level < 1:
        raise SurveyError(f"confidence level must be in (0, 1); got {level}")
    d = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = np.where(d > 0, special.stdtrit(np.where(d > 0, d, 1.0), 0.5 + level / 2), np.nan)
    out: FloatArray = np.asarray(q, dtype=np.float64)
    return out


def t_interval(estimate: ArrayLike, se: ArrayLike, df: ArrayLike, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Interval :math:`\\hat\\theta \\pm t_{df, 1-\\alpha/2} SE` (``df = inf`` gives the normal interval)."""
    est = np.asarray(estimate, dtype=np.float64)
    half = _t_quantile(level, df) * np.asarray(se, dtype=np.float64)
    return est - half, est + half


wald_interval = t_interval


def logit_interval(p: ArrayLike, se: ArrayLike, df: ArrayLike, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Logit-transformed interval (R ``svyciprop(method = "logit")``)."""
    pp = np.asarray(p, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    ok = (pp > 0) & (pp < 1) & (s > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.log(pp / (1 - pp))
        half = _t_quantile(level, df) * s / (pp * (1 - pp))
        lo = 1 / (1 + np.exp(-(centre - half)))
        hi = 1 / (1 + np.exp(-(centre + half)))
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def effective_sample_size(
    p: ArrayLike, se: ArrayLike, n: ArrayLike | None = None, df: ArrayLike | None = None, level: float = 0.95
) -> FloatArray:
    """Effective sample size of a proportion, :math:`\\hat p(1-\\hat p)/\\hat V`.

    With ``n`` and ``df`` it carries Korn & Graubard's degrees-of-freedom factor :math:`(t_{n-1}/t_{df})^2`.
    """
    pp = np.asarray(p, dtype=np.float64)
    v = np.asarray(se, dtype=np.float64) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(v > 0, pp * (1 - pp) / v, np.nan)
        if n is not None and df is not None:
            n_eff = n_eff * (_t_quantile(level, np.asarray(n, dtype=np.float64) - 1) / _t_quantile(level, df)) ** 2
    out: FloatArray = np.asarray(n_eff, dtype=np.float64)
    return out


def korn_graubard_interval(
    p: ArrayLike, se: ArrayLike, n: ArrayLike, df: ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Korn & Graubard (1998) Clopper–Pearson interval on the effective sample size (R ``method = "beta"``).

    ``n`` is the number of observations (R: ``nrow(design)``), ``df`` the design degrees of freedom.
    """
    pp = np.asarray(p, dtype=np.float64)
    n_eff = effective_sample_size(pp, se, n, df, level)
    alpha = 1 - level
    x = n_eff * pp
    with np.errstate(invalid="ignore"):
        lo = np.where(x > 0, special.betaincinv(x, n_eff - x + 1, alpha / 2), 0.0)
        hi = np.where(n_eff - x > 0, special.betaincinv(x + 1, n_eff - x, 1 - alpha / 2), 1.0)
    ok = np.isfinite(n_eff) & (pp > 0) & (pp < 1)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def wilson_interval(
    p: ArrayLike, se: ArrayLike, n: ArrayLike, df: ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval on the effective sample size :math:`n^*` (Korn–Graubard's, df-adjusted)."""
    pp = np.asarray(p, dtype=np.float64)
    n_eff = effective_sample_size(pp, se, n, df, level)
    z = float(special.ndtri(0.5 + level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + z * z / n_eff
        centre = (pp + z * z / (2 * n_eff)) / denom
        half = z / denom * np.sqrt(pp * (1 - pp) / n_eff + z * z / (4 * n_eff * n_eff))
    ok = np.isfinite(n_eff) & (pp > 0) & (pp < 1)
    return np.where(ok, centre - half, np.nan), np.where(ok, centre + half, np.nan)


def proportion_interval(
    method: str, p: ArrayLike, se: ArrayLike, n: ArrayLike, df: ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Dispatch to one of :data:`CI_METHODS` (``"logit"``, ``"beta"``, ``"wilson"``, ``"wald"``)."""
    if method == "logit":
        return logit_interval(p, se, df, level)
    if method == "beta":
        return korn_graubard_interval(p, se, n, df, level)
    if method == "wilson":
        return wilson_interval(p, se, n, df, level)
    if method == "wald":
        return wald_interval(p, se, df, level)
    raise SurveyError(f"unknown interval method {method!r}; choose one of {', '.join(CI_METHODS)}")

"""Small-area estimation: the Fay–Herriot area-level model.

The model (Fay & Herriot, 1979) links a direct design-based estimate :math:`\\hat\\theta_d` of each area
(commune) to area covariates :math:`x_d`:

.. math::

    \\hat\\theta_d = \\theta_d + e_d,\\quad e_d \\sim N(0, \\psi_d),\\qquad
    \\theta_d = x_d'\\beta + u_d,\\quad u_d \\sim N(0, \\sigma^2_u),

with :math:`\\psi_d` the (known) design variance of the direct estimate. The EBLUP is
:math:`\\tilde\\theta_d = \\gamma_d\\hat\\theta_d + (1-\\gamma_d)x_d'\\hat\\beta`,
:math:`\\gamma_d = \\hat\\sigma^2_u/(\\hat\\sigma^2_u + \\psi_d)`, and its MSE the second-order approximation of
Prasad & Rao (1990) for REML and of Datta & Lahiri (2000) for ML and the Fay–Herriot moment estimator.

The estimating algorithms and MSE formulas follow R's ``sae`` package (Molina & Marhuenda, 2015),
``eblupFH`` and ``mseFH``, and reproduce its results on its ``milk`` data.

References
----------
Fay, R. E. and Herriot, R. A. (1979). Estimates of income for small places: an application of James–Stein
procedures to census data. *JASA* 74, 269–277.
Prasad, N. G. N. and Rao, J. N. K. (1990). The estimation of the mean squared error of small-area estimators.
*JASA* 85, 163–171.
Datta, G. S. and Lahiri, P. (2000). A unified measure of uncertainty of estimated best linear unbiased
predictors in small area estimation problems. *Statistica Sinica* 10, 613–627.
Rao, J. N. K. and Molina, I. (2015). *Small Area Estimation*, 2nd ed., Wiley, chapter 6.
Molina, I. and Marhuenda, Y. (2015). sae: an R package for small area estimation. *The R Journal* 7, 81–98.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FayHerriotResult",
    "fay_herriot",
    "fay_herriot_table",
    "ratio_benchmark",
    "smooth_sampling_variances",
]

FloatArray = NDArray[np.float64]

_METHODS = ("reml", "ml", "fh")


@dataclass(frozen=True)
class FayHerriotResult:
    """Result of :func:`fay_herriot`; every array has one entry per area, in input order.

    Attributes
    ----------
    eblup : ndarray
        EBLUP :math:`\\tilde\\theta_d` for sampled areas; the synthetic estimate :math:`x_d'\\hat\\beta` for
        areas without a direct estimate (``sampled`` is False).
    mse : ndarray
        Estimated MSE: Prasad–Rao :math:`g_1+g_2+2g_3` (REML), Datta–Lahiri :math:`g_1+g_2+2g_3-b\\,B_d^2` (ML,
        FH), exactly as R ``sae::mseFH``; :math:`\\hat\\sigma^2_u + g_2` for unsampled areas.
    gamma : ndarray
        Shrinkage factor :math:`\\gamma_d = \\hat\\sigma^2_u/(\\hat\\sigma^2_u+\\psi_d)` in [0, 1]; 0 for unsampled
        areas.
    synthetic : ndarray
        Regression-synthetic estimate :math:`x_d'\\hat\\beta` (GLS fit).
    direct, vardir : ndarray
        The inputs (NaN where the area has no sample).
    sampled : ndarray of bool
        True where a direct estimate was available and used in the fit.
    g1, g2, g3 : ndarray
        Components of the MSE (``g3`` is 0 for unsampled areas).
    sigma2_u : float
        Estimated model variance :math:`\\hat\\sigma^2_u`, truncated at 0.
    beta, beta_se : ndarray
        GLS regression coefficients and their standard errors :math:`\\sqrt{\\mathrm{diag}(X'V^{-1}X)^{-1}}`.
    loglik, aic, bic : float
        Gaussian log-likelihood :math:`-\\tfrac12\\sum_d[\\log 2\\pi V_d + r_d^2/V_d]`,
        :math:`V_d = \\hat\\sigma^2_u+\\psi_d`, at the estimates (for every method, as ``sae::eblupFH``'s
        ``goodness``), AIC and BIC with p + 1 parameters.
    iterations : int
        Number of scoring iterations.
    method : str
        "reml", "ml" or "fh".
    converged : bool
        Whether the relative change of :math:`\\sigma^2_u` fell below ``tol`` within ``max_iter`` iterations.
    """

    eblup: FloatArray
    mse: FloatArray
    gamma: FloatArray
    synthetic: FloatArray
    direct: FloatArray
    vardir: FloatArray
    sampled: NDArray[np.bool_]
    g1: FloatArray
    g2: FloatArray
    g3: FloatArray
    sigma2_u: float
    beta: FloatArray
    beta_se: FloatArray
    loglik: float
    aic: float
    bic: float
    iterations: int
    method: str
    converged: bool

    @property
    def cv(self) -> FloatArray:
        """Coefficient of variation :math:`\\sqrt{\\mathrm{mse}}/|\\tilde\\theta|` (NaN where the estimate is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.where(self.eblup != 0, np.sqrt(self.mse) / np.abs(self.eblup), np.nan)
        return out


def _gls(y: FloatArray, vardir: FloatArray, X: FloatArray, a: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return (v = 1/(a + psi), Q = (X'V^-1 X)^-1, beta) for the GLS fit at model variance ``a``."""
    v = 1.0 / (a + vardir)
    xtvx = (X * v[:, None]).T @ X
    try:
        Q: FloatArray = np.asarray(np.linalg.inv(xtvx), dtype=np.float64)
    except np.linalg.LinAlgError as exc:
        raise ValueError("X'V^-1 X is singular: the covariates are collinear or an area dummy is empty") from exc
    beta = Q @ ((X * v[:, None]).T @ y)
    return v, Q, beta


def _score_and_information(
    method: str, y: FloatArray, vardir: FloatArray, X: FloatArray, a: float
) -> tuple[float, float]:
    """Score s(a) and (expected) information F(a) of the variance equation, as in ``sae::eblupFH``.

    REML: s = -tr(P)/2 + y'P'Py/2, F = tr(PP)/2, with P = V^-1 - V^-1 X Q X' V^-1 (Harville, 1977).
    ML: s = -tr(V^-1)/2 + y'P'Py/2, F = tr(V^-2)/2.
    FH: s = sum r_d^2/(a + psi_d) - (m - p), F = tr(V^-1), with r the GLS residuals (Fay & Herriot, 1979).
    The traces are taken with p x p matrices, never forming the m x m matrix P.
    """
    m, p = X.shape
    v, Q, beta = _gls(y, vardir, X, a)
    resid = y - X @ beta
    py = v * resid  # P y = V^-1 (y - X beta_hat)
    if method == "fh":
        return float(np.sum(resid**2 * v) - (m - p)), float(np.sum(v))
    ypPPy = float(py @ py)
    if method == "ml":
        return -0.5 * float(np.sum(v)) + 0.5 * ypPPy, 0.5 * float(np.sum(v**2))
    xv2x = (X * (v**2)[:, None]).T @ X
    xv3x = (X * (v**3)[:, None]).T @ X
    qa = Q @ xv2x
    tr_p = float(np.sum(v)) - float(np.trace(qa))
    tr_pp = float(np.sum(v**2)) - 2.0 * float(np.trace(Q @ xv3x)) + float(np.trace(qa @ qa))
    return -0.5 * tr_p + 0.5 * ypPPy, 0.5 * tr_pp


def _as_float_array(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def fay_herriot(
    direct: ArrayLike,
    vardir: ArrayLike,
    X: ArrayLike,
    method: str = "reml",
    *,
    max_iter: int = 100,
    tol: float = 1e-12,
) -> FayHerriotResult:
    """Fit the Fay–Herriot area-level model and return EBLUPs with their estimated MSE.

    The model variance :math:`\\sigma^2_u` is estimated by Fisher scoring from the median of ``vardir`` (as
    R ``sae::eblupFH``): REML (default), ML, or the Fay–Herriot (1979) moment equation
    :math:`\\sum_d r_d^2/(\\sigma^2_u+\\psi_d) = m - p`; it is truncated at 0. :math:`\\beta` is the GLS estimate
    given :math:`\\hat\\sigma^2_u`.

    MSE (as R ``sae::mseFH``), with :math:`V_d=\\hat\\sigma^2_u+\\psi_d` and :math:`B_d = \\psi_d/V_d`:

    - :math:`g_1 = \\gamma_d\\psi_d`, :math:`g_2 = B_d^2\\,x_d'(X'V^{-1}X)^{-1}x_d`,
      :math:`g_3 = B_d^2\\,\\bar V(\\hat\\sigma^2_u)/V_d`;
    - REML (Prasad & Rao, 1990; Datta & Lahiri, 2000): :math:`\\bar V = 2/\\sum_d V_d^{-2}`,
      MSE = :math:`g_1+g_2+2g_3`;
    - ML (Datta & Lahiri, 2000): same :math:`\\bar V`, MSE = :math:`g_1+g_2+2g_3-b\\,B_d^2` with the bias of
      the ML estimator :math:`b = -\\mathrm{tr}[(X'V^{-1}X)^{-1}X'V^{-2}X]/\\sum_d V_d^{-2}`;
    - FH (Datta, Rao & Smith, 2005): :math:`\\bar V = 2m/(\\sum_d V_d^{-1})^2`,
      :math:`b = 2[m\\sum_d V_d^{-2} - (\\sum_d V_d^{-1})^2]/(\\sum_d V_d^{-1})^3`, MSE as for ML.
      This MSE can be negative when :math:`\\hat\\sigma^2_u` is at or near 0 (sae returns it as it is, and so
      does this function); prefer REML then.

    Areas whose ``direct`` is NaN take no part in the fit; they get the synthetic estimate
    :math:`x_d'\\hat\\beta` with MSE :math:`\\hat\\sigma^2_u + x_d'(X'V^{-1}X)^{-1}x_d`, ``gamma`` 0 and
    ``sampled`` False (Rao & Molina, 2015, section 6.2.3).

    Parameters
    ----------
    direct : array_like, shape (m,)
        Direct estimates; NaN for areas without sample.
    vardir : array_like, shape (m,)
        Sampling variances :math:`\\psi_d` of the direct estimates, taken as known; must be > 0 where ``direct``
        is given (see :func:`smooth_sampling_variances` when the direct variance is 0 or unstable); ignored
        where ``direct`` is NaN.
    X : array_like, shape (m, p)
        Area covariates, including the intercept column if wanted (no column is added).
    method : {"reml", "ml", "fh"}
        Estimator of :math:`\\sigma^2_u` (case-insensitive).
    max_iter : int
        Maximum number of scoring iterations (``MAXITER`` in sae).
    tol : float
        Convergence tolerance on the relative change of :math:`\\sigma^2_u` (``PRECISION`` in sae, whose default
        1e-4 stops earlier).

    Returns
    -------
    FayHerriotResult

    Notes
    -----
    Unlike sae, which iterates without bounds and truncates at the end, the iteration is safeguarded: when a
    step would go below 0 and the score at 0 is not positive, the estimate is 0 (the maximum on the boundary)
    and the iteration stops as converged; a step that leaves the interval bracketed by the scores seen so
    far, or that shrinks by less than half, is replaced by bisection (Press et al., *Numerical Recipes*,
    ``rtsafe``). Where plain scoring converges the root is sae's (the milk data reproduce sae to 1e-9);
    where plain scoring oscillates (slowly, or for ever around 0) the safeguard still finds the root, and
    :math:`\\sigma^2_u + \\psi_d` stays positive along the way. When the iteration does not converge a
    ``RuntimeWarning`` is issued and the result carries ``converged=False`` (sae returns no estimates then).

    References
    ----------
    Fay & Herriot (1979); Prasad & Rao (1990); Datta & Lahiri (2000); Datta, Rao & Smith (2005), *Biometrika*
    92, 183–196; R package sae, functions ``eblupFH`` and ``mseFH``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(5), np.arange(5.0)])
    >>> res = fay_herriot([1.0, 1.4, 2.2, 2.9, 4.1], [0.1, 0.2, 0.1, 0.3, 0.2], X)
    >>> bool(np.all((res.gamma >= 0) & (res.gamma <= 1)))
    True
    """
    method_l = method.lower()
    if method_l not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    y_all = _as_float_array(direct, "direct")
    psi_all = _as_float_array(vardir, "vardir")
    X_all = np.asarray(X, dtype=np.float64)
    if X_all.ndim == 1:
        X_all = X_all[:, None]
    m_all = y_all.shape[0]
    if psi_all.shape[0] != m_all or X_all.shape[0] != m_all:
        raise ValueError(
            f"direct ({m_all}), vardir ({psi_all.shape[0]}) and X ({X_all.shape[0]}) must have the same number of rows"
        )
    if not np.all(np.isfinite(X_all)):
        raise ValueError("X contains NaN or infinite values")
    sampled = np.isfinite(y_all)
    bad_var = sampled & ~(np.isfinite(psi_all) & (psi_all > 0))
    if np.any(bad_var):
        idx = np.flatnonzero(bad_var).tolist()
        raise ValueError(
            f"vardir must be finite and > 0 for areas with a direct estimate; not so at positions {idx[:10]}"
            " (smooth the sampling variances, e.g. with smooth_sampling_variances)"
        )
    y = y_all[sampled]
    psi = psi_all[sampled]
    Xs = X_all[sampled]
    m, p = Xs.shape
    if m <= p:
        raise ValueError(f"need more sampled areas ({m}) than covariates ({p})")
    if np.linalg.matrix_rank(Xs) < p:
        raise ValueError("the covariate matrix of the sampled areas is not of full column rank")

    a = float(np.median(psi))
    # Fisher scoring as sae::eblupFH, safeguarded as Numerical Recipes' rtsafe: the scores seen so far bracket
    # the root in [lo, hi], and a step that leaves the bracket, or shrinks less than half, is replaced by
    # bisection (plain scoring can oscillate around the root slowly, or for ever around 0).
    lo, hi = 0.0, np.inf
    prev_step = np.inf
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        s, info = _score_and_information(method_l, y, psi, Xs, a)
        if s > 0:
            lo = max(lo, a)
        else:
            hi = min(hi, a)
        step = s / info
        a_new = a + step
        if a_new < 0.0 and lo == 0.0:
            s0, _ = _score_and_information(method_l, y, psi, Xs, 0.0)
            if s0 <= 0.0:
                a = 0.0  # the maximum (root) is on the boundary
                converged = True
                break
        if not lo <= a_new <= hi or (np.isfinite(hi) and abs(step) > 0.5 * abs(prev_step)):
            a_new = 0.5 * (lo + hi)
        prev_step = a_new - a
        diff = abs(a_new - a) / a if a > 0 else abs(a_new - a)
        a = a_new
        if diff < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"Fay–Herriot {method_l.upper()} scoring did not converge in {max_iter} iterations",
            RuntimeWarning,
            stacklevel=2,
        )
    sigma2_u = max(a, 0.0)

    v, Q, beta = _gls(y, psi, Xs, sigma2_u)
    synthetic_all = X_all @ beta
    resid = y - Xs @ beta
    gamma_s = sigma2_u * v
    eblup_s = synthetic_all[sampled] + gamma_s * resid

    # MSE, sae::mseFH
    big_b = psi * v
    xqx_all = np.einsum("ij,jk,ik->i", X_all, Q, X_all)
    sum_v2 = float(np.sum(v**2))
    if method_l == "fh":
        sum_v = float(np.sum(v))
        var_a = 2.0 * m / sum_v**2
        bias = 2.0 * (m * sum_v2 - sum_v**2) / sum_v**3
    else:
        var_a = 2.0 / sum_v2
        if method_l == "ml":
            bias = -float(np.trace(Q @ ((Xs * (v**2)[:, None]).T @ Xs))) / sum_v2
        else:
            bias = 0.0
    g1_s = psi * (1.0 - big_b)
    g2_s = big_b**2 * xqx_all[sampled]
    g3_s = big_b**2 * var_a * v
    mse_s = g1_s + g2_s + 2.0 * g3_s - bias * big_b**2

    nan = np.full(m_all, np.nan)
    eblup = synthetic_all.copy()
    eblup[sampled] = eblup_s
    gamma = np.zeros(m_all)
    gamma[sampled] = gamma_s
    g1 = np.full(m_all, sigma2_u)
    g1[sampled] = g1_s
    g2 = xqx_all.copy()
    g2[sampled] = g2_s
    g3 = np.zeros(m_all)
    g3[sampled] = g3_s
    mse = g1 + g2
    mse[sampled] = mse_s
    direct_out = nan.copy()
    direct_out[sampled] = y
    vardir_out = nan.copy()
    vardir_out[sampled] = psi

    loglik = -0.5 * float(np.sum(np.log(2.0 * np.pi * (sigma2_u + psi)) + resid**2 * v))
    return FayHerriotResult(
        eblup=eblup,
        mse=mse,
        gamma=gamma,
        synthetic=synthetic_all,
        direct=direct_out,
        vardir=vardir_out,
        sampled=sampled,
        g1=g1,
        g2=g2,
        g3=g3,
        sigma2_u=sigma2_u,
        beta=beta,
        beta_se=np.sqrt(np.diag(Q)),
        loglik=loglik,
        aic=-2.0 * loglik + 2.0 * (p + 1),
        bic=-2.0 * loglik + (p + 1) * float(np.log(m)),
        iterations=iterations,
        method=method_l,
        converged=converged,
    )


def ratio_benchmark(estimates: ArrayLike, weights: ArrayLike, target: float) -> FloatArray:
    """Ratio-benchmark area estimates so that their weighted mean equals an aggregate ``target``.

    :math:`\\tilde\\theta^b_d = \\tilde\\theta_d \\cdot T / \\sum_k W_k\\tilde\\theta_k`, with :math:`W_k` the weights
    normalised to sum to 1 (e.g. population shares of the communes in the province) and :math:`T` a reliable
    direct estimate of the aggregate (e.g. the province's design-based mean). Rao & Molina (2015), section 6.3.5.
    The MSE of the benchmarked estimates is not returned: the EBLUP MSE understates it.

    Parameters
    ----------
    estimates : array_like, shape (m,)
        Area estimates (EBLUP or synthetic), all finite.
    weights : array_like, shape (m,)
        Non-negative aggregation weights, not all 0.
    target : float
        The aggregate to match, on the scale of a weighted mean.

    Returns
    -------
    ndarray
        Benchmarked estimates; ``sum(w * out) / sum(w) == target``.
    """
    est = _as_float_array(estimates, "estimates")
    w = _as_float_array(weights, "weights")
    if est.shape != w.shape:
        raise ValueError("estimates and weights must have the same length")
    if not (np.all(np.isfinite(est)) and np.all(np.isfinite(w))):
        raise ValueError("estimates and weights must be finite")
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be non-negative and not all 0")
    agg = float(np.sum(w * est) / np.sum(w))
    if agg == 0.0:
        raise ValueError("the weighted aggregate of the estimates is 0: ratio benchmarking is undefined")
    out: FloatArray = est * (float(target) / agg)
    return out


def smooth_sampling_variances(
    estimate: ArrayLike,
    n: ArrayLike,
    vardir: ArrayLike | None = None,
    *,
    method: Literal["pooled", "gvf"] = "pooled",
    deff: float | None = None,
    p_bar: float | None = None,
    replace: Literal["all", "unstable"] = "all",
    min_n: int = 0,
) -> FloatArray:
    """Smoothed sampling variances :math:`\\psi_d` for the Fay–Herriot model, for proportions.

    The direct variance of a commune's proportion is 0 when :math:`\\hat p_d` is 0 or 1 and very noisy with few
    respondents; the Fay–Herriot model takes :math:`\\psi_d` as known, so it is smoothed first
    (Rao & Molina, 2015, section 6.4.1; methodology.md, "Small-area estimation").

    - ``"pooled"``: :math:`\\psi_d = \\mathrm{deff}\\cdot\\bar p(1-\\bar p)/n_d`, with :math:`\\bar p` the
      :math:`n`-weighted mean of the finite estimates (or ``p_bar``) and ``deff`` given, or estimated from the
      usable direct variances (finite, > 0, :math:`0<\\hat p_d<1`) as
      :math:`\\sum_d \\mathrm{vardir}_d / \\sum_d \\hat p_d(1-\\hat p_d)/n_d`, or 1 without ``vardir``.
    - ``"gvf"``: a generalised variance function :math:`\\log\\psi_d = a + b\\log n_d`, fitted by least squares
      on the usable direct variances (needs ``vardir`` and at least 3 usable areas).

    Parameters
    ----------
    estimate : array_like, shape (m,)
        Direct proportions :math:`\\hat p_d` (NaN where no sample).
    n : array_like, shape (m,)
        Respondents per area (> 0 where an estimate is given).
    vardir : array_like, optional
        Direct design variances; needed for ``method="gvf"``, ``replace="unstable"``, or to estimate ``deff``.
    method : {"pooled", "gvf"}
    deff : float, optional
        Design effect to use in the pooled formula.
    p_bar : float, optional
        Pooled proportion to use instead of the n-weighted mean.
    replace : {"all", "unstable"}
        ``"all"`` returns the smoothed value for every area; ``"unstable"`` keeps ``vardir`` where it is usable
        and ``n_d >= min_n`` and smooths the rest.
    min_n : int
        Areas with fewer respondents count as unstable.

    Returns
    -------
    ndarray
        :math:`\\psi_d` (NaN where ``n_d`` is not positive).
    """
    p_hat = _as_float_array(estimate, "estimate")
    n_arr = _as_float_array(n, "n")
    if p_hat.shape != n_arr.shape:
        raise ValueError("estimate and n must have the same length")
    vd = None if vardir is None else _as_float_array(vardir, "vardir")
    if vd is not None and vd.shape != p_hat.shape:
        raise ValueError("vardir must have the same length as estimate")
    has_n = np.isfinite(n_arr) & (n_arr > 0)
    usable = has_n & np.isfinite(p_hat) & (p_hat > 0) & (p_hat < 1)
    if vd is not None:
        usable &= np.isfinite(vd) & (vd > 0)
    safe_n = np.where(has_n, n_arr, np.nan)
    if method == "pooled":
        if p_bar is None:
            fin = has_n & np.isfinite(p_hat)
            if not np.any(fin):
                raise ValueError("no area with both an estimate and n > 0")
            p_bar = float(np.sum(p_hat[fin] * n_arr[fin]) / np.sum(n_arr[fin]))
        if deff is None:
            if vd is not None and np.any(usable):
                srs = p_hat[usable] * (1.0 - p_hat[usable]) / n_arr[usable]
                deff = float(np.sum(vd[usable]) / np.sum(srs))
            else:
                deff = 1.0
        smooth: FloatArray = deff * p_bar * (1.0 - p_bar) / safe_n
    elif method == "gvf":
        if vd is None:
            raise ValueError('method="gvf" needs vardir')
        if int(np.sum(usable)) < 3:
            raise ValueError('method="gvf" needs at least 3 areas with a usable direct variance')
        design = np.column_stack([np.ones(int(np.sum(usable))), np.log(n_arr[usable])])
        coef, *_ = np.linalg.lstsq(design, np.log(vd[usable]), rcond=None)
        smooth = np.exp(coef[0] + coef[1] * np.log(safe_n))
    else:
        raise ValueError(f'method must be "pooled" or "gvf", got {method!r}')
    if replace == "all":
        return smooth
    if replace != "unstable":
        raise ValueError(f'replace must be "all" or "unstable", got {replace!r}')
    if vd is None:
        raise ValueError('replace="unstable" needs vardir')
    keep = np.isfinite(vd) & (vd > 0) & has_n & (n_arr >= min_n) & np.isfinite(p_hat) & (p_hat > 0) & (p_hat < 1)
    out: FloatArray = np.where(keep, vd, smooth)
    return out


def _design_matrix(df: pd.DataFrame, covariates: Sequence[str], intercept: bool) -> FloatArray:
    parts: list[pd.DataFrame] = []
    if intercept:
        parts.append(pd.DataFrame({"(Intercept)": np.ones(len(df))}, index=df.index))
    for col in covariates:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(pd.DataFrame({col: s.astype("float64")}, index=df.index))
        else:
            # treatment contrasts with the first level as baseline, as R's model.matrix(~ factor)
            cat = s.astype("category")
            if cat.isna().any():
                raise ValueError(f"covariate {col!r} has missing values")
            dummies = pd.get_dummies(cat, prefix=col, drop_first=intercept, dtype="float64")
            parts.append(dummies)
    if not parts:
        raise ValueError("no covariates and no intercept")
    X = pd.concat(parts, axis=1).to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("covariates have missing values")
    return X


def fay_herriot_table(
    df: pd.DataFrame,
    *,
    area: str,
    estimate: str,
    variance: str,
    covariates: Sequence[str],
    method: str = "reml",
    intercept: bool = True,
    direct_if_cv_below: float | None = None,
    cv_threshold: float = 0.30,
    benchmark_weights: str | None = None,
    benchmark_target: float | None = None,
    max_iter: int = 100,
    tol: float = 1e-12,
) -> pd.DataFrame:
    """Fay–Herriot estimates per area as a tidy table saying which figure is direct and which model-based.

    Fits :func:`fay_herriot` with an intercept (unless ``intercept=False``) plus ``covariates``: numeric columns as
    they are, other columns as treatment dummies with the first level as baseline (R ``model.matrix``).

    Parameters
    ----------
    df : DataFrame
        One row per area.
    area, estimate, variance : str
        Columns with the area key, the direct estimate (NaN if the area has no sample) and its design variance.
    covariates : sequence of str
        Area-level covariate columns (no missing values).
    method : {"reml", "ml", "fh"}
    intercept : bool
    direct_if_cv_below : float, optional
        If given, areas whose direct CV is below it report the direct estimate (``estimate_type`` "direct").
    cv_threshold : float
        ``cv_flag`` is True where the reported CV exceeds it (default 30 %).
    benchmark_weights : str, optional
        Column of aggregation weights (e.g. population shares); adds ``estimate_benchmarked``, the ratio-benchmarked
        reported estimates (:func:`ratio_benchmark`).
    benchmark_target : float, optional
        Aggregate to benchmark to; by default the weighted mean of the direct estimates (all areas must then
        have one).
    max_iter, tol
        Passed to :func:`fay_herriot`.

    Returns
    -------
    DataFrame
        Columns ``area``, ``direct``, ``direct_var``, ``direct_cv``, ``synthetic``, ``eblup`` (the EBLUP, or
        the synthetic estimate for unsampled areas), ``mse`` (its MSE), ``gamma``, ``estimate`` and
        ``estimate_mse`` (the figure to report and its MSE), ``cv`` (of the reported figure), ``cv_flag``,
        ``estimate_type`` ("direct", "model-based" or "synthetic"), ``method``, and ``estimate_benchmarked``
        when asked. Attributes ``attrs["sigma2_u"]``, ``attrs["beta"]`` and ``attrs["converged"]`` describe the fit.
    """
    if df[area].duplicated().any():
        raise ValueError(f"column {area!r} has duplicated areas")
    X = _design_matrix(df, covariates, intercept)
    direct = df[estimate].to_numpy(dtype=np.float64, na_value=np.nan)
    psi = df[variance].to_numpy(dtype=np.float64, na_value=np.nan)
    res = fay_herriot(direct, psi, X, method, max_iter=max_iter, tol=tol)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct_cv = np.where(res.sampled & (direct != 0), np.sqrt(psi) / np.abs(direct), np.nan)
    est_type = np.where(res.sampled, "model-based", "synthetic").astype(object)
    est = res.eblup.copy()
    est_mse = res.mse.copy()
    if direct_if_cv_below is not None:
        use_direct = res.sampled & (direct_cv < direct_if_cv_below)
        est_type[use_direct] = "direct"
        est[use_direct] = direct[use_direct]
        est_mse[use_direct] = psi[use_direct]
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(est != 0, np.sqrt(est_mse) / np.abs(est), np.nan)
    out = pd.DataFrame(
        {
            "area": df[area].to_numpy(),
            "direct": res.direct,
            "direct_var": res.vardir,
            "direct_cv": direct_cv,
            "synthetic": res.synthetic,
            "eblup": res.eblup,
            "mse": res.mse,
            "gamma": res.gamma,
            "estimate": est,
            "estimate_mse": est_mse,
            "cv": cv,
            "cv_flag": ~(cv <= cv_threshold),
            "estimate_type": pd.Series(est_type, dtype="object").to_numpy(),
            "method": res.method,
        }
    )
    if benchmark_weights is not None:
        w = df[benchmark_weights].to_numpy(dtype=np.float64)
        if benchmark_target is None:
            if not np.all(res.sampled):
                raise ValueError("benchmark_target is needed when some areas have no direct estimate")
            benchmark_target = float(np.sum(w * direct) / np.sum(w))
        out["estimate_benchmarked"] = ratio_benchmark(est, w, benchmark_target)
    out.attrs["sigma2_u"] = res.sigma2_u
    out.attrs["beta"] = res.beta.tolist()
    out.attrs["converged"] = res.converged
    return out

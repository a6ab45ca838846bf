"""Tests of analysis.sae (Fay–Herriot) against R sae 1.3 reference values and independent computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import optimize

from analysis.sae import fay_herriot, fay_herriot_table, ratio_benchmark, smooth_sampling_variances

DATA = Path(__file__).resolve().parents[1] / "data"

# R: sae 1.3, eblupFH(yi ~ as.factor(MajorArea), vardir = SD^2, data = milk), REML converged to 1e-12
# (methodology.md, "Reference values").
MILK_SIGMA2U = 0.0185503347628
MILK_BETA = [0.968188986975, 0.132780305457, 0.226946224521, -0.241301039945]
MILK_EBLUP_1_6 = [1.021970544151, 1.047601951442, 1.067951426304, 0.760816565089, 0.846157043779, 0.974372706113]
MILK_MSE_1_6 = [
    0.01346025645965,
    0.00537287973294,
    0.00570199471705,
    0.00854175201865,
    0.00957960971366,
    0.01167065781787,
]


def milk_design() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], pd.DataFrame]:
    milk = pd.read_csv(DATA / "milk.csv")
    # model.matrix(~ as.factor(MajorArea)): intercept + dummies for areas 2, 3, 4 (area 1 is the baseline)
    X = np.column_stack([np.ones(len(milk))] + [(milk["MajorArea"] == k).to_numpy(float) for k in (2, 3, 4)])
    y = np.asarray(milk["yi"], dtype=np.float64)
    psi = np.asarray(milk["SD"] ** 2, dtype=np.float64)
    return y, psi, np.asarray(X, dtype=np.float64), milk


def test_milk_reml_matches_r_sae() -> None:
    y, psi, X, _ = milk_design()
    res = fay_herriot(y, psi, X)
    assert res.method == "reml" and res.converged
    np.testing.assert_allclose(res.sigma2_u, MILK_SIGMA2U, rtol=1e-6)
    np.testing.assert_allclose(res.beta, MILK_BETA, rtol=1e-6)
    np.testing.assert_allclose(res.eblup[:6], MILK_EBLUP_1_6, rtol=1e-6)
    np.testing.assert_allclose(res.mse[:6], MILK_MSE_1_6, rtol=1e-6)
    np.testing.assert_allclose(res.mse, res.g1 + res.g2 + 2 * res.g3, rtol=1e-14)


def test_milk_table_matches_r_sae() -> None:
    _, _, _, milk = milk_design()
    milk = milk.assign(var=milk["SD"] ** 2, major=milk["MajorArea"].astype(str))
    tab = fay_herriot_table(milk, area="SmallArea", estimate="yi", variance="var", covariates=["major"])
    np.testing.assert_allclose(tab["eblup"].to_numpy()[:6], MILK_EBLUP_1_6, rtol=1e-6)
    np.testing.assert_allclose(tab["mse"].to_numpy()[:6], MILK_MSE_1_6, rtol=1e-6)
    np.testing.assert_allclose(tab.attrs["sigma2_u"], MILK_SIGMA2U, rtol=1e-6)
    assert set(tab["estimate_type"]) == {"model-based"}
    np.testing.assert_allclose(tab["cv"], np.sqrt(tab["mse"]) / tab["eblup"].abs(), rtol=1e-14)


# ---------------------------------------------------------------- independent checks of the variance estimators


def _loglik_terms(
    a: float, y: NDArray[np.float64], psi: NDArray[np.float64], X: NDArray[np.float64]
) -> tuple[float, float]:
    """ML profile and REML log-likelihoods (up to constants), with dense m x m matrices."""
    V = np.diag(a + psi)
    Vi = np.linalg.inv(V)
    xtvix = X.T @ Vi @ X
    beta = np.linalg.solve(xtvix, X.T @ Vi @ y)
    r = y - X @ beta
    ml = -0.5 * (np.linalg.slogdet(V)[1] + r @ Vi @ r)
    reml = ml - 0.5 * np.linalg.slogdet(xtvix)[1]
    return float(ml), float(reml)


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_milk_likelihood_maximised(method: str) -> None:
    y, psi, X, _ = milk_design()
    res = fay_herriot(y, psi, X, method)
    k = 0 if method == "ml" else 1
    opt = optimize.minimize_scalar(
        lambda a: -_loglik_terms(a, y, psi, X)[k], bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-12}
    )
    np.testing.assert_allclose(res.sigma2_u, opt.x, rtol=1e-6)


def test_milk_fh_moment_equation_solved() -> None:
    y, psi, X, _ = milk_design()
    res = fay_herriot(y, psi, X, "fh")
    m, p = X.shape

    def moment(a: float) -> float:
        w = 1 / (a + psi)
        beta = np.linalg.solve((X * w[:, None]).T @ X, (X * w[:, None]).T @ y)
        return float(np.sum(w * (y - X @ beta) ** 2) - (m - p))

    np.testing.assert_allclose(res.sigma2_u, optimize.brentq(moment, 0.0, 1.0, xtol=1e-15), rtol=1e-9)


@pytest.mark.parametrize("method", ["reml", "ml", "fh"])
def test_mse_formulas_written_out(method: str) -> None:
    """MSE per area from the textbook formulas (Rao & Molina 2015, 6.2.1; Datta & Lahiri 2000), dense algebra."""
    y, psi, X, _ = milk_design()
    res = fay_herriot(y, psi, X, method)
    a = res.sigma2_u
    m = len(y)
    Vi = np.diag(1 / (a + psi))
    Q = np.linalg.inv(X.T @ Vi @ X)
    expected = []
    for d in range(m):
        gamma = a / (a + psi[d])
        g1 = gamma * psi[d]
        g2 = (1 - gamma) ** 2 * X[d] @ Q @ X[d]
        if method == "fh":
            s1 = np.trace(Vi)
            var_a = 2 * m / s1**2
            bias = 2 * (m * np.trace(Vi @ Vi) - s1**2) / s1**3
        else:
            var_a = 2 / np.trace(Vi @ Vi)
            bias = -np.trace(Q @ X.T @ Vi @ Vi @ X) * var_a / 2 if method == "ml" else 0.0
        g3 = psi[d] ** 2 * (a + psi[d]) ** -3 * var_a
        expected.append(g1 + g2 + 2 * g3 - bias * (psi[d] / (a + psi[d])) ** 2)
    np.testing.assert_allclose(res.mse, expected, rtol=1e-12)
    np.testing.assert_allclose(res.beta_se, np.sqrt(np.diag(Q)), rtol=1e-12)


# ---------------------------------------------------------------- properties

area_data = st.integers(min_value=6, max_value=40).flatmap(
    lambda m: st.tuples(
        st.lists(st.floats(-5, 5), min_size=m, max_size=m),
        st.lists(st.floats(0.01, 4.0), min_size=m, max_size=m),
        st.lists(st.floats(-3, 3), min_size=m, max_size=m),
    )
)


@settings(max_examples=60, deadline=None)
@given(area_data, st.sampled_from(["reml", "ml", "fh"]))
def test_gamma_in_unit_interval_and_eblup_between(
    data: tuple[list[float], list[float], list[float]], method: str
) -> None:
    y_l, psi_l, x_l = data
    y, psi, x = np.array(y_l), np.array(psi_l), np.array(x_l)
    X = np.column_stack([np.ones_like(x), x])
    if np.linalg.matrix_rank(X) < 2:
        return
    res = fay_herriot(y, psi, X, method)
    assert res.converged
    assert res.sigma2_u >= 0
    assert np.all((res.gamma >= 0) & (res.gamma <= 1))
    # the EBLUP lies between the direct and the synthetic estimate
    lo, hi = np.minimum(y, res.synthetic), np.maximum(y, res.synthetic)
    assert np.all(res.eblup >= lo - 1e-12) and np.all(res.eblup <= hi + 1e-12)
    if method != "fh":  # the FH-moment MSE subtracts a bias term and can be negative at sigma2_u = 0 (as sae)
        assert np.all(res.mse > 0)


@settings(max_examples=60, deadline=None)
@given(area_data, st.sampled_from(["reml", "ml", "fh"]))
def test_zero_model_variance_gives_gls_synthetic(
    data: tuple[list[float], list[float], list[float]], method: str
) -> None:
    y_l, psi_l, x_l = data
    psi, x = np.array(psi_l), np.array(x_l)
    X = np.column_stack([np.ones_like(x), x])
    if np.linalg.matrix_rank(X) < 2:
        return
    # shrink the residuals of an arbitrary response around its weighted LS fit until they are far smaller
    # than the sampling variances: the estimate of sigma2_u is then 0 for every method
    sw = 1 / np.sqrt(psi)
    coef = np.linalg.lstsq(X * sw[:, None], np.array(y_l) * sw, rcond=None)[0]
    r = np.array(y_l) - X @ coef
    scale = 1e-3 * np.sqrt(np.min(psi) / max(float(np.max(np.abs(r))), 1e-300))
    y = X @ coef + scale * r
    res = fay_herriot(y, psi, X, method)
    assert res.sigma2_u == 0.0
    assert res.converged
    np.testing.assert_array_equal(res.gamma, 0.0)
    # weighted least squares computed independently (weights 1/psi)
    wls = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    np.testing.assert_allclose(res.beta, wls, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.eblup, X @ wls, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.eblup, res.synthetic, rtol=0, atol=0)


@pytest.mark.parametrize("method", ["reml", "ml", "fh"])
def test_areas_without_sample_get_synthetic_estimates(method: str) -> None:
    y, psi, X, _ = milk_design()
    missing = np.array([4, 17, 30])
    y_nan, psi_nan = y.copy(), psi.copy()
    y_nan[missing] = np.nan
    psi_nan[missing[:2]] = np.nan  # variance of an unsampled area is irrelevant, NaN or not
    full = fay_herriot(y_nan, psi_nan, X, method)
    keep = np.setdiff1d(np.arange(len(y)), missing)
    sub = fay_herriot(y[keep], psi[keep], X[keep], method)
    np.testing.assert_allclose(full.sigma2_u, sub.sigma2_u, rtol=1e-14)
    np.testing.assert_allclose(full.eblup[keep], sub.eblup, rtol=1e-14)
    np.testing.assert_allclose(full.mse[keep], sub.mse, rtol=1e-14)
    assert not full.sampled[missing].any() and full.sampled[keep].all()
    np.testing.assert_allclose(full.eblup[missing], X[missing] @ sub.beta, rtol=1e-14)
    np.testing.assert_array_equal(full.gamma[missing], 0.0)
    Vi = 1 / (sub.sigma2_u + psi[keep])
    Q = np.linalg.inv((X[keep] * Vi[:, None]).T @ X[keep])
    g2 = np.einsum("ij,jk,ik->i", X[missing], Q, X[missing])
    np.testing.assert_allclose(full.mse[missing], sub.sigma2_u + g2, rtol=1e-12)

    df = pd.DataFrame({"area": np.arange(len(y)), "y": y_nan, "v": psi_nan, "x": X[:, 1]})
    tab = fay_herriot_table(df, area="area", estimate="y", variance="v", covariates=["x"], method=method)
    assert list(tab.loc[missing, "estimate_type"]) == ["synthetic"] * 3
    assert (tab.loc[keep, "estimate_type"] == "model-based").all()
    assert tab.loc[missing, "direct"].isna().all()


def test_table_direct_rows_and_flags() -> None:
    y, psi, _, milk = milk_design()
    df = milk.assign(v=psi, major=milk["MajorArea"].astype(str))
    direct_cv = np.sqrt(psi) / np.abs(y)
    tab = fay_herriot_table(
        df, area="SmallArea", estimate="yi", variance="v", covariates=["major"], direct_if_cv_below=0.1
    )
    is_direct = (tab["estimate_type"] == "direct").to_numpy()
    np.testing.assert_array_equal(is_direct, direct_cv < 0.1)
    assert is_direct.any() and not is_direct.all()
    np.testing.assert_allclose(tab.loc[is_direct, "estimate"], y[is_direct])
    np.testing.assert_allclose(tab.loc[is_direct, "estimate_mse"], psi[is_direct])
    np.testing.assert_allclose(tab.loc[~is_direct, "estimate"], tab.loc[~is_direct, "eblup"])
    np.testing.assert_array_equal(tab["cv_flag"], tab["cv"] > 0.30)
    assert list(tab.columns[:3]) == ["area", "direct", "direct_var"]
    for col in ("eblup", "mse", "gamma", "cv", "estimate_type"):
        assert col in tab.columns


def test_ratio_benchmark() -> None:
    y, psi, X, milk = milk_design()
    res = fay_herriot(y, psi, X)
    w = milk["ni"].to_numpy(float)
    target = float(np.sum(w * y) / np.sum(w))
    bench = ratio_benchmark(res.eblup, w, target)
    np.testing.assert_allclose(np.sum(w * bench) / np.sum(w), target, rtol=1e-14)
    ratio = bench / res.eblup
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-14)
    tab = fay_herriot_table(
        milk.assign(v=psi, major=milk["MajorArea"].astype(str)),
        area="SmallArea",
        estimate="yi",
        variance="v",
        covariates=["major"],
        benchmark_weights="ni",
    )
    np.testing.assert_allclose(tab["estimate_benchmarked"], bench, rtol=1e-12)


def test_smooth_sampling_variances() -> None:
    p = np.array([0.0, 0.5, 1.0, 0.8, 0.6, np.nan])
    n = np.array([4, 30, 3, 50, 20, 0])
    psi = smooth_sampling_variances(p, n, deff=1.5)
    p_bar = (0 * 4 + 0.5 * 30 + 1 * 3 + 0.8 * 50 + 0.6 * 20) / (4 + 30 + 3 + 50 + 20)
    np.testing.assert_allclose(psi[:5], 1.5 * p_bar * (1 - p_bar) / n[:5], rtol=1e-14)
    assert np.isnan(psi[5])
    # deff estimated from the usable direct variances as a ratio of sums
    vd = np.array([0.0, 0.02, 0.0, 0.005, 0.03, np.nan])
    usable = [1, 3, 4]
    deff = vd[usable].sum() / np.sum(p[usable] * (1 - p[usable]) / n[usable])
    np.testing.assert_allclose(smooth_sampling_variances(p, n, vd)[:5], deff * p_bar * (1 - p_bar) / n[:5])
    kept = smooth_sampling_variances(p, n, vd, deff=1.5, replace="unstable", min_n=25)
    np.testing.assert_allclose(kept[[1, 3]], vd[[1, 3]])
    np.testing.assert_allclose(kept[[0, 2, 4]], psi[[0, 2, 4]])
    # a GVF recovers an exact power law
    n2 = np.array([5.0, 10, 20, 40, 80])
    vd2 = 0.7 * n2**-1.2
    np.testing.assert_allclose(smooth_sampling_variances(np.full(5, 0.5), n2, vd2, method="gvf"), vd2, rtol=1e-10)


def test_invalid_inputs() -> None:
    y, psi, X, _ = milk_design()
    bad = psi.copy()
    bad[3] = 0.0
    with pytest.raises(ValueError, match="vardir"):
        fay_herriot(y, bad, X)
    with pytest.raises(ValueError, match="method"):
        fay_herriot(y, psi, X, "mom")
    with pytest.raises(ValueError, match="full column rank"):
        fay_herriot(y, psi, np.column_stack([X, X[:, 1]]))


def test_non_convergence_is_reported() -> None:
    y, psi, X, _ = milk_design()
    with pytest.warns(RuntimeWarning, match="did not converge"):
        res = fay_herriot(y, psi, X, max_iter=2)
    assert not res.converged and res.iterations == 2

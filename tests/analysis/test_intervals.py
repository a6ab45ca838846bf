"""Confidence intervals: statsmodels reference values, edge cases, and agreement with statsmodels/scipy."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import korn_graubard_interval, logit_interval, proportion_interval, t_interval, wilson_interval
from analysis.errors import SurveyError

from ._helpers import assert_close


def _se(p: float, n: float) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def test_wilson_and_beta_match_statsmodels_reference() -> None:
    """statsmodels proportion_confint(8, 20): the effective counts of an SRS are (8, 20); df = n − 1 keeps n* = n."""
    lo, hi = wilson_interval(0.4, _se(0.4, 20), 20, 19)
    assert_close(float(lo), 0.21880653237281705)
    assert_close(float(hi), 0.6134184992377469)
    lo, hi = korn_graubard_interval(0.4, _se(0.4, 20), 20, 19)
    assert_close(float(lo), 0.1911900607253072)
    assert_close(float(hi), 0.6394574126925103)
    assert np.allclose(proportion_confint(8, 20, method="wilson"), (0.21880653237281705, 0.6134184992377469))


def test_effective_counts_agree_with_statsmodels() -> None:
    p, se, n, df = 0.3, 0.05, 200, 20
    n_star = p * (1 - p) / se**2 * (_tq(n - 1) / _tq(df)) ** 2
    for method, sm_method in (("wilson", "wilson"), ("beta", "beta")):
        ours = proportion_interval(method, p, se, n, df)
        theirs = proportion_confint(n_star * p, n_star, method=sm_method)
        assert np.allclose([float(ours[0]), float(ours[1])], theirs, rtol=1e-10)


def _tq(df: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


def test_logit_interval_formula_and_degenerate_cases() -> None:
    lo, hi = logit_interval(np.array([0.2, 0.0, 1.0]), np.array([0.05, 0.0, 0.0]), 10)
    half = _tq(10) * 0.05 / (0.2 * 0.8)
    assert_close(float(lo[0]), 1 / (1 + np.exp(-(np.log(0.25) - half))))
    assert_close(float(hi[0]), 1 / (1 + np.exp(-(np.log(0.25) + half))))
    assert np.isnan(lo[1:]).all() and np.isnan(hi[1:]).all()


def test_t_interval_uses_student_t() -> None:
    lo, hi = t_interval(10.0, 2.0, 5, level=0.9)
    from scipy import stats

    assert_close(float(hi) - 10.0, float(stats.t.ppf(0.95, 5)) * 2.0)
    assert_close(float(lo), 20.0 - float(hi))


def test_bad_method_and_level() -> None:
    with pytest.raises(SurveyError, match="unknown interval"):
        proportion_interval("exact", 0.5, 0.1, 10, 9)
    with pytest.raises(SurveyError, match="level"):
        t_interval(0.0, 1.0, 5, level=1.5)

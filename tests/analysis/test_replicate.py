"""Replicate designs: JK1/JKn structure, calibration re-run per replicate, seeded Rao–Wu bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import DesignError, SurveyDesign

from ._helpers import POP_SCH, POP_STYPE, api, assert_close


def test_jk1_replicate_weights_structure() -> None:
    rep = SurveyDesign(api(), weights="pw", psu="dnum").jk1()
    w = rep.replicate_weights()
    assert w.shape == (183, 15)
    d = api()
    first_psu = d["dnum"] == np.sort(d["dnum"].unique())[0]
    assert np.all(w[first_psu.to_numpy(), 0] == 0)
    np.testing.assert_allclose(w[~first_psu.to_numpy(), 0], d["pw"][~first_psu] * 15 / 14)
    with pytest.raises(DesignError, match="unstratified"):
        SurveyDesign(api(), weights="pw", strata="st2", psu="dnum").jk1()


def test_replicate_domain_estimates_equal_taylor_point_estimates() -> None:
    des = SurveyDesign(api(), weights="pw2", strata="st2", psu="dnum").rake({"stype": POP_STYPE, "sch.wide": POP_SCH})
    rep = (
        SurveyDesign(api(), weights="pw2", strata="st2", psu="dnum")
        .jkn()
        .rake({"stype": POP_STYPE, "sch.wide": POP_SCH})
    )
    np.testing.assert_allclose(rep.weights, des.weights, rtol=1e-8)  # both converged to 1e-10 × N
    taylor = des.mean(["api00", "yes"], by="big")
    jack = rep.mean(["api00", "yes"], by="big")
    np.testing.assert_allclose(jack["estimate"], taylor["estimate"], rtol=1e-8)
    # jackknife and linearisation SEs are close but not identical
    ratio = jack["se"].to_numpy() / taylor["se"].to_numpy()
    assert np.all((ratio > 0.8) & (ratio < 1.3)) and not np.allclose(ratio, 1.0, rtol=1e-6)
    assert "calibration re-run in every replicate: rake" in jack["variance_method"].iloc[0]


def test_calibration_is_rerun_in_each_replicate() -> None:
    rep = SurveyDesign(api(), weights="pw", psu="dnum").jk1().poststratify("stype", POP_STYPE)
    w = rep.replicate_weights()
    stype = api()["stype"].to_numpy()
    for r in range(w.shape[1]):
        for level, total in POP_STYPE.items():
            assert_close(w[stype == level, r].sum(), total)
    # a post-stratified total of the post-stratum indicator has no variance
    data_e = rep.data.assign(e=(rep.data["stype"] == "E").astype(float))
    rep_e = SurveyDesign(data_e, weights="pw", psu="dnum").jk1().poststratify("stype", POP_STYPE)
    assert rep_e.total("e")["se"].iloc[0] < 1e-9 * 4421


def test_trimming_is_rerun_in_each_replicate() -> None:
    rep = SurveyDesign(api(), weights="pw2", psu="dnum").jk1().trim(k=1.2)
    w = rep.replicate_weights()
    for r in range(w.shape[1]):
        col = w[:, r]
        assert col.max() <= 1.2 * np.median(col[col > 0]) * (1 + 1e-9)


def test_bootstrap_is_reproducible_and_close_to_taylor() -> None:
    des = SurveyDesign(api(), weights="pw", strata="st2", psu="dnum")
    a = des.bootstrap(400, seed=11).mean("api00")["se"].iloc[0]
    b = des.bootstrap(400, seed=11).mean("api00")["se"].iloc[0]
    c = des.bootstrap(400, seed=12).mean("api00")["se"].iloc[0]
    taylor = des.mean("api00")["se"].iloc[0]
    assert a == b and a != c
    assert 0.8 < a / taylor < 1.2


def test_bootstrap_factors_have_mean_one_without_fpc() -> None:
    rep = SurveyDesign(api(), weights="pw", strata="st2", psu="dnum").bootstrap(2000, seed=1)
    w = rep.replicate_weights() / api()["pw"].to_numpy()[:, None]
    assert abs(w.mean() - 1) < 0.02
    assert w.min() >= 0
